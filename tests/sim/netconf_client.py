"""ncclient, the NETCONF client we did not write, driven from asyncio.

ncclient blocks, so every call goes to a worker thread at this one seam.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from ncclient import manager
from ncclient.xml_ import to_ele

WIFI_NS = "urn:ransdn:params:xml:ns:yang:ransdn-wifi"
LTE_NS = "urn:ransdn:params:xml:ns:yang:ransdn-lte"
SIM_NS = "urn:ransdn:params:xml:ns:yang:ransdn-sim"
NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
NOTIF_NS = "urn:ietf:params:xml:ns:netconf:notification:1.0"


@dataclass
class Event:
    name: str  # local name of the notification element
    namespace: str
    body: dict[str, str]  # leaf children (nested leaves flattened with '/')


class NetconfClient:
    def __init__(self, host: str, port: int, key_path: Path, username: str = "tester") -> None:
        self._args = dict(
            host=host, port=port, username=username, key_filename=str(key_path),
            hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=60,
        )
        self.m: manager.Manager | None = None

    async def __aenter__(self) -> "NetconfClient":
        self.m = await asyncio.to_thread(manager.connect, **self._args)
        return self

    async def __aexit__(self, *exc) -> None:
        if self.m is not None:
            await asyncio.to_thread(self.m.close_session)

    async def call(self, fn, *args, **kwargs):
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def edit_commit(self, config_xml: str) -> None:
        await self.call(self.m.edit_config, target="candidate", config=config_xml)
        await self.call(self.m.commit)

    async def running(self, subtree: str) -> etree._Element:
        reply = await self.call(self.m.get_config, "running", filter=("subtree", subtree))
        return reply.data_ele

    async def get(self, subtree: str) -> etree._Element:
        reply = await self.call(self.m.get, filter=("subtree", subtree))
        return reply.data_ele

    async def rpc(self, xml: str) -> etree._Element:
        reply = await self.call(self.m.dispatch, to_ele(xml))
        return etree.fromstring(reply.xml.encode())

    async def subscribe(self) -> None:
        await self.call(self.m.create_subscription)

    async def next_event(self, timeout: float = 10.0, *, name: str | None = None) -> Event:
        """The next notification (optionally: the next with this local name)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no {name or 'notification'} within {timeout}s")
            n = await self.call(self.m.take_notification, True, remaining)
            if n is None:
                continue
            event = parse_event(n.notification_xml)
            if name is None or event.name == name:
                return event


def parse_event(xml: str) -> Event:
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    body_el = next(c for c in root if etree.QName(c).localname != "eventTime")
    body: dict[str, str] = {}

    def walk(el, prefix: str) -> None:
        for child in el:
            key = prefix + etree.QName(child).localname
            if len(child):
                walk(child, key + "/")
            else:
                body[key] = (child.text or "").strip()

    walk(body_el, "")
    q = etree.QName(body_el)
    return Event(q.localname, q.namespace or "", body)


def text(root: etree._Element, path: str, ns: str) -> list[str]:
    """Texts of the elements at a '/'-separated path of local names in ns."""
    xpath = "./" + "/".join(f"n:{p}" for p in path.split("/"))
    return [e.text for e in root.xpath(xpath, namespaces={"n": ns})]
