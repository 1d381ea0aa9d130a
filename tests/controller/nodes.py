"""Look at agents with an independent NETCONF client (plain ncclient), so
tests check what the nodes really run, not what the controller believes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lxml import etree
from ncclient import manager

from ransdn.yangdata import NAMESPACES, YangModels

_MODELS: YangModels | None = None
FILTERS = {
    "wifi": f'<wifi-node xmlns="{NAMESPACES["ransdn-wifi"]}"/>',
    "lte": f'<lte-cell xmlns="{NAMESPACES["ransdn-lte"]}"/>',
}
STATE_FILTERS = {
    "wifi": f'<wifi-node-state xmlns="{NAMESPACES["ransdn-wifi"]}"/>',
    "lte": f'<lte-cell-state xmlns="{NAMESPACES["ransdn-lte"]}"/>',
}


def models() -> YangModels:
    global _MODELS
    if _MODELS is None:
        _MODELS = YangModels()
    return _MODELS


def connect(agent: dict[str, Any], key: Path) -> manager.Manager:
    return manager.connect(host=agent["address"], port=agent["port"], username="tester",
                           key_filename=str(key), hostkey_verify=False, allow_agent=False,
                           look_for_keys=False, timeout=30)


def _json(data: etree._Element) -> dict:
    return models().xml_to_json("".join(etree.tostring(c, encoding="unicode") for c in data))


def running(agent: dict[str, Any], key: Path) -> dict:
    with connect(agent, key) as m:
        return _json(m.get_config("running", filter=("subtree", FILTERS[agent["kind"]])).data_ele)


def state(agent: dict[str, Any], key: Path) -> dict:
    with connect(agent, key) as m:
        return _json(m.get(filter=("subtree", STATE_FILTERS[agent["kind"]])).data_ele)


def vifs(agent: dict[str, Any], key: Path) -> dict[str, dict]:
    tree = running(agent, key).get("ransdn-wifi:wifi-node") or {}
    return {v["name"]: {**v, "radio": r["name"]} for r in tree.get("radio", []) for v in r.get("vif", [])}


def lte_slices(agent: dict[str, Any], key: Path) -> dict[str, dict]:
    tree = running(agent, key).get("ransdn-lte:lte-cell") or {}
    return {s["id"]: s for s in tree.get("slice", [])}


def snapshot(agents: list[dict[str, Any]], key: Path) -> str:
    """Every agent's running configuration, canonical, for before/after checks."""
    return json.dumps({a["name"]: running(a, key) for a in agents}, sort_keys=True)


def edit(agent: dict[str, Any], key: Path, config_xml: str) -> None:
    with connect(agent, key) as m:
        m.edit_config(target="candidate", config=config_xml)
        m.commit()


def rpc(agent: dict[str, Any], key: Path, xml: str) -> etree._Element:
    with connect(agent, key) as m:
        return etree.fromstring(m.dispatch(etree.fromstring(xml)).xml.encode())
