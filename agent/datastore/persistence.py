"""Durable files in the agent's state directory, written atomically.

A write goes to a temporary file in the same directory, is fsynced, renamed
over the old file, and the directory is fsynced, so after a crash the file
holds either the old or the new content, never a mix.  Files are created
mode 0600: the running configuration contains the WPA2 PSKs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def remove_durably(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    fsync_dir(Path(path).parent)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ConfigFiles:
    """Where the running configuration and a pending rollback point live.

    ``running.json`` is the running datastore (RFC 7951 JSON).
    ``rollback.json`` exists only while a confirmed commit awaits its
    confirmation: it holds the configuration to return to.  Finding it at
    start-up means the agent stopped before the commit was confirmed, so the
    rollback point wins (RFC 6241 section 8.4: an unconfirmed commit is not
    kept).
    """

    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir)
        self.running = self.dir / "running.json"
        self.rollback = self.dir / "rollback.json"

    def load(self) -> tuple[bytes | None, bool]:
        """The configuration to start with, and whether it is a rollback point."""
        if self.rollback.exists():
            return self.rollback.read_bytes(), True
        if self.running.exists():
            return self.running.read_bytes(), False
        return None, False

    def save_running(self, data: bytes) -> None:
        write_atomic(self.running, data)

    def save_rollback(self, data: bytes) -> None:
        write_atomic(self.rollback, data)

    def drop_rollback(self) -> None:
        remove_durably(self.rollback)
