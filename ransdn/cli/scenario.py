"""``ransdn scenario list|run``: the test bed's scenarios, live (see
:mod:`testbed.scenarios.cli`)."""

from __future__ import annotations

from typing import Any

from ransdn.cli.main import add_command


def register(sub: Any) -> None:
    from testbed.scenarios.cli import register as register_scenarios

    register_scenarios(sub, add_command)
