"""The airtime API of a controller process without nodes: status, policy
switching and its bad input."""

from __future__ import annotations

from pathlib import Path

from ransdn.southbound.keys import load_or_create_client_key

from ..controller.processes import ControllerProcess, run_cli


def _controller(tmp_path: Path, *extra: str) -> ControllerProcess:
    key = load_or_create_client_key(tmp_path / "controller_ed25519")
    return ControllerProcess(tmp_path / "c.db", client_key=key.private_path, extra=list(extra))


def test_scheduler_runs_by_default_with_the_contention_aware_policy(tmp_path):
    with _controller(tmp_path) as ctl:
        status = ctl.get("/api/v1/airtime")
        assert status["enabled"] is True
        assert status["policy"] == "contention-aware"
        assert status["policies"] == ["contention-aware", "local-only"]


def test_scheduler_switched_off_serves_an_empty_sla(tmp_path):
    with _controller(tmp_path, "--airtime-period", "0") as ctl:
        status = ctl.get("/api/v1/airtime")
        assert status["enabled"] is False and status["periods_run"] == 0
        assert ctl.get("/api/v1/sla") == {"items": []}
        code, _, body = ctl.request("GET", "/api/v1/slices/nope/sla")
        assert code == 404


def test_policy_switch_and_refusal(tmp_path):
    with _controller(tmp_path, "--airtime-period", "0.2", "--airtime-policy", "local-only") as ctl:
        assert ctl.get("/api/v1/airtime")["enabled"] is True
        code, _, body = ctl.request("PUT", "/api/v1/airtime/policy", {"policy": "round-robin"})
        assert code == 422 and "known: contention-aware, local-only" in body["detail"]
        code, _, body = ctl.request("PUT", "/api/v1/airtime/policy", {"policy": "local-only", "x": 1})
        assert code == 422
        code, _, body = ctl.request("PUT", "/api/v1/airtime/policy", raw=b"{", content_type="application/json")
        assert code == 400
        # Nothing changed.
        assert ctl.get("/api/v1/airtime")["policy"] == "local-only"

        code, _, body = ctl.request("PUT", "/api/v1/airtime/policy", {"policy": "contention-aware"})
        assert code == 200 and body["policy"] == "contention-aware"
        events = ctl.get("/api/v1/events?kind=airtime")["items"]
        assert [e["details"]["policy"] for e in events] == ["contention-aware"]

        out = run_cli(ctl.url, "airtime")
        assert out.returncode == 0 and "contention-aware" in out.stdout
        out = run_cli(ctl.url, "airtime", "policy", "bogus")
        assert out.returncode == 1 and "unknown airtime policy" in out.stderr
        out = run_cli(ctl.url, "sla", "watch", "--count", "1")
        assert out.returncode == 0 and "policy contention-aware" in out.stdout
        # The loop runs (empty network) and counts its periods.
        metrics = ctl.request("GET", "/metrics")[2]
        assert "ransdn_airtime_periods_total" in metrics
