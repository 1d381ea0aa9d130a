"""Durable storage of intents (slices, nodes, airtime overrides) and events."""

from ransdn.store.sqlite import Event, Store, StoreError

__all__ = ["Event", "Store", "StoreError"]
