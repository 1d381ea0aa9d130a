"""The sim backend end to end: real agents of a farm on 127.0.0.1, driven
over NETCONF/SSH by ncclient."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncssh
import pytest
from ncclient.operations import RPCError

from agent.farm import Farm, NodePlan, read_topology

from .netconf_client import LTE_NS, SIM_NS, WIFI_NS, NetconfClient, text

PSK = "00112233445566778899aabbccddeeff" * 2


@pytest.fixture
def client_key(tmp_path: Path) -> Path:
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = tmp_path / "id_ed25519"
    key.write_private_key(str(path))
    key.write_public_key(str(tmp_path / "authorized_keys"))
    return path


@pytest.fixture
async def farm(tmp_path: Path, client_key: Path):
    plans = [
        NodePlan("ap1", "wifi", options={"radios": [
            {"name": "phy0", "band": "2.4ghz", "channel": 6, "max_vifs": 4},
            {"name": "phy1", "band": "5ghz", "channel": 36}]}),
        NodePlan("cell1", "lte", options={"cell": {"s1_setup_delay": 0.05}}),
        NodePlan("ap-bad", "wifi", options={"fail_apply_when": {"ssid": "reject-me"}}),
    ]
    async with Farm(plans, state_dir=tmp_path / "farm", authorized_keys=tmp_path / "authorized_keys") as f:
        yield f


def session(farm: Farm, name: str, key: Path) -> NetconfClient:
    agent = farm.agent(name)
    return NetconfClient(agent.address, agent.port, key)


def wifi_xml(*radios: str) -> str:
    return f'<config><wifi-node xmlns="{WIFI_NS}">{"".join(radios)}</wifi-node></config>'


def radio_xml(name: str, vifs: str = "", band: str = "2.4ghz", channel: int = 6) -> str:
    return f"<radio><name>{name}</name><band>{band}</band><channel>{channel}</channel>{vifs}</radio>"


def vif_xml(name: str, ssid: str, enabled: bool = True, psk: str | None = None, share: str = "5") -> str:
    sec = f"<security><mode>wpa2-psk</mode><psk>{psk}</psk></security>" if psk else ""
    return (f"<vif><name>{name}</name><ssid>{ssid}</ssid><tenant>acme</tenant>"
            f"<enabled>{str(enabled).lower()}</enabled>{sec}"
            f"<airtime><guaranteed-share>{share}</guaranteed-share></airtime></vif>")


def delete_vif_xml(radio: str, vif: str) -> str:
    return (f'<config xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">'
            f'<wifi-node xmlns="{WIFI_NS}"><radio><name>{radio}</name>'
            f'<vif nc:operation="delete"><name>{vif}</name></vif></radio></wifi-node></config>')


WIFI_STATE = f'<wifi-node-state xmlns="{WIFI_NS}"/>'
LTE_STATE = f'<lte-cell-state xmlns="{LTE_NS}"/>'


def attach_xml(ssid: str, mac: str, radio: str = "phy0") -> str:
    return (f'<station-attach xmlns="{SIM_NS}"><radio>{radio}</radio><ssid>{ssid}</ssid>'
            f"<mac-address>{mac}</mac-address><tx-bitrate>72200</tx-bitrate></station-attach>")


async def test_vifs_come_and_go_with_config_and_are_notified(farm, client_key):
    async with session(farm, "ap1", client_key) as c, session(farm, "ap1", client_key) as listener:
        await listener.subscribe()
        await c.edit_commit(wifi_xml(radio_xml("phy0", vif_xml("wlan0", "city") + vif_xml("wlan1", "guest", psk=PSK))))
        state = await c.get(WIFI_STATE)
        assert sorted(text(state, "wifi-node-state/radio/vif/name", WIFI_NS)) == ["wlan0", "wlan1"]
        assert set(text(state, "wifi-node-state/radio/vif/oper-status", WIFI_NS)) == {"up"}
        assert PSK not in (await c.call(c.m.get)).data_xml
        ups = [await listener.next_event(name="vif-state-change") for _ in range(2)]
        assert sorted((e.body["vif"], e.body["oper-status"]) for e in ups) == [("wlan0", "up"), ("wlan1", "up")]
        assert all(e.namespace == WIFI_NS for e in ups)

        await c.edit_commit(wifi_xml(radio_xml("phy0", vif_xml("wlan0", "city", enabled=False))))
        down = await listener.next_event(name="vif-state-change")
        assert (down.body["vif"], down.body["oper-status"]) == ("wlan0", "down")
        await c.edit_commit(delete_vif_xml("phy0", "wlan1"))
        gone = await listener.next_event(name="vif-state-change")
        assert (gone.body["vif"], gone.body["oper-status"]) == ("wlan1", "down")
        state = await c.get(WIFI_STATE)
        assert text(state, "wifi-node-state/radio/vif/name", WIFI_NS) == ["wlan0"]
        assert text(state, "wifi-node-state/radio/vif/oper-status", WIFI_NS) == ["down"]


async def test_station_attach_by_ssid_over_netconf(farm, client_key):
    async with session(farm, "ap1", client_key) as c, session(farm, "ap1", client_key) as listener:
        await c.edit_commit(wifi_xml(radio_xml("phy0", vif_xml("wlan0", "city") + vif_xml("wlan1", "off", enabled=False))))
        await listener.subscribe()
        reply = await c.rpc(attach_xml("city", "02:aa:00:00:00:01"))
        assert text(reply, "vif", SIM_NS) == ["wlan0"]
        event = await listener.next_event(name="station-associated")
        assert event.body == {"radio": "phy0", "vif": "wlan0", "mac-address": "02:aa:00:00:00:01"}
        state = await c.get(WIFI_STATE)
        assert text(state, "wifi-node-state/radio/station/mac-address", WIFI_NS) == ["02:aa:00:00:00:01"]
        assert text(state, "wifi-node-state/radio/station/tx-bitrate", WIFI_NS) == ["72200"]

        for ssid, message in (("nobody", "no vif on radio phy0 broadcasts SSID 'nobody'"),
                              ("off", "vif wlan1 (SSID 'off') on radio phy0 is disabled")):
            with pytest.raises(RPCError) as err:
                await c.rpc(attach_xml(ssid, "02:aa:00:00:00:02"))
            assert err.value.tag == "operation-failed" and message in err.value.message

        # Removing the vif disassociates its station.
        await c.edit_commit(delete_vif_xml("phy0", "wlan0"))
        event = await listener.next_event(name="station-disassociated")
        assert event.body["mac-address"] == "02:aa:00:00:00:01"
        assert text(await c.get(WIFI_STATE), "wifi-node-state/radio/station/mac-address", WIFI_NS) == []


async def test_a_node_that_rejects_leaves_running_unchanged(farm, client_key):
    async with session(farm, "ap-bad", client_key) as c:
        await c.edit_commit(wifi_xml(radio_xml("phy0", vif_xml("wlan0", "city"))))
        before = (await c.call(c.m.get_config, "running")).data_xml
        await c.call(c.m.edit_config, target="candidate",
                     config=wifi_xml(radio_xml("phy0", vif_xml("wlan1", "reject-me"))))
        with pytest.raises(RPCError) as err:
            await c.call(c.m.commit)
        assert err.value.tag == "operation-failed"
        assert "refused SSID 'reject-me'" in err.value.message
        assert (await c.call(c.m.get_config, "running")).data_xml == before
        state = await c.get(WIFI_STATE)
        assert text(state, "wifi-node-state/radio/vif/name", WIFI_NS) == ["wlan0"]


async def test_radio_refuses_more_vifs_than_it_carries(farm, client_key):
    async with session(farm, "ap1", client_key) as c:
        vifs = "".join(vif_xml(f"wlan{i}", f"ssid{i}", share="1") for i in range(5))
        await c.call(c.m.edit_config, target="candidate", config=wifi_xml(radio_xml("phy0", vifs)))
        with pytest.raises(RPCError) as err:
            await c.call(c.m.commit)
        assert "radio phy0 can carry at most 4 vifs, not 5" in err.value.message
        await c.call(c.m.discard_changes)
        assert text(await c.get(WIFI_STATE), "wifi-node-state/radio/vif/name", WIFI_NS) == []


def cell_xml(*slices: str, enabled: bool = True) -> str:
    return (f'<config xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">'
            f'<lte-cell xmlns="{LTE_NS}" nc:operation="replace"><cell><pci>7</pci><enabled>{str(enabled).lower()}</enabled></cell>'
            f'{"".join(slices)}</lte-cell></config>')


def slice_xml(sid: str, mnc: str, *, imsis=(), prefixes=(), default="reject", mme="10.0.0.1") -> str:
    acl = "".join(f"<imsi>{i}</imsi>" for i in imsis) + "".join(f"<imsi-prefix>{p}</imsi-prefix>" for p in prefixes)
    return (f"<slice><id>{sid}</id><tenant>t-{sid}</tenant><plmn><mcc>001</mcc><mnc>{mnc}</mnc></plmn>"
            f"<mme><address>{mme}</address><port>36412</port></mme>"
            f"<imsi-acl><default-action>{default}</default-action>{acl}</imsi-acl></slice>")


def ue_attach_xml(imsi: str, mnc: str | None = "01") -> str:
    plmn = f"<plmn><mcc>001</mcc><mnc>{mnc}</mnc></plmn>" if mnc else ""
    return f'<ue-attach xmlns="{SIM_NS}"><imsi>{imsi}</imsi>{plmn}</ue-attach>'


async def wait_s1(c: NetconfClient, want: dict[str, str], timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = await c.get(LTE_STATE)
        addresses = text(state, "lte-cell-state/slice/mme/address", LTE_NS)
        states = text(state, "lte-cell-state/slice/mme/s1-state", LTE_NS)
        if dict(zip(addresses, states)) == want:
            return
        assert loop.time() < deadline, f"S1 states {dict(zip(addresses, states))}, want {want}"
        await asyncio.sleep(0.05)


async def test_lte_acl_admits_and_rejects_over_netconf(farm, client_key):
    async with session(farm, "cell1", client_key) as c, session(farm, "cell1", client_key) as listener:
        await listener.subscribe()
        await c.edit_commit(cell_xml(
            slice_xml("a", "01", imsis=["001010000000001"], prefixes=["0010199"]),
            slice_xml("b", "02", default="accept", mme="10.0.0.2")))
        up = {(await listener.next_event(name="s1-state-change")).body["address"] for _ in range(2)}
        assert up == {"10.0.0.1", "10.0.0.2"}

        async def attach(imsi, mnc="01"):
            reply = await c.rpc(ue_attach_xml(imsi, mnc))
            return (text(reply, "result", SIM_NS) + [None])[0], (text(reply, "cause", SIM_NS) + [None])[0]

        assert await attach("001010000000001") == ("accepted", None)           # exact IMSI
        assert await attach("001019912345678") == ("accepted", None)           # prefix
        assert await attach("001010000000002") == ("rejected", "imsi-not-allowed")  # default reject
        assert await attach("001027777777777", "02") == ("accepted", None)     # default accept
        assert await attach("001030000000001", "03") == ("rejected", "plmn-not-broadcast")
        rejected = await listener.next_event(name="ue-attach-rejected")
        assert rejected.body == {"imsi": "001010000000002", "plmn/mcc": "001", "plmn/mnc": "01",
                                 "cause": "imsi-not-allowed"}
        rejected = await listener.next_event(name="ue-attach-rejected")
        assert rejected.body["cause"] == "plmn-not-broadcast"

        state = await c.get(LTE_STATE)
        assert text(state, "lte-cell-state/rejected-attaches", LTE_NS) == ["2"]
        assert text(state, "lte-cell-state/slice/attached-ues", LTE_NS) == ["2", "1"]
        assert text(state, "lte-cell-state/slice/attach-accepted", LTE_NS) == ["2", "1"]
        assert text(state, "lte-cell-state/slice/attach-rejected", LTE_NS) == ["1", "0"]
        assert sorted(text(state, "lte-cell-state/slice/ue/imsi", LTE_NS)) == [
            "001010000000001", "001019912345678", "001027777777777"]

        # Removing slice b stops its PLMN being broadcast and detaches its UE.
        await c.edit_commit(cell_xml(slice_xml("a", "01", imsis=["001010000000001"], prefixes=["0010199"])))
        assert (await listener.next_event(name="s1-state-change")).body["s1-state"] == "down"
        assert await attach("001027777777777", "02") == ("rejected", "plmn-not-broadcast")
        state = await c.get(LTE_STATE)
        assert text(state, "lte-cell-state/slice/id", LTE_NS) == ["a"]
        assert text(state, "lte-cell-state/slice/broadcast", LTE_NS) == ["true"]


async def test_s1_state_machine_over_netconf(farm, client_key):
    async with session(farm, "cell1", client_key) as c, session(farm, "cell1", client_key) as listener:
        await listener.subscribe()
        await c.edit_commit(cell_xml(slice_xml("a", "01", default="accept")))
        event = await listener.next_event(name="s1-state-change")
        assert event.body == {"slice": "a", "address": "10.0.0.1", "port": "36412", "s1-state": "up"}
        await c.rpc(f'<set-mme-reachable xmlns="{SIM_NS}"><address>10.0.0.1</address>'
                    "<reachable>false</reachable></set-mme-reachable>")
        assert (await listener.next_event(name="s1-state-change")).body["s1-state"] == "down"
        await wait_s1(c, {"10.0.0.1": "down"})
        reply = await c.rpc(ue_attach_xml("001010000000001"))
        assert text(reply, "cause", SIM_NS) == ["s1-down"]
        await c.rpc(f'<set-mme-reachable xmlns="{SIM_NS}"><address>10.0.0.1</address>'
                    "<reachable>true</reachable></set-mme-reachable>")
        assert (await listener.next_event(name="s1-state-change")).body["s1-state"] == "up"
        await wait_s1(c, {"10.0.0.1": "up"})
        assert text(await c.rpc(ue_attach_xml("001010000000001")), "result", SIM_NS) == ["accepted"]


async def test_wifi_rpc_on_a_cell_is_not_supported(farm, client_key):
    async with session(farm, "cell1", client_key) as c:
        with pytest.raises(RPCError) as err:
            await c.rpc(attach_xml("city", "02:aa:00:00:00:01"))
        assert err.value.tag == "operation-not-supported"


async def test_co_channel_nodes_of_a_farm_hear_and_contend(tmp_path, client_key):
    radio = lambda ch: {"radios": [{"name": "phy0", "band": "2.4ghz", "channel": ch}]}  # noqa: E731
    plans = [
        NodePlan("near-a", "wifi", position=(0, 0), options=radio(6)),
        NodePlan("near-b", "wifi", position=(20, 0), options=radio(6)),
        NodePlan("far", "wifi", position=(5000, 0), options=radio(6)),
    ]
    async with Farm(plans, state_dir=tmp_path / "city", authorized_keys=tmp_path / "authorized_keys") as city:
        bssids = {}
        for i, name in enumerate(("near-a", "near-b", "far")):
            async with session(city, name, client_key) as c:
                await c.edit_commit(wifi_xml(radio_xml("phy0", vif_xml("wlan0", f"ssid-{name}", share="10"))))
                await c.rpc(attach_xml(f"ssid-{name}", f"02:bb:00:00:00:0{i}"))
                await c.rpc(f'<set-traffic xmlns="{SIM_NS}"><radio>phy0</radio><vif>wlan0</vif>'
                            "<pattern>saturating</pattern></set-traffic>")
                state = await c.get(WIFI_STATE)
                bssids[name] = text(state, "wifi-node-state/radio/vif/bssid", WIFI_NS)[0]

        async def radio_state(name: str) -> dict[str, list[str]]:
            async with session(city, name, client_key) as c:
                state = await c.get(WIFI_STATE)
            return {p: text(state, f"wifi-node-state/radio/{p}", WIFI_NS) for p in (
                "neighbor/bssid", "neighbor/ssid", "neighbor/channel", "survey/rx-time", "survey/tx-time",
                "vif/counters/tx-bytes", "vif/airtime/measured")}

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while True:
            a, b, far = [await radio_state(n) for n in ("near-a", "near-b", "far")]
            moving = all(int(s["vif/counters/tx-bytes"][0]) > 0 for s in (a, b, far))
            if moving and int(a["survey/rx-time"][0]) > 0 and int(b["survey/rx-time"][0]) > 0:
                break
            assert loop.time() < deadline, (a, b, far)
            await asyncio.sleep(0.2)
        assert a["neighbor/bssid"] == [bssids["near-b"]] and a["neighbor/ssid"] == ["ssid-near-b"]
        assert a["neighbor/channel"] == ["6"]
        assert b["neighbor/bssid"] == [bssids["near-a"]]
        assert far["neighbor/bssid"] == []
        # Nobody the far node hears transmits, so it never senses the channel busy with others.
        assert far["survey/rx-time"] == ["0"]
        assert int(far["vif/airtime/measured"][0]) > 0


async def test_a_topology_hearing_graph_overrides_distance(tmp_path, client_key):
    topology = read_topology({
        "nodes": [{"name": n, "kind": "wifi", "position": p,
                   "radios": [{"name": "phy0", "band": "2.4ghz", "channel": 1}]}
                  for n, p in (("x", [0, 0]), ("y", [10, 0]), ("z", [4000, 0]))],
        "medium": {"hearing": [[["x", "phy0"], ["z", "phy0"]]]},
    })
    async with Farm(topology.nodes, propagation=topology.propagation, state_dir=tmp_path / "f",
                    authorized_keys=tmp_path / "authorized_keys") as city:
        for name in ("x", "y", "z"):
            async with session(city, name, client_key) as c:
                await c.edit_commit(wifi_xml(radio_xml("phy0", vif_xml("wlan0", f"s-{name}"), channel=1)))
        heard = {}
        for name in ("x", "y", "z"):
            async with session(city, name, client_key) as c:
                heard[name] = text(await c.get(WIFI_STATE), "wifi-node-state/radio/neighbor/ssid", WIFI_NS)
    assert heard == {"x": ["s-z"], "y": [], "z": ["s-x"]}
