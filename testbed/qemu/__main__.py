"""Command line: ``python -m testbed.qemu [--build] [--timeout S] -- CMD ...``.

Boots a guest, runs CMD in it (from the checkout), streams nothing but
prints the serial log afterwards, and exits with the job's exit code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from testbed.qemu.guest import GuestSpec, run_guest_sync
from testbed.qemu.module import build_module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed.qemu", description=__doc__)
    parser.add_argument("--build", action="store_true", help="build the kernel module first")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--job-dir", type=Path)
    parser.add_argument("--memory", type=int, default=1024, help="guest memory in MiB")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run in the guest")
    if args.build:
        print(f"built {build_module()}", file=sys.stderr)
    result = run_guest_sync(GuestSpec(command=command, timeout=args.timeout,
                                      job_dir=args.job_dir, memory_mb=args.memory))
    sys.stdout.write(result.serial)
    print(f"\n[guest exit {result.exit_code} in {result.elapsed:.1f}s, job dir {result.job_dir}]",
          file=sys.stderr)
    trouble = result.kernel_trouble()
    if trouble:
        print("kernel trouble:\n  " + "\n  ".join(trouble), file=sys.stderr)
    return result.exit_code if result.exit_code is not None else 1


if __name__ == "__main__":
    sys.exit(main())
