"""Build the ransdn airtime kernel module against the guest kernel's headers."""

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
    """Build ``ransdn_airtime.ko`` (incrementally) and return its path.

    Runs ``make -C kmod module KVER=...``, which builds out of tree in
    ``kmod/build/<KVER>/`` so the checkout stays clean.
    """
    image = find_kernel(kernel_version)
    proc = subprocess.run(
        ["make", "-s", "-C", str(KMOD_DIR), "module", f"KVER={image.version}"],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise ModuleBuildError(f"module build failed:\n{proc.stdout}{proc.stderr}")
    ko = KMOD_DIR / "build" / image.version / f"{MODULE_NAME}.ko"
    if not ko.is_file():
        raise ModuleBuildError(f"module build produced no {ko}")
    return ko
