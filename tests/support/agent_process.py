"""Start a real ``ransdn-agent`` process for a test, and talk to it.

    from tests.support.agent_process import agent_process

    def test_something(tmp_path):
        with agent_process(tmp_path, kind="wifi", backend="sim") as agent:
            with agent.connect() as m:          # an ncclient Manager
                m.get_config(source="running")

The agent listens on 127.0.0.1 on a port the kernel picks (no races with
other tests), with its own state directory and a freshly generated client
key.  ``start_agent_process`` returns once the agent accepts connections
(it writes ``--ready-file``) and raises with the agent's log if it exits
first.  Teardown sends SIGTERM and waits; the agent must exit 0.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]

#: The NETCONF user name tests connect as; the agent accepts any.
USERNAME = "ransdn-test"


@dataclass(frozen=True)
class ClientKey:
    """An SSH client key pair on disk."""

    private_key: Path
    public_line: str


def make_client_key(directory: Path, name: str = "client_ed25519") -> ClientKey:
    """Generate an ed25519 client key pair under ``directory``."""
    import asyncssh

    directory.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="ransdn-test")
    path = directory / name
    key.write_private_key(str(path))
    os.chmod(path, 0o600)
    public = key.export_public_key().decode().strip()
    (directory / f"{name}.pub").write_text(public + "\n")
    return ClientKey(path, public)


def ncclient_kwargs(host: str, port: int, client_key: ClientKey, host_key: str, **overrides: Any) -> dict[str, Any]:
    """``ncclient.manager.connect`` arguments for an agent: key
    authentication, and the host key checked against ``host_key`` (an
    OpenSSH public key line)."""
    kw: dict[str, Any] = dict(
        host=host,
        port=port,
        username=USERNAME,
        key_filename=str(client_key.private_key),
        hostkey_verify=True,
        hostkey_b64=host_key.split()[1],
        allow_agent=False,
        look_for_keys=False,
        timeout=30,
    )
    kw.update(overrides)
    return kw


@dataclass
class RunningAgent:
    """A started ``ransdn-agent`` process and how to reach it."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    #: OpenSSH fingerprint of the host key, ``SHA256:...``.
    fingerprint: str
    #: The host key as an OpenSSH public key line (``ssh-ed25519 AAAA...``).
    host_key: str
    kind: str
    node_id: str
    state_dir: Path
    client_key: ClientKey
    log_path: Path
    known_hosts: Path
    authorized_keys: Path
    args: list[str] = field(default_factory=list)

    def ncclient_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """Arguments for ``ncclient.manager.connect`` with host key checking."""
        return ncclient_kwargs(self.host, self.port, self.client_key, self.host_key, **overrides)

    def connect(self, **overrides: Any) -> Any:
        """An ncclient Manager connected to the agent (a context manager)."""
        from ncclient import manager

        return manager.connect(**self.ncclient_kwargs(**overrides))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then wait; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"ransdn-agent ignored SIGTERM for {timeout}s:\n{self.log()[-4000:]}")
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: an abrupt crash."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def agent_command(
    *,
    kind: str,
    backend: str,
    state_dir: Path,
    authorized_keys: Path,
    ready_file: Path,
    listen: str = "127.0.0.1:0",
    backend_config: Path | None = None,
    node_id: str | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    cmd = [
        sys.executable, "-m", "agent.main",
        "--kind", kind,
        "--backend", backend,
        "--listen", listen,
        "--state-dir", str(state_dir),
        "--authorized-keys", str(authorized_keys),
        "--ready-file", str(ready_file),
    ]
    if backend_config is not None:
        cmd += ["--backend-config", str(backend_config)]
    if node_id is not None:
        cmd += ["--node-id", node_id]
    cmd += list(extra_args)
    return cmd


def start_agent_process(
    workdir: Path,
    *,
    kind: str = "wifi",
    backend: str = "sim",
    backend_options: dict[str, Any] | None = None,
    node_id: str | None = None,
    state_dir: Path | None = None,
    client_key: ClientKey | None = None,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> RunningAgent:
    """Start ``ransdn-agent`` and wait until it accepts connections.

    ``workdir`` holds the state directory (unless ``state_dir`` is given, to
    restart an agent on its old state), keys, the log and the ready file.
    ``backend`` may be "sim", "linux" or "package.module:Class".
    """
    workdir.mkdir(parents=True, exist_ok=True)
    state_dir = state_dir or workdir / "state"
    client_key = client_key or make_client_key(workdir / "client")
    authorized_keys = workdir / "authorized_keys"
    authorized_keys.write_text(client_key.public_line + "\n")
    ready = workdir / "ready.json"
    ready.unlink(missing_ok=True)
    backend_config = None
    if backend_options is not None:
        backend_config = workdir / "backend.json"
        backend_config.write_text(json.dumps(backend_options))
    cmd = agent_command(
        kind=kind, backend=backend, state_dir=state_dir, authorized_keys=authorized_keys,
        ready_file=ready, backend_config=backend_config, node_id=node_id, extra_args=extra_args,
    )
    log_path = workdir / "agent.log"
    child_env = dict(os.environ)
    # The repository root on the path lets "tests.support..." backends load.
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), child_env.get("PYTHONPATH")]))
    child_env.update(env or {})
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=child_env)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None:
            raise RuntimeError(
                f"ransdn-agent exited with {proc.returncode} before it was ready:\n"
                + log_path.read_text(errors="replace")[-4000:]
            )
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"ransdn-agent not ready after {timeout}s:\n" + log_path.read_text()[-4000:])
        time.sleep(0.05)
    info = json.loads(ready.read_text())
    known_hosts = workdir / "known_hosts"
    known_hosts.write_text(f"[{info['host']}]:{info['port']} {info['host_key']}\n")
    return RunningAgent(
        process=proc,
        host=info["host"],
        port=info["port"],
        fingerprint=info["fingerprint"],
        host_key=info["host_key"],
        kind=info["kind"],
        node_id=info["node_id"],
        state_dir=state_dir,
        client_key=client_key,
        log_path=log_path,
        known_hosts=known_hosts,
        authorized_keys=authorized_keys,
        args=cmd,
    )


@contextlib.contextmanager
def agent_process(workdir: Path, **kwargs: Any) -> Iterator[RunningAgent]:
    """:func:`start_agent_process` as a context manager that stops the agent
    and checks that it exited cleanly."""
    agent = start_agent_process(workdir, **kwargs)
    try:
        yield agent
    finally:
        status = agent.stop()
        if status != 0:
            raise AssertionError(f"ransdn-agent exited with {status}:\n{agent.log()[-4000:]}")
