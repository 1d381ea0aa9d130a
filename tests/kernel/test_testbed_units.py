"""The QEMU test bed's pure parts: the initramfs writer (read back by
GNU cpio), the kernel payload finder, and reading a guest's outcome."""

from __future__ import annotations

import lzma
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from testbed.qemu.guest import EXIT_MARKER, GuestResult
from testbed.qemu.initramfs import _Entry, _newc
from testbed.qemu.kernel import KernelNotFound, _decompress_payload, _has_module


@pytest.mark.skipif(not shutil.which("cpio"), reason="cpio is not installed (scripts/bootstrap installs it)")
def test_newc_archive_reads_back_with_cpio(tmp_path: Path) -> None:
    archive = _newc([
        _Entry("bin", stat.S_IFDIR | 0o755),
        _Entry("bin/tool", stat.S_IFREG | 0o755, b"#!/bin/sh\necho hi\n"),
        _Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
        _Entry("odd", stat.S_IFREG | 0o644, b"x" * 5),
    ])
    listing = subprocess.run(["cpio", "-itv"], input=archive, capture_output=True, check=True).stdout
    lines = listing.decode().splitlines()
    names = [line.split()[-1] for line in lines]
    assert names == ["bin", "bin/tool", "dev/console", "odd"]
    console = next(line for line in lines if line.endswith("dev/console"))
    assert console.startswith("crw") and "5," in console
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(["cpio", "-id", "--no-absolute-filenames", "bin/tool", "odd"], input=archive,
                   cwd=out, capture_output=True, check=True)
    assert (out / "bin/tool").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert (out / "odd").read_bytes() == b"xxxxx"


def test_kernel_payload_is_found_after_a_false_magic() -> None:
    elf = b"\x7fELF" + bytes(range(256)) * 10
    blob = b"MZ stub \xfd7zXZ\x00 not really xz " + lzma.compress(elf, format=lzma.FORMAT_XZ) + b"tail"
    assert _decompress_payload(blob) == elf
    with pytest.raises(KernelNotFound):
        _decompress_payload(b"no payload here")


def test_kernel_without_hwsim_is_not_chosen(tmp_path: Path) -> None:
    (tmp_path / "modules.dep").write_text("kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko\n")
    assert not _has_module(tmp_path, "mac80211_hwsim")
    (tmp_path / "modules.dep").write_text("kernel/drivers/net/wireless/mac80211_hwsim.ko: x.ko\n")
    assert _has_module(tmp_path, "mac80211_hwsim")


def test_guest_outcome() -> None:
    serial = "boot\nRANSDN-GUEST-EXIT 0\nmore\nRANSDN-GUEST-EXIT 3\n"
    assert [m.group(1) for m in EXIT_MARKER.finditer(serial)] == ["0", "3"]
    r = GuestResult(exit_code=3, serial=serial, dmesg=(
        "[ 1.0] ok\n[ 2.0] WARNING: CPU: 0 PID: 1 at net/sched/x.c:1 f+0x1\n"
        "[ 3.0] unreferenced object 0xffff (size 64):\n"), job_dir=Path("/tmp"),
        elapsed=1.0, timed_out=False)
    assert not r.ok
    assert len(r.kernel_trouble()) == 2
    assert "exit code 3" in r.describe()
