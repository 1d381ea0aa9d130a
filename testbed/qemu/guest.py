"""Boot a guest under QEMU/TCG, run one job in it and collect the result.

The guest sees the host's root file system read-only (so it runs the
host's python, hostapd, iw and the checkout, including freshly built
modules) and a per-run job directory read-write at ``/job``.  The job is
``/job/run``, a script the host writes; its exit code comes back as a
marker line on the serial console, and the guest's dmesg is left in
``/job/dmesg.txt``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from testbed.qemu.initramfs import build_initramfs
from testbed.qemu.kernel import KernelImage, find_kernel, unpack_vmlinux
from testbed.qemu.paths import REPO_ROOT

EXIT_MARKER = re.compile(r"^RANSDN-GUEST-EXIT (\d+)\s*$", re.MULTILINE)
STAGE2 = Path(__file__).with_name("stage2.sh")

#: dmesg lines that mean the kernel found a bug (ours or one we triggered).
KERNEL_TROUBLE = re.compile(
    r"(Oops|BUG[: ]|WARNING:|general protection fault|Kernel panic|"
    r"unreferenced object|KASAN|UBSAN|refcount_t:|list_(add|del) corruption|"
    r"stack-protector|soft lockup|hard LOCKUP|rcu_sched self-detected|"
    r"INFO: task .* blocked)"
)


class QemuMissing(RuntimeError):
    """qemu-system-x86_64 is not installed."""


@dataclass(frozen=True)
class GuestSpec:
    """What to run in the guest and with what resources."""

    command: list[str]
    cwd: Path = REPO_ROOT
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 240.0
    memory_mb: int = 1024
    cpus: int = 2
    #: Host directory shared read-write as /job; a fresh temporary one
    #: when None.  It keeps the job script, dmesg and anything the job
    #: writes there.
    job_dir: Path | None = None
    kernel_version: str | None = None


@dataclass(frozen=True)
class GuestResult:
    """The outcome of one guest run."""

    #: The job's exit code, or None when the guest never reported one
    #: (crash, panic or timeout).
    exit_code: int | None
    serial: str
    dmesg: str
    job_dir: Path
    elapsed: float
    timed_out: bool

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def kernel_trouble(self) -> list[str]:
        """dmesg and console lines reporting kernel bugs or warnings."""
        lines = (self.dmesg + "\n" + self.serial).splitlines()
        return sorted({line.strip() for line in lines if KERNEL_TROUBLE.search(line)})

    def describe(self, tail: int = 80) -> str:
        """A failure message: exit code and the end of the serial log."""
        lines = self.serial.splitlines()[-tail:]
        return (f"guest exit code {self.exit_code} after {self.elapsed:.1f}s"
                f"{' (timed out)' if self.timed_out else ''}; serial log tail:\n"
                + "\n".join(lines))


def qemu_binary() -> str:
    path = shutil.which("qemu-system-x86_64")
    if not path:
        raise QemuMissing("qemu-system-x86_64 is not installed; run scripts/bootstrap")
    return path


def qemu_command(spec: GuestSpec, image: KernelImage, job_dir: Path) -> list[str]:
    vmlinux = unpack_vmlinux(image)
    initrd = build_initramfs(image)
    append = f"console=ttyS0 quiet panic=-1 RANSDN_STAGE2={STAGE2}"
    return [
        qemu_binary(),
        "-M", "pc", "-accel", "tcg", "-cpu", "max",
        "-smp", str(spec.cpus), "-m", str(spec.memory_mb),
        "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
        "-serial", "stdio",
        "-kernel", str(vmlinux), "-initrd", str(initrd), "-append", append,
        "-fsdev", "local,id=hostfs,path=/,security_model=none,readonly=on,multidevs=remap",
        "-device", "virtio-9p-pci,fsdev=hostfs,mount_tag=host",
        "-fsdev", f"local,id=jobfs,path={job_dir},security_model=none,multidevs=remap",
        "-device", "virtio-9p-pci,fsdev=jobfs,mount_tag=job",
        "-device", "virtio-rng-pci",
    ]


def write_job(spec: GuestSpec, job_dir: Path) -> None:
    lines = ["#!/bin/bash", f"cd {shlex.quote(str(spec.cwd))} || exit 127"]
    for key, value in spec.env.items():
        lines.append(f"export {key}={shlex.quote(value)}")
    lines.append("exec " + shlex.join(spec.command))
    run = job_dir / "run"
    run.write_text("\n".join(lines) + "\n")
    run.chmod(0o755)


async def run_guest(spec: GuestSpec) -> GuestResult:
    """Boot a guest, run ``spec.command`` as its job, return the result."""
    image = find_kernel(spec.kernel_version)
    if spec.job_dir is None:
        job_dir = Path(tempfile.mkdtemp(prefix="ransdn-guest-"))
    else:
        job_dir = spec.job_dir
        job_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("dmesg.txt", "serial.log"):
        (job_dir / stale).unlink(missing_ok=True)
    write_job(spec, job_dir)
    argv = ["timeout", "--kill-after=5", str(int(spec.timeout) + 1),
            *qemu_command(spec, image, job_dir)]

    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )
    chunks: list[bytes] = []
    timed_out = False
    with open(job_dir / "serial.log", "wb") as log:
        try:
            await asyncio.wait_for(_drain(proc, chunks, log), spec.timeout + 10)
        except asyncio.TimeoutError:
            timed_out = True
            proc.kill()
        finally:
            await proc.wait()
    if proc.returncode == 124:
        timed_out = True
    serial = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    match = None
    for match in EXIT_MARKER.finditer(serial):
        pass
    dmesg_file = job_dir / "dmesg.txt"
    dmesg = dmesg_file.read_text("utf-8", "replace") if dmesg_file.exists() else ""
    return GuestResult(
        exit_code=int(match.group(1)) if match else None,
        serial=serial,
        dmesg=dmesg,
        job_dir=job_dir,
        elapsed=time.monotonic() - started,
        timed_out=timed_out,
    )


async def _drain(proc: asyncio.subprocess.Process, chunks: list[bytes], log) -> None:
    assert proc.stdout is not None
    while True:
        data = await proc.stdout.read(65536)
        if not data:
            break
        chunks.append(data)
        log.write(data)
        log.flush()
    await proc.wait()


def run_guest_sync(spec: GuestSpec) -> GuestResult:
    """:func:`run_guest` for callers without an event loop (scripts)."""
    return asyncio.run(run_guest(spec))


def host_cpus() -> int:
    return len(os.sched_getaffinity(0))
