"""Start ``ransdn-agent-farm`` on a city, as a subprocess, and wait for its
inventory."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from testbed.city import City

BIN = Path(sys.executable).parent


class FarmError(RuntimeError):
    pass


def stop_process(proc: subprocess.Popen | None, timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if it does not exit within ``timeout``."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class CityFarm:
    """One agent-farm process hosting every node of a city on one medium."""

    def __init__(self, city: City, work: Path, authorized_keys: Path) -> None:
        self.city = city
        self.work = work
        self.authorized_keys = authorized_keys
        self.proc: subprocess.Popen[bytes] | None = None
        self.inventory: list[dict[str, Any]] = []
        self.log = work / "farm.log"

    def start(self, timeout: float = 120.0) -> "CityFarm":
        self.work.mkdir(parents=True, exist_ok=True)
        topology = self.work / "city.json"
        self.city.write(topology)
        inventory = self.work / "inventory.json"
        inventory.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [str(BIN / "ransdn-agent-farm"), "--topology", str(topology), "--state-dir", str(self.work / "agents"),
             "--authorized-keys", str(self.authorized_keys), "--inventory", str(inventory)],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))
        deadline = time.monotonic() + timeout
        while not inventory.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise FarmError(f"the agent farm did not start; log:\n{self.log.read_text(errors='replace')}")
            time.sleep(0.1)
        self.inventory = json.loads(inventory.read_text())
        return self

    def stop(self) -> None:
        stop_process(self.proc)

    def __enter__(self) -> "CityFarm":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
