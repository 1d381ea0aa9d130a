"""A Backend test double for exercising the NETCONF server on its own.

It records every ``apply``, can be told to fail, reports a little
operational state derived from the configuration, and raises notifications
on request.  It is importable by name, so a ``ransdn-agent`` subprocess can
use it: ``--backend tests.support.recording_backend:RecordingBackend``.

Options (``--backend-config`` JSON or ``AgentConfig.backend_options``):

``fail_on_ssid``
    apply() raises BackendError when a vif has this SSID.
``fail_on_plmn``
    apply() raises BackendError when a slice broadcasts this "MCCMNC".
``apply_log``
    path of a file to which each apply appends one JSON line {"old", "new"}.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from agent.backends.base import Backend, BackendContext, BackendError, JsonTree, Notification, NotifySink


class RecordingBackend(Backend):
    def __init__(self, context: BackendContext) -> None:
        super().__init__(context)
        self.applies: list[tuple[JsonTree, JsonTree]] = []
        self.fail_next: BackendError | None = None
        self.notify: NotifySink | None = None
        self.config: JsonTree = {}
        self.started = False
        self.stopped = False
        self.rpcs: list[tuple[str, JsonTree]] = []

    async def start(self, notify: NotifySink) -> None:
        self.notify = notify
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def apply(self, old: JsonTree, new: JsonTree) -> None:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        opts = self.context.options
        for radio in new.get("ransdn-wifi:wifi-node", {}).get("radio", []):
            for vif in radio.get("vif", []):
                if opts.get("fail_on_ssid") and vif.get("ssid") == opts["fail_on_ssid"]:
                    raise BackendError(
                        f"hostapd refused SSID {vif['ssid']!r}",
                        path=f"/ransdn-wifi:wifi-node/radio[name='{radio['name']}']/vif[name='{vif['name']}']/ssid",
                    )
        for sl in new.get("ransdn-lte:lte-cell", {}).get("slice", []):
            plmn = sl.get("plmn", {})
            if opts.get("fail_on_plmn") and plmn.get("mcc", "") + plmn.get("mnc", "") == opts["fail_on_plmn"]:
                raise BackendError(f"the eNB refused PLMN {opts['fail_on_plmn']}")
        self.applies.append((old, new))
        self.config = new
        if opts.get("apply_log"):
            with open(Path(opts["apply_log"]), "a") as f:
                f.write(json.dumps({"old": old, "new": new}) + "\n")

    async def operational_state(self) -> JsonTree:
        if self.context.kind == "wifi":
            radios = []
            for radio in self.config.get("ransdn-wifi:wifi-node", {}).get("radio", []):
                vifs = []
                for vif in radio.get("vif", []):
                    entry: dict[str, Any] = {"name": vif["name"], "ssid": vif["ssid"], "tenant": vif["tenant"],
                                             "oper-status": "up" if vif.get("enabled", True) else "down"}
                    psk = vif.get("security", {}).get("psk")
                    if psk:
                        entry["psk-sha256"] = hashlib.sha256(bytes.fromhex(psk)).hexdigest()
                    vifs.append(entry)
                radios.append({"name": radio["name"], "band": radio["band"], "channel": radio["channel"], "vif": vifs})
            return {"ransdn-wifi:wifi-node-state": {"node-id": self.context.node_id, "radio": radios}}
        slices = [
            {"id": s["id"], "tenant": s["tenant"], "broadcast": True, "attached-ues": 0}
            for s in self.config.get("ransdn-lte:lte-cell", {}).get("slice", [])
        ]
        return {"ransdn-lte:lte-cell-state": {"slice": slices, "rejected-attaches": "0"}}

    def raise_notification(self, name: str, body: JsonTree) -> None:
        assert self.notify is not None
        self.notify(Notification(name, body))
