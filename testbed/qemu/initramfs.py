"""A tiny initramfs: busybox, the modules needed to reach the 9p root, /init.

The archive is written directly in the ``newc`` cpio format, so neither
root privileges (for the console device node) nor the cpio tool are needed.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from testbed.qemu.kernel import KernelImage
from testbed.qemu.paths import CACHE_DIR

#: Modules the guest needs before it can mount the host root; their
#: dependencies are resolved with ``modprobe --show-depends``.
BOOT_MODULES = ("virtio_pci", "virtio_mmio", "9pnet_virtio", "9p", "overlay")

INIT_SCRIPT = Path(__file__).with_name("init.sh")


@dataclass(frozen=True)
class _Entry:
    name: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def boot_module_files(image: KernelImage) -> list[Path]:
    """The ``.ko`` files to load, in load order, without duplicates."""
    modprobe = shutil.which("modprobe") or "/usr/sbin/modprobe"
    files: list[Path] = []
    for name in BOOT_MODULES:
        out = subprocess.run(
            [modprobe, "-S", image.version, "--show-depends", name],
            check=True, capture_output=True, text=True,
        ).stdout
        for line in out.splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] == "insmod":
                path = Path(words[1])
                if path not in files:
                    files.append(path)
    return files


def build_initramfs(image: KernelImage, busybox: Path | None = None,
                    cache_dir: Path = CACHE_DIR) -> Path:
    """Return a cached initramfs for ``image``, rebuilding it when its
    inputs (busybox, modules, init script) change."""
    busybox = busybox or Path(shutil.which("busybox") or "/bin/busybox")
    modules = boot_module_files(image)
    inputs = [busybox, INIT_SCRIPT, *modules]
    digest = hashlib.sha256()
    for path in inputs:
        st = path.stat()
        digest.update(f"{path}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    target = cache_dir / f"initramfs-{image.version}-{digest.hexdigest()[:16]}.cpio.gz"
    if target.is_file():
        return target

    entries = [
        _Entry("bin", stat.S_IFDIR | 0o755),
        _Entry("dev", stat.S_IFDIR | 0o755),
        _Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
        _Entry("proc", stat.S_IFDIR | 0o755),
        _Entry("sys", stat.S_IFDIR | 0o755),
        _Entry("mnt", stat.S_IFDIR | 0o755),
        _Entry("modules", stat.S_IFDIR | 0o755),
        _Entry("bin/busybox", stat.S_IFREG | 0o755, busybox.read_bytes()),
        _Entry("init", stat.S_IFREG | 0o755, INIT_SCRIPT.read_bytes()),
    ]
    order = []
    for i, path in enumerate(modules):
        name = f"{i:02d}-{path.name}"
        entries.append(_Entry(f"modules/{name}", stat.S_IFREG | 0o644, path.read_bytes()))
        order.append(name)
    entries.append(_Entry("modules/order", stat.S_IFREG | 0o644, ("\n".join(order) + "\n").encode()))

    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    with gzip.open(tmp, "wb", compresslevel=1) as out:
        out.write(_newc(entries))
    tmp.replace(target)
    return target


def _newc(entries: list[_Entry]) -> bytes:
    chunks: list[bytes] = []
    for ino, entry in enumerate([*entries, _Entry("TRAILER!!!", 0)], start=1):
        name = entry.name.encode() + b"\0"
        fields = [
            ino, entry.mode, 0, 0, 2 if stat.S_ISDIR(entry.mode) else 1, 0,
            len(entry.data), 0, 0, entry.rdev[0], entry.rdev[1], len(name), 0,
        ]
        header = b"070701" + b"".join(b"%08x" % f for f in fields)
        chunks.append(header + name)
        chunks.append(b"\0" * (-(len(header) + len(name)) % 4))
        chunks.append(entry.data)
        chunks.append(b"\0" * (-len(entry.data) % 4))
    return b"".join(chunks)
