"""Real processes for controller tests: ``ransdn-controller`` on an
ephemeral port, and the ``ransdn`` CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


class _Process:
    proc: subprocess.Popen | None = None

    def kill(self) -> None:
        """kill -9: no clean shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class ControllerProcess(_Process):
    """``ransdn-controller --listen 127.0.0.1:0`` as a subprocess."""

    def __init__(self, db: Path, *, client_key: Path | None = None, token: str | None = None,
                 extra: list[str] | None = None) -> None:
        self.db = db
        self.client_key = client_key
        self.token = token
        self.extra = extra or []
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.log = db.with_suffix(".log")

    def start(self, timeout: float = 30.0) -> ControllerProcess:
        args = [str(BIN / "ransdn-controller"), "--listen", "127.0.0.1:0", "--db", str(self.db),
                "--node-networks", "127.0.0.0/8", *self.extra]
        if self.client_key:
            args += ["--client-key", str(self.client_key)]
        if self.token:
            args += ["--token", self.token]
        log = open(self.log, "a")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if m := re.search(r"listening on (http://\S+)", line):
                self.url = m.group(1)
                return self
            if self.proc.poll() is not None:
                break
        raise RuntimeError(f"controller did not start: {line!r}; log:\n{self.log.read_text()}")

    def __enter__(self) -> ControllerProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- HTTP helpers ------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None, raw: bytes | None = None,
                content_type: str = "application/json") -> tuple[int, dict[str, str], Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        hdrs = {"Content-Type": content_type} if data is not None else {}
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        hdrs.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                text = r.read()
                if r.headers.get_content_type() != "application/json":
                    return r.status, dict(r.headers), text.decode()
                return r.status, dict(r.headers), json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, dict(e.headers), json.loads(text)
            except ValueError:
                return e.code, dict(e.headers), text.decode(errors="replace")

    def get(self, path: str) -> Any:
        status, _, body = self.request("GET", path)
        assert status == 200, (status, body)
        return body


def run_cli(url: str, *args: str, token: str | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("RANSDN_TOKEN", None)
    cmd = [str(BIN / "ransdn"), "--url", url]
    if token:
        cmd += ["--token", token]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, input=stdin, env=env,
                          timeout=180)


class FarmProcess:
    """A set of ``ransdn-agent --backend sim`` processes, one per node plan
    (``{"name", "kind", "radios"?, "options"?}``); ``inventory`` lists them
    as the agent farm's inventory does (name, kind, address, port,
    host_key_fingerprint) once every one listens."""

    def __init__(self, work: Path, nodes: list[dict[str, Any]], authorized_keys: Path) -> None:
        self.work = work
        self.agents = [
            AgentProcess(work / n["name"], n["kind"], authorized_keys, 0,
                         {**n.get("options", {}), **({"radios": n["radios"]} if "radios" in n else {})},
                         node_id=n["name"])
            for n in nodes]
        self.inventory: list[dict[str, Any]] = []

    def start(self, timeout: float = 120.0) -> FarmProcess:
        for a in self.agents:
            a.spawn()
        for a in self.agents:
            a.wait_ready(timeout)
        self.inventory = [a.inventory_entry() for a in self.agents]
        return self

    def stop(self) -> None:
        for a in self.agents:
            a.stop()

    def __enter__(self) -> FarmProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def agent(self, name: str) -> dict[str, Any]:
        return next(a for a in self.inventory if a["name"] == name)


class AgentProcess(_Process):
    """One ``ransdn-agent --backend sim`` subprocess, restartable on the same
    port and state directory (so with the same host key and configuration)."""

    def __init__(self, work: Path, kind: str, authorized_keys: Path, port: int,
                 backend_config: dict[str, Any] | None = None, node_id: str | None = None) -> None:
        self.work = work
        self.kind = kind
        self.authorized_keys = authorized_keys
        self.port = port
        self.backend_config = backend_config
        self.node_id = node_id or work.name
        self.proc: subprocess.Popen | None = None
        self.log = work / "agent.log"
        self.ready_file = work / "ready.json"
        self.ready: dict[str, Any] = {}

    def spawn(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.ready_file.unlink(missing_ok=True)
        args = [str(BIN / "ransdn-agent"), "--kind", self.kind, "--backend", "sim",
                "--listen", f"127.0.0.1:{self.port}", "--state-dir", str(self.work / "state"),
                "--authorized-keys", str(self.authorized_keys), "--node-id", self.node_id,
                "--ready-file", str(self.ready_file)]
        if self.backend_config:
            cfg = self.work / "backend.json"
            cfg.write_text(json.dumps(self.backend_config))
            args += ["--backend-config", str(cfg)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.log, "a"))

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_file.exists():
                try:
                    self.ready = json.loads(self.ready_file.read_text())
                except ValueError:
                    time.sleep(0.05)
                    continue
                self.port = int(self.ready["port"])
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"agent {self.node_id} did not start; log:\n{self.log.read_text()[-3000:]}")

    def start(self, timeout: float = 60.0) -> AgentProcess:
        self.spawn()
        self.wait_ready(timeout)
        return self

    def inventory_entry(self) -> dict[str, Any]:
        return {"name": self.node_id, "kind": self.kind, "address": "127.0.0.1", "port": self.port,
                "host_key_fingerprint": self.ready["fingerprint"]}


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
