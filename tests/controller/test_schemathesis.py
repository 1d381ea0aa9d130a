"""Property-based fuzzing of the served OpenAPI document with schemathesis:
at least 500 generated requests, no 5xx, every response as documented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .processes import ControllerProcess

pytestmark = pytest.mark.slow

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
])


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    token = "fuzz-token"
    with ControllerProcess(tmp_path / "c.db", token=token) as ctl:
        report = tmp_path / "report"
        res = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"), "run",
             f"{ctl.url}/api/v1/openapi.json", "--checks", CHECKS, "--max-examples", "40",
             "--header", f"Authorization: Bearer {token}", "--workers", "1",
             "--generation-database", "none", "--no-color", "--report", "json",
             "--report-json-path", str(report / "run.json")],
            capture_output=True, text=True, timeout=900, cwd=tmp_path)
        result = json.loads((report / "run.json").read_text())
        assert result["test_cases"]["generated"] >= 500, result["test_cases"]
        assert result["failures"] == [] and result["errors"] == [], res.stdout[-6000:]
        assert result["exit_code"] == 0, res.stdout[-6000:]
        assert result["operations"]["tested"] == result["operations"]["total"]
        # Nothing the fuzzer sent crashed a handler.
        assert "unhandled error" not in ctl.log.read_text()
