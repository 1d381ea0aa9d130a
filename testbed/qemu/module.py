"""Build the ransdn airtime kernel module against the guest kernel's headers.

kbuild writes its objects next to the sources, so the build runs in a
mirror of ``kmod/`` made of symlinks under ``kmod/build/<KVER>/``: the
checkout stays clean and the user-space build of the same core (which
kmod's Makefile puts in ``kmod/build/``) is not disturbed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from testbed.qemu.kernel import find_kernel
from testbed.qemu.paths import REPO_ROOT

KMOD_DIR = REPO_ROOT / "kmod"
MODULE_NAME = "ransdn_airtime"
#: What the module is built from, relative to kmod/.
SOURCE_GLOBS = ("Kbuild", "*.c", "*.h", "core/*.c", "core/*.h", "uapi/*.h")


class ModuleBuildError(RuntimeError):
    """kbuild failed; the message holds its output."""


def mirror_sources(build_dir: Path, kmod_dir: Path = KMOD_DIR) -> None:
    """Make build_dir a tree of symlinks to kmod's current sources."""
    wanted = {p.relative_to(kmod_dir) for g in SOURCE_GLOBS for p in kmod_dir.glob(g)}
    for rel in wanted:
        link = build_dir / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        target = kmod_dir / rel
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to(target)
    for link in build_dir.rglob("*"):
        if link.is_symlink() and link.relative_to(build_dir) not in wanted:
            link.unlink()


def build_module(kernel_version: str | None = None) -> Path:
    """Build ``ransdn_airtime.ko`` (incrementally) and return its path."""
    image = find_kernel(kernel_version)
    build_dir = KMOD_DIR / "build" / image.version
    build_dir.mkdir(parents=True, exist_ok=True)
    mirror_sources(build_dir)
    proc = subprocess.run(
        ["make", "-s", "-C", str(image.headers_dir), f"M={build_dir}", "modules"],
        capture_output=True, text=True,
    )
    ko = build_dir / f"{MODULE_NAME}.ko"
    if proc.returncode != 0 or not ko.is_file():
        raise ModuleBuildError(f"module build failed:\n{proc.stdout}{proc.stderr}")
    return ko
