"""Fixtures of the kernel tests: the module build and guest runs.

Every test here boots Debian's kernel under QEMU (see testbed/qemu).  The
scenario of one boot runs once per session and its JSON results are
shared by the tests that assert on them, so a handful of boots cover
everything.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from testbed.qemu import GuestResult, GuestSpec, build_module, run_guest_sync
from testbed.qemu.kernel import KernelNotFound, find_kernel


def _skip_reason() -> str | None:
    if not shutil.which("qemu-system-x86_64"):
        return "qemu-system-x86_64 is not installed (scripts/bootstrap installs it)"
    try:
        find_kernel()
    except KernelNotFound as err:
        return str(err)
    if os.geteuid() != 0:
        return "the kernel test bed shares / with the guest and needs root"
    return None


@pytest.fixture(scope="session")
def kernel_bed() -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def module_ko(kernel_bed: None) -> Path:
    return build_module()


@dataclass(frozen=True)
class ScenarioRun:
    guest: GuestResult
    results: dict

    def check(self, name: str) -> dict:
        """The result of one check, failing the test if it raised."""
        entry = self.results.get(name)
        assert entry is not None, f"the scenario never ran {name!r}\n{self.guest.describe()}"
        assert entry["ok"], f"{name} raised in the guest (job dir {self.guest.job_dir}):\n{entry['error']}"
        return entry["result"]


#: Job directories of this session's guests, removed at its end if every
#: test passed.
_job_dirs: list[Path] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == 0:
        for job in _job_dirs:
            shutil.rmtree(job, ignore_errors=True)


def run_scenario(module: str, args: list[str], timeout: float) -> ScenarioRun:
    """Boot a guest running ``python -m <module> <args> /job/results.json``.

    The job directory (shared with the guest: results, dmesg, daemon logs)
    is named in any failure and kept until the session ends; then it is
    removed if every test passed.  It is not under pytest's tmp_path, whose
    rotation could remove it mid-run.
    """
    job = Path(tempfile.mkdtemp(prefix=f"ransdn-{module.rsplit('.', 1)[-1]}-"))
    _job_dirs.append(job)
    guest = run_guest_sync(GuestSpec(
        command=[str(Path(os.sys.executable)), "-m", module, *args, "/job/results.json"],
        timeout=timeout, job_dir=job,
    ))
    out = job / "results.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    if guest.exit_code != 0 or not results:
        pytest.fail(f"scenario {module} failed (job dir {job}):\n{guest.describe()}")
    return ScenarioRun(guest=guest, results=results)
