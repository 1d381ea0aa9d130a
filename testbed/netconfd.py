"""Debian's netconfd (yuma123) as a reference NETCONF server, behind sshd.

netconfd does not speak SSH itself: OpenSSH accepts the connection and
runs ``netconf-subsystem``, which relays the session to netconfd's UNIX
socket.  This module runs a private pair of them per instance, so that
several test runs can share one machine:

- netconfd loads the project's YANG modules, uses the candidate datastore,
  listens on its own ``--ncxserver-sockname`` and keeps its state (yuma
  home, startup config, log) in a private directory;
- sshd has its own config, host key, PID file and a loopback port, accepts
  only one freshly generated client key and maps the port to that socket
  via ``netconf-subsystem --ncxserver-sockname=PORT@SOCKET``.

Known netconfd 2.13 (Debian 12) behaviour a test must allow for:

- XPath ``sum()`` over decimal64 leaves is misevaluated: the
  ``ransdn-wifi`` must "sum(vif/airtime/guaranteed-share) <= 100" rejects
  a radio whose shares total more than about 20 (e.g. 2 x 11), so
  interop configurations keep the total at or below 20.
- A request that reaches netconfd in the same read as the client's
  ``<hello>`` is never answered: send the first RPC only once the hello
  is out (ncclient's send queue ensures that unless bypassed).
- It writes its startup file in place on every commit, without fsync.

Usage::

    async with Netconfd(modules=("ransdn-wifi", "ransdn-lte")) as nc:
        manager.connect(host=nc.address, port=nc.port, username=nc.username,
                        key_filename=str(nc.key_path), hostkey_verify=False)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import asyncssh

REPO_ROOT = Path(__file__).resolve().parent.parent
YANG_DIR = REPO_ROOT / "yang"
#: Where Debian's yuma123 packages keep the ietf-* and yuma modules.
YUMA_MODULES = Path("/usr/share/yuma/modules")
NETCONFD = "/usr/sbin/netconfd"
NETCONF_SUBSYSTEM = "/usr/sbin/netconf-subsystem"
SSHD = "/usr/sbin/sshd"
#: Compiled into Debian's OpenSSH; sshd refuses to start without it.
SSHD_PRIVSEP_DIR = Path("/run/sshd")

DEFAULT_MODULES = ("ransdn-types", "ransdn-wifi", "ransdn-lte")


class NetconfdError(RuntimeError):
    """netconfd or its sshd failed to start; the message carries their logs."""


class _PortTaken(NetconfdError):
    pass


@dataclass(frozen=True)
class NetconfdEndpoint:
    """How an SSH NETCONF client reaches a running netconfd."""

    address: str
    port: int
    username: str
    key_path: Path
    host_key_fingerprint: str


def tools_missing() -> list[str]:
    """The executables this harness needs that are not installed."""
    return [p for p in (NETCONFD, NETCONF_SUBSYSTEM, SSHD) if not os.access(p, os.X_OK)]


def _free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Netconfd:
    """An async context manager running netconfd behind a private sshd.

    ``modules`` are loaded from ``yang_dir`` (then Debian's yuma modules).
    ``work_dir`` holds every file of the instance; by default a temporary
    directory removed on exit.
    """

    def __init__(
        self,
        modules: tuple[str, ...] = DEFAULT_MODULES,
        *,
        yang_dir: Path = YANG_DIR,
        work_dir: Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.modules = modules
        self.yang_dir = yang_dir
        self._work_dir_arg = work_dir
        self._startup_timeout = startup_timeout
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._procs: list[asyncio.subprocess.Process] = []
        self.work_dir: Path | None = None
        self.endpoint: NetconfdEndpoint | None = None

    async def __aenter__(self) -> NetconfdEndpoint:
        missing = tools_missing()
        if missing:
            raise NetconfdError(f"not installed: {', '.join(missing)} (run scripts/bootstrap)")
        if self._work_dir_arg is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ransdn-netconfd-")
            self.work_dir = Path(self._tmp.name)
        else:
            self.work_dir = self._work_dir_arg
            self.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.endpoint = await self._start(self.work_dir)
        except BaseException:
            await self._stop()
            raise
        return self.endpoint

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _start(self, work: Path) -> NetconfdEndpoint:
        sock = work / "ncxserver.sock"
        # A UNIX socket path must fit sun_path (108 bytes).
        if len(str(sock)) > 100:
            raise NetconfdError(f"work dir path too long for a UNIX socket: {work}")
        last_error = ""
        for _attempt in range(5):
            # netconfd only accepts sessions relayed from the SSH ports it
            # is told about, so the port is chosen before either starts.
            port = _free_loopback_port()
            await self._start_netconfd(work, sock, port)
            try:
                return await self._start_sshd(work, sock, port)
            except _PortTaken as exc:
                # Another process took the port between our probe and
                # sshd's bind; start over on another.
                last_error = str(exc)
                await self._stop_processes()
                sock.unlink(missing_ok=True)
        raise NetconfdError(f"sshd did not start: {last_error}")

    async def _start_netconfd(self, work: Path, sock: Path, port: int) -> None:
        home = work / "yuma"
        # netconfd keeps its transaction-id file in <yuma-home>/data.
        (home / "data").mkdir(parents=True, exist_ok=True)
        modpath = f"{self.yang_dir}:{YUMA_MODULES}"
        args = [
            NETCONFD,
            f"--modpath={modpath}",
            *(f"--module={m}" for m in self.modules),
            "--target=candidate",
            "--with-startup=false",
            f"--startup={work / 'startup-cfg.xml'}",
            "--access-control=off",
            f"--ncxserver-sockname={sock}",
            f"--port={port}",
            f"--yuma-home={home}",
            f"--log={work / 'netconfd.log'}",
            "--log-level=warn",
        ]
        # netconfd writes a fresh startup file on every commit; it needs
        # one to exist at boot when --startup names it.
        (work / "startup-cfg.xml").write_text(
            '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>\n'
        )
        env = {**os.environ, "HOME": str(home), "YUMA_HOME": str(home)}
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=work,
            env=env,
            start_new_session=True,
        )
        self._procs.append(proc)
        await self._wait_for(lambda: sock.exists(), proc, "netconfd", work / "netconfd.log")

    async def _start_sshd(self, work: Path, sock: Path, port: int) -> NetconfdEndpoint:
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        host_key_path = work / "ssh_host_ed25519_key"
        host_key.write_private_key(str(host_key_path))
        host_key_path.chmod(0o600)
        client_key = asyncssh.generate_private_key("ssh-ed25519", comment="ransdn-netconfd")
        key_path = work / "client_ed25519"
        client_key.write_private_key(str(key_path))
        key_path.chmod(0o600)
        authorized = work / "authorized_keys"
        authorized.write_text(client_key.export_public_key("openssh").decode())
        username = _login_user()
        if os.geteuid() == 0:
            SSHD_PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        config = work / "sshd_config"
        config.write_text(_sshd_config(port, host_key_path, authorized, work, sock, username))
        log = work / "sshd.log"
        log.unlink(missing_ok=True)
        proc = await asyncio.create_subprocess_exec(
            SSHD, "-D", "-f", str(config), "-E", str(log),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        self._procs.append(proc)
        await self._wait_for_banner(port, proc, log)
        return NetconfdEndpoint(
            address="127.0.0.1",
            port=port,
            username=username,
            key_path=key_path,
            host_key_fingerprint=host_key.get_fingerprint("sha256"),
        )

    async def _wait_for(self, ready, proc, name: str, log: Path) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._startup_timeout
        while not ready():
            if proc.returncode is not None:
                raise NetconfdError(f"{name} exited with {proc.returncode}: {_tail(log)}")
            if loop.time() > deadline:
                raise NetconfdError(f"{name} not ready after {self._startup_timeout}s: {_tail(log)}")
            await asyncio.sleep(0.05)

    async def _wait_for_banner(self, port: int, proc, log: Path) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._startup_timeout
        while True:
            if proc.returncode is not None:
                tail = _tail(log)
                if "Address already in use" in tail:
                    raise _PortTaken(tail)
                raise NetconfdError(f"sshd exited with {proc.returncode}: {tail}")
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                try:
                    banner = await asyncio.wait_for(reader.readline(), 5)
                finally:
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
                if banner.startswith(b"SSH-"):
                    return
            if loop.time() > deadline:
                raise NetconfdError(f"sshd not answering after {self._startup_timeout}s: {_tail(log)}")
            await asyncio.sleep(0.05)

    async def _stop_processes(self) -> None:
        # sshd first, so no new session reaches a dying netconfd.
        for proc in reversed(self._procs):
            await _terminate(proc)
        self._procs.clear()

    async def _stop(self) -> None:
        await self._stop_processes()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def pids(self) -> list[int]:
        """Process ids of netconfd and sshd (sessions run as sshd's children)."""
        return [p.pid for p in self._procs if p.returncode is None]

    def log_tail(self) -> str:
        """The end of netconfd's and sshd's logs, for failure messages."""
        if self.work_dir is None:
            return ""
        return "\n".join(
            f"--- {name}\n{_tail(self.work_dir / name)}" for name in ("netconfd.log", "sshd.log")
        )


def _login_user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _sshd_config(
    port: int, host_key: Path, authorized: Path, work: Path, sock: Path, user: str
) -> str:
    subsystem = f"{NETCONF_SUBSYSTEM} --ncxserver-sockname={port}@{sock}"
    return "\n".join(
        [
            f"ListenAddress 127.0.0.1:{port}",
            f"HostKey {host_key}",
            f"PidFile {work / 'sshd.pid'}",
            f"AuthorizedKeysFile {authorized}",
            f"AllowUsers {user}",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            # The temporary directory is not owned the way StrictModes wants.
            "StrictModes no",
            "AllowTcpForwarding no",
            "X11Forwarding no",
            "PrintMotd no",
            "LogLevel INFO",
            # Benchmarks open many sessions at once.
            "MaxStartups 100:30:200",
            "MaxSessions 100",
            f'Subsystem netconf "{subsystem}"',
            "",
        ]
    )


async def _terminate(proc: asyncio.subprocess.Process, timeout: float = 5.0) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        # Each server runs in its own session; take its children with it.
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), timeout)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main() -> None:
    """Run one instance in the foreground and print how to reach it."""
    import json

    async def run() -> None:
        async with Netconfd() as nc:
            print(json.dumps({**nc.__dict__, "key_path": str(nc.key_path)}), flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()

    asyncio.run(run())


if __name__ == "__main__":
    main()


__all__ = ["Netconfd", "NetconfdEndpoint", "NetconfdError", "tools_missing"]
