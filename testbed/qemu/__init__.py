"""The QEMU kernel test bed.

Boots Debian's own kernel under QEMU/TCG with the host's root file system
shared read-only over virtio-9p (a tmpfs overlay on top), runs one command
as the guest's init and returns its exit code, the serial log and the
guest's dmesg.  See ``KERNEL-TESTBED.md`` in the project's shared notes for
why it is built this way (no loadable modules on the host, no usable KVM).

Typical use::

    from testbed.qemu import GuestSpec, run_guest, build_module

    ko = build_module()
    result = await run_guest(GuestSpec(command=["/bin/true"]))
    assert result.exit_code == 0
"""

from testbed.qemu.guest import GuestResult, GuestSpec, run_guest, run_guest_sync
from testbed.qemu.kernel import KernelImage, find_kernel
from testbed.qemu.module import build_module

__all__ = [
    "GuestResult",
    "GuestSpec",
    "KernelImage",
    "build_module",
    "find_kernel",
    "run_guest",
    "run_guest_sync",
]
