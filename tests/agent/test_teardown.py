"""Shutting down with libyang data trees still alive: trees go before the
context they point into, and only on the thread that owns them, whatever
order the interpreter collects objects in at exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.agent_process import make_client_key

SCRIPT = textwrap.dedent('''
    import asyncio, sys, threading
    from pathlib import Path
    from agent.datastore.schema import SchemaLibrary
    from agent.datastore.tree import DataTree
    from agent.server import AgentConfig, AgentServer

    mode, state, key = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    KEPT = []


    class Cycle:  # collected by the cycle collector, at exit or on any thread
        def __init__(self, tree):
            self.tree, self.me = tree, self


    async def main():
        library = SchemaLibrary() if mode == "shared-library" else None
        agent = AgentServer(AgentConfig(kind="lte", state_dir=state, authorized_keys=[key],
                                        backend="sim", schema_library=library))
        await agent.start()
        schema = agent.store.schema
        cell = {"ransdn-lte:lte-cell": {"cell": {"tac": 5}}}
        KEPT.append(Cycle(DataTree.from_json(schema, cell, config_only=True)))
        KEPT.extend([agent, library, schema])
        if mode == "foreign-thread":
            tree = DataTree.from_json(schema, cell, config_only=True)
            worker = threading.Thread(target=lambda: KEPT.append(Cycle(tree.dup())))
            worker.start()
            worker.join()
            del tree
        if mode != "exit-running":
            await agent.stop()
        # a tree outliving the agent and its schema library
        KEPT.append(DataTree.from_json(schema, cell, config_only=True))


    asyncio.run(main())
    print("clean")
''')


@pytest.mark.parametrize("mode", ["own-library", "shared-library", "exit-running", "foreign-thread"])
def test_exit_with_trees_alive_is_clean(tmp_path: Path, mode: str) -> None:
    key = make_client_key(tmp_path / "key").public_line
    repo = Path(__file__).resolve().parents[2]
    res = subprocess.run([sys.executable, "-X", "dev", "-c", SCRIPT, mode, str(tmp_path / "state"), key],
                         capture_output=True, text=True, timeout=120, cwd=repo)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip() == "clean"
    assert "Exception ignored" not in res.stderr and "Fatal Python error" not in res.stderr, res.stderr[-3000:]
