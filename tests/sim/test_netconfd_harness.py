"""The netconfd harness gives ncclient a working reference server that
loads the project's modules and enforces them."""

from __future__ import annotations

import asyncio

import pytest
from ncclient import manager
from ncclient.operations import RPCError

from testbed.netconfd import Netconfd, tools_missing

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(bool(tools_missing()), reason=f"missing {tools_missing()}"),
]

LTE_NS = "urn:ransdn:params:xml:ns:yang:ransdn-lte"


def _cell(pci: int, mnc: str = "01") -> str:
    return f"""<config><lte-cell xmlns="{LTE_NS}">
      <cell><pci>{pci}</pci></cell>
      <slice><id>s1</id><tenant>acme</tenant>
        <plmn><mcc>001</mcc><mnc>{mnc}</mnc></plmn>
        <mme><address>10.0.0.1</address><port>36412</port></mme>
      </slice></lte-cell></config>"""


def _session(ep):
    return manager.connect(
        host=ep.address, port=ep.port, username=ep.username,
        key_filename=str(ep.key_path), hostkey_verify=False,
        allow_agent=False, look_for_keys=False, timeout=30,
    )


async def test_ncclient_edits_and_commits_on_netconfd():
    async with Netconfd() as ep:
        def drive() -> tuple[set[str], str, str]:
            with _session(ep) as m:
                caps = {c.split("?")[0] for c in m.server_capabilities}
                before = m.get_config("running").data_xml
                m.edit_config(target="candidate", config=_cell(42))
                m.commit()
                after = m.get_config("running").data_xml
                return caps, before, after

        caps, before, after = await asyncio.to_thread(drive)
    assert LTE_NS in caps
    assert "urn:ietf:params:netconf:capability:candidate:1.0" in caps
    assert "<pci>42</pci>" not in before
    assert "<pci>42</pci>" in after and "<mnc>01</mnc>" in after


async def test_netconfd_rejects_data_the_modules_forbid():
    async with Netconfd() as ep:
        def drive() -> tuple[RPCError | None, str]:
            with _session(ep) as m:
                m.edit_config(target="candidate", config=_cell(1))
                m.commit()
                error = None
                try:
                    m.edit_config(target="candidate", config=_cell(2, mnc="0101"))
                    m.commit()
                except RPCError as exc:
                    error = exc
                m.discard_changes()
                return error, m.get_config("running").data_xml

        error, running = await asyncio.to_thread(drive)
    assert error is not None and error.tag in {"invalid-value", "operation-failed"}
    assert "<pci>1</pci>" in running and "0101" not in running


async def test_two_instances_run_side_by_side():
    async with Netconfd() as a, Netconfd() as b:
        assert a.port != b.port and a.key_path != b.key_path
        for ep in (a, b):
            def capabilities(ep=ep) -> set[str]:
                with _session(ep) as m:
                    return set(m.server_capabilities)

            caps = await asyncio.to_thread(capabilities)
            assert any(LTE_NS in c for c in caps)
