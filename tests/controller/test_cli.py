"""The CLI's help, usage errors and exit codes (no controller needed)."""

from __future__ import annotations

import pytest

from ransdn.cli.main import build_parser, main
from ransdn.southbound.connection import Backoff

COMMANDS = [
    [], ["node"], ["node", "add"], ["node", "list"], ["node", "show"], ["node", "remove"],
    ["slice"], ["slice", "create"], ["slice", "list"], ["slice", "show"], ["slice", "update"],
    ["slice", "delete"], ["slice", "lte"], ["events"], ["watch"], ["key"], ["lte"], ["demo"],
    ["sla"], ["sla", "list"], ["sla", "watch"], ["airtime"], ["airtime", "policy"],
    ["scenario"], ["scenario", "list"], ["scenario", "run"],
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "ransdn")
def test_help_everywhere(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main([*cmd, "--help"])
    assert e.value.code == 0
    assert "usage: ransdn" in capsys.readouterr().out


def test_every_subcommand_is_covered_by_the_help_test():
    parser = build_parser()
    top = next(a for a in parser._actions if a.dest == "command")
    assert {c[0] for c in COMMANDS if c} == set(top.choices)


def test_usage_errors_exit_2(capsys):
    assert main(["--url", "http://127.0.0.1:9", "node", "add", "ap1", "--kind", "wifi"]) == 2
    assert "--address" in capsys.readouterr().err
    assert main(["--url", "http://127.0.0.1:9", "slice", "create", "--tenant", "t"]) == 2
    assert main(["--url", "http://127.0.0.1:9", "slice", "create", "-f", "/nonexistent.yaml"]) == 2
    assert main(["--url", "http://127.0.0.1:9", "node", "add", "a", "--kind", "wifi",
                 "--address", "x", "--host-key", "k", "--radio", "phy0"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["slice", "frobnicate"])
    assert e.value.code == 2


def test_unreachable_controller_exits_3(capsys):
    assert main(["--url", "http://127.0.0.1:9", "slice", "list"]) == 3
    assert "cannot reach the controller" in capsys.readouterr().err


def test_backoff_grows_with_jitter_up_to_the_cap():
    import random
    b = Backoff(base=0.5, cap=8.0, rng=random.Random(1))
    for attempt in range(12):
        step = min(8.0, 0.5 * 2 ** attempt)
        delays = [b.delay(attempt) for _ in range(50)]
        assert all(step / 2 <= d <= step for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert max(b.delay(30) for _ in range(100)) <= 8.0
