"""The durable files of the state directory: atomic replacement, file
modes, and what a failure half-way leaves behind."""

from __future__ import annotations

import ctypes
import errno
import stat
from pathlib import Path
from typing import Any

import pytest

from agent.datastore import persistence
from agent.datastore.persistence import ConfigFiles, SwappedFile


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_saves_replace_the_file_and_keep_the_previous_one_as_spare(tmp_path: Path) -> None:
    f = SwappedFile(tmp_path / "running.json")
    f.save(b'{"a": 1}')
    assert (tmp_path / "running.json").read_bytes() == b'{"a": 1}'
    f.save(b'{"a": 22222}')
    f.save(b'{"b": 3}')  # shorter than what the spare held
    assert (tmp_path / "running.json").read_bytes() == b'{"b": 3}'
    assert f.spare.read_bytes() == b'{"a": 22222}'
    assert _mode(tmp_path / "running.json") == 0o600 and _mode(f.spare) == 0o600
    f.close()


def test_a_spare_with_loose_permissions_is_tightened(tmp_path: Path) -> None:
    f = SwappedFile(tmp_path / "running.json")
    f.spare.write_bytes(b"junk")
    f.spare.chmod(0o644)
    f.save(b"{}")
    f.save(b'{"x": 1}')
    assert _mode(tmp_path / "running.json") == 0o600 and _mode(f.spare) == 0o600
    f.close()


def _failing_renameat2(err: int) -> Any:
    def fn(*args: Any) -> int:
        ctypes.set_errno(err)
        return -1

    return lambda: fn


def test_a_failed_swap_leaves_the_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = SwappedFile(tmp_path / "running.json")
    f.save(b'{"old": true}')
    monkeypatch.setattr(persistence, "_renameat2", _failing_renameat2(errno.EIO))
    with pytest.raises(OSError) as exc:
        f.save(b'{"new": true}')
    assert exc.value.errno == errno.EIO
    assert (tmp_path / "running.json").read_bytes() == b'{"old": true}'
    f.close()


@pytest.mark.parametrize("unsupported", ["no renameat2", "EINVAL"])
def test_without_name_exchange_files_are_created_and_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unsupported: str
) -> None:
    monkeypatch.setattr(
        persistence, "_renameat2", (lambda: None) if unsupported == "no renameat2" else _failing_renameat2(errno.EINVAL)
    )
    files = ConfigFiles(tmp_path)
    for text in (b'{"a": 1}', b'{"a": 2}', b'{"a": 3}'):
        files.save_running(text)
        assert files.load() == (text, False)
    assert _mode(files.running) == 0o600
    assert not list(tmp_path.glob(".*.tmp"))
    files.close()


def test_the_rollback_point_wins_at_start(tmp_path: Path) -> None:
    files = ConfigFiles(tmp_path)
    files.save_running(b'{"unconfirmed": 1}')
    files.save_rollback(b'{"before": 1}')
    assert files.load() == (b'{"before": 1}', True)
    files.drop_rollback()
    assert files.load() == (b'{"unconfirmed": 1}', False)
    files.close()
