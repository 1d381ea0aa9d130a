"""Build the ransdn airtime kernel module against the guest kernel's headers.

``make -C kmod module KVER=...`` builds it out of tree in ``kmod/build/<KVER>/``
(a mirror of symlinks to the sources, so the checkout stays clean).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from testbed.qemu.kernel import find_kernel
from testbed.qemu.paths import REPO_ROOT

KMOD_DIR = REPO_ROOT / "kmod"
MODULE_NAME = "ransdn_airtime"


class ModuleBuildError(RuntimeError):
    """kbuild failed; the message holds its output."""


def build_module(kernel_version: str | None = None) -> Path:
    """Build ``ransdn_airtime.ko`` (incrementally) and return its path."""
    image = find_kernel(kernel_version)
    proc = subprocess.run(
        ["make", "-s", "-C", str(KMOD_DIR), "module", f"KVER={image.version}"],
        capture_output=True, text=True,
    )
    ko = KMOD_DIR / "build" / image.version / f"{MODULE_NAME}.ko"
    if proc.returncode != 0 or not ko.is_file():
        raise ModuleBuildError(f"module build failed:\n{proc.stdout}{proc.stderr}")
    return ko
