"""Reading and writing RFC 7951 JSON values the way libyang prints them.

64-bit integers and decimal64 values travel as JSON strings; smaller
integers and booleans as JSON numbers and booleans.
"""

from __future__ import annotations

import time
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any


def to_int(value: Any, default: int = 0) -> int:
    """An integer leaf read from either encoding, or ``default`` if absent."""
    if value is None:
        return default
    return int(value)


def decimal64(value: float, fraction_digits: int, low: float | None = None, high: float | None = None) -> str:
    """A decimal64 value, clamped to the type's range, as RFC 7951 prints it."""
    if low is not None:
        value = max(low, value)
    if high is not None:
        value = min(high, value)
    quantum = Decimal(1).scaleb(-fraction_digits)
    return str(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_EVEN))


def uint64(value: int) -> str:
    return str(max(0, int(value)))


def int64(value: int) -> str:
    return str(int(value))


def gauge32(value: int) -> int:
    return max(0, min(int(value), 0xFFFFFFFF))


def date_and_time(epoch: float) -> str:
    """A ``yang:date-and-time`` in UTC with millisecond precision."""
    whole = int(epoch)
    millis = int((epoch - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"
