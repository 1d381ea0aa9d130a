"""Constants of the ``ransdn_airtime`` generic netlink family.

A mirror of ``kmod/uapi/ransdn_airtime.h``; ``tests/kernel/test_uapi_mirror.py``
checks that the two agree, name for name and value for value.
"""

from __future__ import annotations

from enum import IntEnum

GENL_NAME = "ransdn_airtime"
GENL_VERSION = 1
MCGRP_REPORT = "report"
QDISC_KIND = "airtime"
SHARE_FULL = 10000


class Cmd(IntEnum):
    UNSPEC = 0
    GET_PHY = 1
    SET_PHY = 2
    GET_VIF = 3
    SET_VIF = 4
    GET_STA = 5
    REPORT = 6


class Overhead(IntEnum):
    NONE = 0
    DCF = 1


class Source(IntEnum):
    ESTIMATE = 0
    TX_STATUS = 1


class RateSource(IntEnum):
    BASIC = 0
    TABLE = 1
    STATION_INFO = 2


class Attr(IntEnum):
    UNSPEC = 0
    PAD = 1
    IFINDEX = 2
    IFNAME = 3
    PHY_NAME = 4
    INTERVAL_US = 5
    INFLIGHT_BUDGET_US = 6
    OVERHEAD_MODEL = 7
    INFLIGHT_US = 8
    INFLIGHT_PACKETS = 9
    NUM_VIFS = 10
    TX_STATUS_SEEN = 11
    SHARE = 12
    CAP = 13
    QUEUE_LIMIT = 14
    ESTIMATED_US = 15
    MEASURED_US = 16
    STATUS_US = 17
    BORROWED_US = 18
    CREDIT_US = 19
    CONGESTION = 20
    SOURCE = 21
    BACKLOG_PACKETS = 22
    BACKLOG_BYTES = 23
    TX_PACKETS = 24
    TX_BYTES = 25
    DROPS = 26
    THROTTLED_US = 27
    BACKLOGGED_US = 28
    BYPASS_PACKETS = 29
    STATUS_PACKETS = 30
    ESTIMATE_PACKETS = 31
    UNTRACKED_PACKETS = 32
    STA_MAC = 33
    STA_RATE_KBPS = 34
    STA_RATE_SOURCE = 35
    STA_FRAME_US = 36
    VIF = 37
    TIMESTAMP_NS = 38
    INTERVALS = 39
    AGED_PACKETS = 40
    STALL_US = 41
