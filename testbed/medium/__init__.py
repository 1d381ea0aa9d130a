"""A simulated shared radio medium for the agents' sim backend.

- :mod:`.model`: the interface the sim backend codes against (``Medium``).
- :mod:`.shared`: :class:`~.shared.SharedMedium`, the implementation: DCF-like
  channel access, the kernel module's scheduling core on every radio,
  traffic, survey counters and neighbour lists.
- :mod:`.access`: which radios transmit when (slot-level DCF model).
- :mod:`.propagation`: who hears whom (range or explicit hearing graph).
- :mod:`.traffic`: traffic patterns.
"""
