"""Durable files in the agent's state directory, written atomically.

A write goes to another file in the same directory, is fsynced, renamed
over the old file, and the directory is fsynced, so after a crash the file
holds either the old or the new content, never a mix, and once a save
returns the new content survives a crash.  Files are created mode 0600:
the running configuration contains the WPA2 PSKs.

The running configuration is saved on every commit, so :class:`SwappedFile`
makes that cheap: it keeps a spare file beside the target, overwrites the
spare in place and swaps the two names in one atomic rename
(``renameat2(RENAME_EXCHANGE)``).  No inode is created or freed per save,
which is most of the kernel's work in the create-and-rename scheme.  Where
the filesystem cannot exchange names it falls back to create-and-rename.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import tempfile
from pathlib import Path
from typing import Callable

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
#: renameat2 errors meaning "not on this filesystem / kernel / libc".
_NO_EXCHANGE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP})


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


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    offset = 0
    while offset < len(view):
        offset += os.pwrite(fd, view[offset:], offset)


class SwappedFile:
    """A file replaced atomically and durably by swapping it with a spare.

    ``.NAME.next`` is the spare: between saves it holds the previous
    content (or, after a crash during a save, part of a newer one); only
    ``NAME`` is ever read.  One instance per file, one save at a time.
    """

    def __init__(self, path: Path, mode: int = 0o600) -> None:
        self.path = Path(path)
        self.spare = self.path.with_name(f".{self.path.name}.next")
        self.mode = mode
        self._path_b = os.fsencode(self.path)
        self._spare_b = os.fsencode(self.spare)
        self._dir_fd: int | None = None
        self._exchange = _renameat2() is not None
        self._spare_checked = False

    def save(self, data: bytes) -> None:
        if not self._exchange:
            write_atomic(self.path, data, self.mode)
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self._spare_b, flags, self.mode)
        try:
            if not self._spare_checked:
                os.fchmod(fd, self.mode)  # it may predate us
                self._spare_checked = True
            _write_all(fd, data)
            os.ftruncate(fd, len(data))
            os.fdatasync(fd)
        finally:
            os.close(fd)
        if _renameat2()(_AT_FDCWD, self._spare_b, _AT_FDCWD, self._path_b, _RENAME_EXCHANGE) != 0:  # type: ignore[misc]
            err = ctypes.get_errno()
            if err == errno.ENOENT:
                os.rename(self._spare_b, self._path_b)  # the first save: nothing to swap with
            elif err in _NO_EXCHANGE:
                self._exchange = False
                os.rename(self._spare_b, self._path_b)
            else:
                raise OSError(err, os.strerror(err), str(self.path))
        os.fsync(self._directory())

    def _directory(self) -> int:
        if self._dir_fd is None:
            self._dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        return self._dir_fd

    def close(self) -> None:
        if self._dir_fd is not None:
            os.close(self._dir_fd)
            self._dir_fd = None


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
        self._running_file = SwappedFile(self.running)

    def load(self) -> tuple[bytes | None, bool]:
        """The configuration to start with, and whether it is a rollback point."""
        if self.rollback.exists():
            return self.rollback.read_bytes(), True
        if self.running.exists():
            return self.running.read_bytes(), False
        return None, False

    def save_running(self, data: bytes) -> None:
        self._running_file.save(data)

    def save_rollback(self, data: bytes) -> None:
        write_atomic(self.rollback, data)

    def drop_rollback(self) -> None:
        remove_durably(self.rollback)

    def close(self) -> None:
        self._running_file.close()
