"""The service-layer interface the global airtime scheduler uses: read the
operational state of all nodes, and apply per-vif airtime settings that
reconciliation then keeps (an overlay on the slices)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ransdn.model.errors import InvalidRequest
from ransdn.render import vif_name
from ransdn.service import AirtimeSetting, Controller, ControllerConfig

from . import nodes as agents
from .conftest import requires_agents, wifi_plan

pytestmark = [requires_agents, pytest.mark.slow]


async def test_airtime_overlay_applied_kept_and_cleared(farm_factory, keys, tmp_path):
    farm = farm_factory([wifi_plan("ap1"), wifi_plan("ap2")])
    ctl = Controller(ControllerConfig(db=tmp_path / "c.db", client_key=keys["controller"],
                                      reconcile_interval=3600))
    await ctl.start()
    try:
        for a in farm.inventory:
            await ctl.register_node({"name": a["name"], "kind": "wifi", "address": a["address"],
                                     "port": a["port"], "host_key": a["host_key_fingerprint"]})
        assert await ctl.wait_connected(["ap1", "ap2"], 30)
        for sid, share in (("a", 30), ("b", 20)):
            await ctl.create_slice({"id": sid, "tenant": sid, "wifi": {
                "ssid": sid.upper(), "guaranteed_share": share,
                "nodes": [{"node": "ap1"}, {"node": "ap2"}]}})

        vmap = {(v["node"], v["slice"]): v for v in ctl.vif_map()}
        assert len(vmap) == 4 and vmap[("ap1", "a")]["vif"] == vif_name("a", "phy0")
        assert vmap[("ap1", "a")]["guaranteed_share"] == Decimal("30")

        state = await ctl.read_operational_state()
        assert set(state) == {"ap1", "ap2"} and all(s.error is None for s in state.values())
        radio = state["ap1"].state["ransdn-wifi:wifi-node-state"]["radio"][0]
        assert {v["name"] for v in radio["vif"]} == {vif_name("a", "phy0"), vif_name("b", "phy0")}

        va = vif_name("a", "phy0")
        tx = await ctl.apply_airtime([AirtimeSetting("ap1", "phy0", va, Decimal("50"), Decimal("60"))])
        assert tx.ok and [n.node for n in tx.nodes] == ["ap1"]
        air = agents.vifs(farm.agent("ap1"), keys["tester"])[va]["airtime"]
        assert (float(air["guaranteed-share"]), float(air["cap"])) == (50, 60)
        assert float(agents.vifs(farm.agent("ap2"), keys["tester"])[va]["airtime"]
                     ["guaranteed-share"]) == 30
        # Reconciliation keeps the overlay instead of fighting it.
        results = await ctl.reconciler.check_all("test")
        assert all(not r.drift for r in results)

        before = agents.snapshot(farm.inventory, keys["tester"])
        with pytest.raises(InvalidRequest, match="more than 100 percent"):
            await ctl.apply_airtime([AirtimeSetting("ap1", "phy0", va, Decimal("90"))])
        with pytest.raises(InvalidRequest, match="unknown vifs"):
            await ctl.apply_airtime([AirtimeSetting("ap1", "phy0", "nope0", Decimal("1"))])
        assert agents.snapshot(farm.inventory, keys["tester"]) == before

        # A modify of the slice keeps the overlay on that vif.
        s = ctl.get_slice("a")
        await ctl.update_slice("a", {"tenant": "a", "wifi": {
            "ssid": "A", "guaranteed_share": 25, "nodes": [{"node": "ap1"}, {"node": "ap2"}]}},
            s.etag())
        assert float(agents.vifs(farm.agent("ap1"), keys["tester"])[va]["airtime"]
                     ["guaranteed-share"]) == 50
        assert float(agents.vifs(farm.agent("ap2"), keys["tester"])[va]["airtime"]
                     ["guaranteed-share"]) == 25
        # The slice's view says what is in force on each vif, and who set it.
        view = {v["node"]: v["airtime"] for v in ctl.slice_view(ctl.get_slice("a"))["wifi"]["vifs"]}
        assert view == {"ap1": {"guaranteed_share": 50.0, "cap": 60.0, "set_by": "global-scheduler"},
                        "ap2": {"guaranteed_share": 25.0, "cap": None, "set_by": "slice"}}

        tx = await ctl.clear_airtime()
        assert tx.ok and ctl.store.airtime_overrides() == []
        air = agents.vifs(farm.agent("ap1"), keys["tester"])[va]["airtime"]
        assert float(air["guaranteed-share"]) == 25 and "cap" not in air
        view = {v["node"]: v["airtime"] for v in ctl.slice_view(ctl.get_slice("a"))["wifi"]["vifs"]}
        assert view["ap1"] == {"guaranteed_share": 25.0, "cap": None, "set_by": "slice"}
    finally:
        await ctl.stop()
