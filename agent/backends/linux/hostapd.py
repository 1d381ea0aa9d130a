"""One hostapd for all radios, driven through its global control interface.

Each BSS is added with ``ADD bss_config=<phy>:<file>`` and removed with
``REMOVE <ifname>``, so BSSes come and go without touching the others on
the radio.  hostapd cannot remove a radio's first BSS alone (it takes the
whole radio down); the backend rebuilds the radio in that case.  Events
from every BSS arrive on the global interface (``IFNAME=<vif> <3>...``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import Callable

from agent.backends.linux.actions import record
from agent.backends.linux.hostapd_config import BssConfig, HostapdRadio, render_bss_file
from agent.backends.linux.wpa_ctrl import Event, WpaCtrl, WpaCtrlError, parse_status

log = logging.getLogger(__name__)


class HostapdError(RuntimeError):
    """hostapd refused a change or did not come up."""


class Hostapd:
    def __init__(self, binary: str, run_dir: Path, on_event: Callable[[Event], None]) -> None:
        self.binary = binary
        self.run_dir = run_dir
        self.on_event = on_event
        self.proc: asyncio.subprocess.Process | None = None
        self.ctrl: WpaCtrl | None = None
        self._events: asyncio.Task | None = None

    @property
    def global_ctrl(self) -> Path:
        return self.run_dir / "global"

    @property
    def ctrl_dir(self) -> Path:
        return self.run_dir / "ctrl"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "hostapd.pid"

    async def start(self, timeout: float = 10) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._kill_stale()
        self.global_ctrl.unlink(missing_ok=True)
        log_file = open(self.run_dir / "hostapd.log", "ab")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                self.binary, "-g", str(self.global_ctrl), "-P", str(self.pid_file), "-t",
                stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=log_file,
            )
        except FileNotFoundError:
            raise HostapdError(f"{self.binary} is not installed") from None
        finally:
            log_file.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.global_ctrl.exists():
            if self.proc.returncode is not None or loop.time() > deadline:
                raise HostapdError("hostapd did not start; see " + str(self.run_dir / "hostapd.log"))
            await asyncio.sleep(0.05)
        self.ctrl = WpaCtrl(self.global_ctrl, timeout=20)
        await self.ctrl.open()
        await self.ctrl.attach()
        self._events = loop.create_task(self._pump())

    def _kill_stale(self) -> None:
        """A hostapd left by an agent that died would hold the radios."""
        try:
            pid = int(self.pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if b"hostapd" in cmdline and str(self.global_ctrl).encode() in cmdline:
            log.warning("stopping hostapd %d left over from a previous run", pid)
            os.kill(pid, signal.SIGTERM)

    async def _pump(self) -> None:
        assert self.ctrl is not None
        while True:
            event = await self.ctrl.next_event()
            try:
                self.on_event(event)
            except Exception:  # a broken listener must not stop the events
                log.exception("hostapd event handler failed on %r", event)

    async def stop(self) -> None:
        if self._events:
            self._events.cancel()
            self._events = None
        if self.ctrl:
            self.ctrl.close()
            self.ctrl = None
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.proc = None

    async def _request(self, command: str) -> str:
        record(f"hostapd {command}")
        if self.ctrl is None:
            raise HostapdError("hostapd is not running")
        try:
            return await self.ctrl.request(command, timeout=30)
        except WpaCtrlError as exc:
            raise HostapdError(str(exc)) from None

    async def add_bss(self, radio: HostapdRadio, bss: BssConfig) -> None:
        conf = self.run_dir / f"{bss.ifname}.conf"
        text = render_bss_file(radio, bss, str(self.ctrl_dir))
        conf.write_text(text)
        conf.chmod(0o600)
        await self._request(f"ADD bss_config={radio.phy}:{conf}")
        await self.wait_enabled(bss.ifname)

    async def remove_bss(self, ifname: str) -> None:
        await self._request(f"REMOVE {ifname}")
        (self.run_dir / f"{ifname}.conf").unlink(missing_ok=True)

    async def status(self, ifname: str) -> dict[str, str]:
        try:
            async with WpaCtrl(self.ctrl_dir / ifname) as ctrl:
                return parse_status(await ctrl.request("STATUS"))
        except WpaCtrlError:
            return {}

    async def wait_enabled(self, ifname: str, timeout: float = 30) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if (await self.status(ifname)).get("state") == "ENABLED":
                return
            await asyncio.sleep(0.1)
        raise HostapdError(f"{ifname} did not start beaconing; see {self.run_dir / 'hostapd.log'}")
