"""A standalone ``ransdn-agent --backend sim`` process: backend options from
--backend-config, and the simulated world rebuilt from persisted config
after a restart."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.support.agent_process import agent_process, start_agent_process

from .netconf_client import WIFI_NS, text

CONFIG = (
    f'<config><wifi-node xmlns="{WIFI_NS}"><radio><name>ant0</name><band>5ghz</band>'
    "<channel>44</channel><vif><name>wlan0</name><ssid>city</ssid><tenant>acme</tenant></vif>"
    "<vif><name>wlan1</name><ssid>guest</ssid><tenant>acme</tenant></vif></radio></wifi-node></config>"
)
STATE = ("subtree", f'<wifi-node-state xmlns="{WIFI_NS}"/>')
OPTIONS = {"radios": [{"name": "ant0", "mac": "02:11:22:33:44:00", "band": "5ghz",
                       "channel": 36, "supported_channels": [36, 40, 44, 48]}]}


def vifs(m) -> list[tuple[str, str]]:
    root = etree.fromstring(m.get(filter=STATE).data_xml.encode())
    return list(zip(text(root, "wifi-node-state/radio/vif/name", WIFI_NS),
                    text(root, "wifi-node-state/radio/vif/bssid", WIFI_NS)))


def test_sim_world_is_rebuilt_from_persisted_config_after_restart(tmp_path):
    with agent_process(tmp_path / "run1", kind="wifi", backend_options=OPTIONS, node_id="ap9") as agent:
        with agent.connect() as m:
            m.edit_config(target="candidate", config=CONFIG)
            m.commit()
            before = vifs(m)
        state_dir, key = agent.state_dir, agent.client_key
    assert before == [("wlan0", "02:11:22:33:44:00"), ("wlan1", "02:11:22:33:44:01")]
    with agent_process(tmp_path / "run2", kind="wifi", backend_options=OPTIONS, node_id="ap9",
                       state_dir=state_dir, client_key=key) as agent:
        with agent.connect() as m:
            assert vifs(m) == before
            root = etree.fromstring(m.get(filter=STATE).data_xml.encode())
            assert text(root, "wifi-node-state/radio/channel", WIFI_NS) == ["44"]


def test_bad_backend_options_stop_the_agent_with_the_reason(tmp_path):
    with pytest.raises(RuntimeError) as err:
        start_agent_process(tmp_path, kind="wifi", backend_options={"radios": [{"name": "phy0", "band": "60ghz"}]})
    assert "radios[0].band must be one of" in str(err.value)
