"""Debian's installed kernel, unpacked to an ELF ``vmlinux`` for ``-kernel``.

QEMU boots an uncompressed ELF kernel through its PVH entry point without
any firmware, which is about twice as fast under TCG as letting SeaBIOS
decompress ``vmlinuz``.  The payload inside Debian's bzImage is xz; we find
its stream header and decompress it with :mod:`lzma`.
"""

from __future__ import annotations

import hashlib
import lzma
import os
from dataclasses import dataclass
from pathlib import Path

from testbed.qemu.paths import CACHE_DIR

XZ_MAGIC = b"\xfd7zXZ\x00"
ELF_MAGIC = b"\x7fELF"


class KernelNotFound(RuntimeError):
    """No usable Debian kernel (image, modules and headers) is installed."""


@dataclass(frozen=True)
class KernelImage:
    """An installed kernel version and the files the test bed uses."""

    version: str
    vmlinuz: Path
    modules_dir: Path
    headers_dir: Path


def find_kernel(version: str | None = None) -> KernelImage:
    """Find the installed Debian kernel to boot.

    The host runs a different kernel, so the version comes from
    ``/lib/modules`` (the newest one that also has an image and headers),
    never from ``uname -r``.
    """
    candidates = [version] if version else _installed_versions()
    for ver in candidates:
        image = KernelImage(
            version=ver,
            vmlinuz=Path("/boot") / f"vmlinuz-{ver}",
            modules_dir=Path("/lib/modules") / ver,
            headers_dir=Path("/usr/src") / f"linux-headers-{ver}",
        )
        if (image.vmlinuz.is_file() and image.headers_dir.is_dir()
                and _has_module(image.modules_dir, "mac80211_hwsim")):
            return image
    raise KernelNotFound(
        "no Debian kernel with image, headers and mac80211_hwsim found "
        f"(looked for {candidates or 'anything in /lib/modules'}); "
        "run scripts/bootstrap to install linux-image-amd64 and linux-headers-amd64"
    )


def _has_module(modules_dir: Path, name: str) -> bool:
    """Whether the kernel ships the module (cloud flavours lack hwsim)."""
    try:
        dep = (modules_dir / "modules.dep").read_text()
    except OSError:
        return False
    return f"/{name}.ko" in dep


def _installed_versions() -> list[str]:
    root = Path("/lib/modules")
    if not root.is_dir():
        return []
    return sorted((p.name for p in root.iterdir() if p.is_dir()), key=_version_key, reverse=True)


def _version_key(version: str) -> tuple:
    parts = []
    for token in version.replace("-", ".").split("."):
        parts.append((0, int(token), "") if token.isdigit() else (1, 0, token))
    return tuple(parts)


def unpack_vmlinux(image: KernelImage, cache_dir: Path = CACHE_DIR) -> Path:
    """Return the path of an ELF vmlinux for ``image``, unpacking it once.

    The cached file is keyed by the image's size and mtime, so a kernel
    upgrade produces a fresh one.
    """
    st = image.vmlinuz.stat()
    key = hashlib.sha256(f"{image.vmlinuz}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
    target = cache_dir / f"vmlinux-{image.version}-{key}"
    if target.is_file():
        return target
    blob = image.vmlinuz.read_bytes()
    elf = _decompress_payload(blob)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(elf)
    tmp.replace(target)
    return target


def _decompress_payload(blob: bytes) -> bytes:
    start = 0
    while True:
        start = blob.find(XZ_MAGIC, start)
        if start < 0:
            raise KernelNotFound("no xz-compressed ELF payload found in the kernel image")
        decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        try:
            data = decompressor.decompress(blob[start:])
        except lzma.LZMAError:
            start += 1
            continue
        if data.startswith(ELF_MAGIC):
            return data
        start += 1
