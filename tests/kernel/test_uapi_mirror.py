"""The Python mirror of the genetlink constants matches the C header."""

from __future__ import annotations

import re
from enum import IntEnum
from pathlib import Path

import pytest

from agent.backends.linux import airtime_uapi as uapi

HEADER = Path(__file__).resolve().parents[2] / "kmod" / "uapi" / "ransdn_airtime.h"


def c_enum(name: str) -> dict[str, int]:
    """Members of ``enum <name>`` in the header, with their values."""
    text = HEADER.read_text()
    body = re.search(r"enum %s \{(.*?)\};" % name, text, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    out, value = {}, -1
    for item in (i.strip() for i in body.split(",")):
        if not item:
            continue
        member, _, expr = item.partition("=")
        member = member.strip()
        if expr.strip():
            if not expr.strip().isdigit():
                continue          # the MAX aliases
            value = int(expr)
        else:
            value += 1
        if not member.startswith("__"):
            out[member] = value
    return out


def c_define(name: str) -> str:
    match = re.search(r"#define %s\s+(\S+)" % name, HEADER.read_text())
    assert match, name
    return match.group(1).strip('"')


@pytest.mark.parametrize("c_name,prefix,py", [
    ("ransdn_airtime_cmd", "RANSDN_AIRTIME_CMD_", uapi.Cmd),
    ("ransdn_airtime_attr", "RANSDN_AIRTIME_ATTR_", uapi.Attr),
    ("ransdn_airtime_overhead", "RANSDN_AIRTIME_OVERHEAD_", uapi.Overhead),
    ("ransdn_airtime_source", "RANSDN_AIRTIME_SOURCE_", uapi.Source),
    ("ransdn_airtime_rate_source", "RANSDN_AIRTIME_RATE_", uapi.RateSource),
])
def test_enums_match(c_name: str, prefix: str, py: type[IntEnum]) -> None:
    expected = {k[len(prefix):]: v for k, v in c_enum(c_name).items()}
    assert {m.name: m.value for m in py} == expected


def test_names_match() -> None:
    assert c_define("RANSDN_AIRTIME_GENL_NAME") == uapi.GENL_NAME
    assert int(c_define("RANSDN_AIRTIME_GENL_VERSION")) == uapi.GENL_VERSION
    assert c_define("RANSDN_AIRTIME_MCGRP_REPORT") == uapi.MCGRP_REPORT
    assert c_define("RANSDN_AIRTIME_QDISC_KIND") == uapi.QDISC_KIND
    assert int(c_define("RANSDN_AIRTIME_SHARE_FULL")) == uapi.SHARE_FULL
