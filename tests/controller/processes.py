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


class ControllerProcess:
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
