"""The SQLite store: versioned schema, and nothing acknowledged is lost on kill -9."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from ransdn.model.slice import slice_from_request
from ransdn.store import Store, StoreError
from ransdn.store.migrations import SCHEMA_VERSION

from .helpers import wifi_doc, wifi_node


def test_schema_is_versioned_and_newer_schemas_are_refused(tmp_path):
    db = tmp_path / "c.db"
    s = Store(db)
    assert s.schema_version() == SCHEMA_VERSION
    s.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StoreError, match="Upgrade the controller"):
        Store(db)


def test_upgrade_from_version_1_keeps_data(tmp_path):
    from ransdn.store.migrations import MIGRATIONS
    db = tmp_path / "c.db"
    con = sqlite3.connect(db)
    con.executescript(MIGRATIONS[0] + "; PRAGMA user_version=1;")
    con.execute("INSERT INTO event (time, kind, severity, message) VALUES ('t', 'k', 'info', 'm')")
    con.commit()
    con.close()
    s = Store(db)
    assert s.schema_version() == SCHEMA_VERSION
    assert [e.message for e in s.events()] == ["m"]
    assert s.airtime_overrides() == []


def test_optimistic_versioning_of_slices(tmp_path):
    s = Store(tmp_path / "c.db")
    s.add_node(wifi_node("ap1"))
    sl = s.put_slice(slice_from_request(wifi_doc("t", "x", 10, ["ap1"]), "a"), expected_version=None)
    assert sl.version == 1
    sl2 = s.put_slice(sl, expected_version=1)
    assert sl2.version == 2
    with pytest.raises(StoreError):
        s.put_slice(sl, expected_version=1)


WRITER = textwrap.dedent("""
    import sys
    from ransdn.model.slice import slice_from_request
    from ransdn.store import Store
    s = Store(sys.argv[1])
    i = 0
    while True:
        doc = {"tenant": "t", "wifi": {"ssid": f"s{i}", "guaranteed_share": 0,
               "nodes": [{"node": "ap1", "radios": ["phy0"]}]}}
        s.put_slice(slice_from_request(doc, f"slice-{i}"), expected_version=None)
        s.add_event("test", f"event {i}")
        print(i, flush=True)
        i += 1
""")


@pytest.mark.slow
def test_nothing_acknowledged_is_lost_on_kill_9(tmp_path):
    db = tmp_path / "c.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE,
                            text=True)
    acked = -1
    assert proc.stdout is not None
    for line in proc.stdout:
        acked = int(line)
        if acked >= 200:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    s = Store(db)
    ids = {x.id for x in s.list_slices()}
    assert {f"slice-{i}" for i in range(acked + 1)} <= ids
    assert len([e for e in s.events(limit=1000) if e.kind == "test"]) >= acked + 1
