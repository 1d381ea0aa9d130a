"""Fixtures for end-to-end controller tests: a controller key, the agents'
authorized_keys, an agent farm and a controller process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from ransdn.southbound.keys import load_or_create_client_key

from .processes import ControllerProcess, FarmProcess


def agents_available() -> bool:
    try:
        import agent.server  # noqa: F401
    except ImportError:
        return False
    return True


requires_agents = pytest.mark.skipif(not agents_available(),
                                     reason="the NETCONF agent (agent.server) is not in this tree")


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    """The controller's key, a tester's key, and authorized_keys with both."""
    ctl = load_or_create_client_key(tmp_path / "keys" / "controller_ed25519")
    tester = load_or_create_client_key(tmp_path / "keys" / "tester_ed25519", comment="tester")
    auth = tmp_path / "keys" / "authorized_keys"
    auth.write_text(ctl.public_line + "\n" + tester.public_line + "\n")
    return {"controller": ctl.private_path, "tester": tester.private_path, "authorized": auth}


def wifi_plan(name: str, channel: int = 6, **options: Any) -> dict[str, Any]:
    return {"name": name, "kind": "wifi",
            "radios": [{"name": "phy0", "band": "2.4ghz", "channel": channel}], "options": options}


def lte_plan(name: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "kind": "lte", "options": options}


@pytest.fixture
def farm_factory(tmp_path: Path, keys: dict[str, Path]) -> Iterator[Callable[..., FarmProcess]]:
    started: list[FarmProcess] = []

    def make(nodes: list[dict[str, Any]], name: str = "farm") -> FarmProcess:
        f = FarmProcess(tmp_path / name, nodes, keys["authorized"]).start()
        started.append(f)
        return f
    yield make
    for f in started:
        f.stop()


@pytest.fixture
def controller_factory(tmp_path: Path, keys: dict[str, Path]
                       ) -> Iterator[Callable[..., ControllerProcess]]:
    started: list[ControllerProcess] = []

    def make(*extra: str, token: str | None = None, db: Path | None = None) -> ControllerProcess:
        c = ControllerProcess(db or tmp_path / "controller.db", client_key=keys["controller"],
                              token=token, extra=list(extra)).start()
        started.append(c)
        return c
    yield make
    for c in started:
        c.stop()


def register_all(ctl: ControllerProcess, inventory: list[dict[str, Any]]) -> None:
    for a in inventory:
        status, _, body = ctl.request("POST", "/api/v1/nodes", {
            "name": a["name"], "kind": a["kind"], "address": a["address"], "port": a["port"],
            "host_key": a["host_key_fingerprint"]})
        assert status == 201, body


def wait_for(pred: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def wait_connected(ctl: ControllerProcess, names: list[str], timeout: float = 60.0) -> None:
    def ok() -> bool:
        nodes = {n["name"]: n for n in ctl.get("/api/v1/nodes")["items"]}
        return all(nodes[n]["connection"]["state"] == "connected" for n in names)
    try:
        wait_for(ok, timeout, "nodes to connect")
    except AssertionError:
        states = {n["name"]: n["connection"] for n in ctl.get("/api/v1/nodes")["items"]}
        raise AssertionError(f"nodes did not connect: {states}") from None
