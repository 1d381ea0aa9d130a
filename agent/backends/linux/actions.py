"""What the linux backend does to the world during one apply: every
command, hostapd request and generic netlink request, in order.

The backend logs the list with each apply (how long it took and what it
ran), and tests assert on it.  It is a context variable, so that state
reads running concurrently in other tasks do not show up in an apply's
list.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

_current: ContextVar[list[str] | None] = ContextVar("ransdn_linux_actions", default=None)


def record(action: str) -> None:
    """Note an action, if the current task is recording."""
    actions = _current.get()
    if actions is not None:
        actions.append(action)


@contextmanager
def recording() -> Iterator[list[str]]:
    """Collect the actions of the current task (and the tasks it starts)."""
    actions: list[str] = []
    token = _current.set(actions)
    try:
        yield actions
    finally:
        _current.reset(token)
