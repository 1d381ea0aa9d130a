from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.support.agent_thread import AgentThread
from tests.support.ncclient_tuning import shorten_ncclient_tick


@pytest.fixture(scope="session", autouse=True)
def _fast_ncclient() -> None:
    shorten_ncclient_tick()


@pytest.fixture
def wifi_agent(tmp_path: Path) -> Iterator[AgentThread]:
    with AgentThread(tmp_path / "wifi", kind="wifi") as agent:
        yield agent


@pytest.fixture
def lte_agent(tmp_path: Path) -> Iterator[AgentThread]:
    with AgentThread(tmp_path / "lte", kind="lte") as agent:
        yield agent
