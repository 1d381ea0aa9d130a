"""RFC 7951 configuration trees for the tests, the way libyang prints them."""

from __future__ import annotations


def vif(name: str, ssid: str, *, tenant: str = "acme", enabled: bool = True,
        share: str = "10", psk: str | None = None, **extra) -> dict:
    v = {"name": name, "ssid": ssid, "tenant": tenant, "enabled": enabled,
         "airtime": {"guaranteed-share": share}}
    if psk is not None:
        v["security"] = {"mode": "wpa2-psk", "psk": psk}
    v.update(extra)
    return v


def radio(name: str = "phy0", *vifs: dict, band: str = "2.4ghz", channel: int = 6) -> dict:
    r = {"name": name, "band": band, "channel": channel}
    if vifs:
        r["vif"] = list(vifs)
    return r


def wifi(*radios: dict) -> dict:
    return {"ransdn-wifi:wifi-node": {"radio": list(radios)}} if radios else {}


def lte_slice(sid: str, mcc: str = "001", mnc: str = "01", *, mmes=(("10.0.0.1", 36412),),
              imsis=(), prefixes=(), default: str = "reject") -> dict:
    acl = {"default-action": default}
    if imsis:
        acl["imsi"] = list(imsis)
    if prefixes:
        acl["imsi-prefix"] = list(prefixes)
    return {"id": sid, "tenant": f"t-{sid}", "plmn": {"mcc": mcc, "mnc": mnc},
            "mme": [{"address": a, "port": p} for a, p in mmes], "imsi-acl": acl}


def lte(*slices: dict, enabled: bool = True, **cell) -> dict:
    c = {"enabled": enabled, **{k.replace("_", "-"): v for k, v in cell.items()}}
    tree = {"cell": c}
    if slices:
        tree["slice"] = list(slices)
    return {"ransdn-lte:lte-cell": tree}


class BackendHarness:
    """A started SimBackend, the running config it was given, and what it notified."""

    state_tree = ""  # the operational-state container of the node kind

    def __init__(self, kind: str, node_id: str, tmp_path, options: dict, medium=None) -> None:
        import asyncio

        from agent.backends.base import BackendContext
        from agent.backends.sim import SimBackend

        ctx = BackendContext(kind=kind, node_id=node_id, state_dir=tmp_path, options=options)
        self.backend = SimBackend(ctx, medium=medium)
        self.events: list = []
        self.changed = asyncio.Event()
        self.running: dict = {}

    def _notify(self, event) -> None:
        self.events.append(event)
        self.changed.set()

    async def __aenter__(self):
        await self.backend.start(self._notify)
        return self

    async def __aexit__(self, *exc):
        await self.backend.stop()

    async def commit(self, tree: dict) -> None:
        await self.backend.apply(self.running, tree)
        self.running = tree

    async def state(self) -> dict:
        return (await self.backend.operational_state())[self.state_tree]

    async def rpc(self, name: str, **args) -> dict:
        """Call a ransdn-sim RPC; ``mac_address=`` becomes ``mac-address``."""
        return await self.backend.rpc(
            f"ransdn-sim:{name}", {k.replace("_", "-"): v for k, v in args.items()}
        )

    def take(self, name: str) -> list[dict]:
        """Bodies of the notifications called ``name``, removed from ``events``."""
        got = [e.body for e in self.events if e.name == name]
        self.events[:] = [e for e in self.events if e.name != name]
        return got
