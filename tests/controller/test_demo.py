"""``ransdn demo``: controller + simulated city, three slices, Ctrl-C cleans up."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import requires_agents

pytestmark = [requires_agents, pytest.mark.slow]
RANSDN = str(Path(sys.executable).parent / "ransdn")


def test_demo_provisions_three_mixed_slices_and_stops_cleanly_on_ctrl_c():
    proc = subprocess.Popen([RANSDN, "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 240
    for line in proc.stdout:
        lines.append(line)
        if "Ctrl-C stops the demo" in line or time.monotonic() > deadline:
            break
    out = "".join(lines)
    assert "agent farm: 12 Wi-Fi APs, 4 LTE cells" in out, out + proc.stderr.read()
    assert len(re.findall(r"slice \S+: provisioned on \d+ nodes", out)) == 3, out
    assert out.count(" connected ") >= 16
    for plmn in ("001-01", "001-10", "001-20"):
        assert plmn in out
    data_dir = Path(re.search(r"data in (\S+)\)", out).group(1))
    assert data_dir.exists()
    url = re.search(r"controller: (http://\S+)", out).group(1)
    res = subprocess.run([RANSDN, "--url", url, "lte"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "001-01" in res.stdout, res.stderr

    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0, proc.stderr.read()
    assert not data_dir.exists(), "the temporary data dir is removed"
    res = subprocess.run([RANSDN, "--url", url, "node", "list"], capture_output=True, text=True)
    assert res.returncode == 3, "the controller is gone"
