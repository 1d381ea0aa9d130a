"""The linux backend: hostapd (multi-BSS), iw and the airtime kernel module.

Registered as ``linux`` (``agent.backends.linux:LinuxBackend``).
"""

from agent.backends.linux.backend import LinuxBackend

__all__ = ["LinuxBackend"]
