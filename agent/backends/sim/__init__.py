"""The sim backend: Wi-Fi nodes and LTE small cells of the test bed."""

from agent.backends.sim.backend import SimBackend

__all__ = ["SimBackend"]
