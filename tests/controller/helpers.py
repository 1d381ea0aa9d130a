"""Builders shared by the controller tests."""

from __future__ import annotations

from typing import Any

from ransdn.model.node import Node, RadioInfo


def wifi_node(name: str, radios: tuple[str, ...] = ("phy0",), channel: int = 6,
              scheduler: bool | None = True, max_vifs: int | None = None) -> Node:
    return Node(name, "wifi", "127.0.0.1", 830, "SHA256:" + "A" * 43,
                reported_radios=tuple(RadioInfo(r, "2.4ghz", channel, scheduler, max_vifs)
                                      for r in radios))


def lte_node(name: str) -> Node:
    return Node(name, "lte", "127.0.0.1", 830, "SHA256:" + "B" * 43)


def wifi_doc(tenant: str, ssid: str, share: float, nodes: list[str], **extra: Any) -> dict:
    return {"tenant": tenant, "wifi": {"ssid": ssid, "guaranteed_share": share,
                                       "nodes": [{"node": n} for n in nodes], **extra}}


def lte_doc(tenant: str, mnc: str, cells: list[str], mcc: str = "001", **extra: Any) -> dict:
    return {"tenant": tenant, "lte": {"plmn": {"mcc": mcc, "mnc": mnc},
                                      "mmes": [{"address": "192.0.2.1"}], "cells": cells, **extra}}
