"""The embedded store: one SQLite database in WAL mode.

Calls are synchronous: each is a short local transaction (well under a
millisecond plus one fsync), cheaper than a hop to a thread.  ``synchronous
= FULL`` makes every committed transaction survive kill -9 and power loss.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ransdn.model.node import Node, RadioInfo
from ransdn.model.slice import Slice, share, slice_from_stored
from ransdn.store.migrations import MIGRATIONS, SCHEMA_VERSION


class StoreError(Exception):
    """The database cannot be used (newer schema, corruption)."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    seq: int
    time: str
    kind: str
    severity: str
    message: str
    node: str | None = None
    slice: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "time": self.time, "kind": self.kind, "severity": self.severity,
            "node": self.node, "slice": self.slice, "message": self.message,
            "details": self.details,
        }


@dataclass(frozen=True)
class AirtimeOverride:
    """A per-vif airtime setting from the global scheduler.

    ``guaranteed_share`` None leaves the slice's share; ``cap`` None leaves
    the slice's cap, ``clear_cap`` removes any cap.
    """

    node: str
    radio: str
    vif: str
    guaranteed_share: Decimal | None = None
    cap: Decimal | None = None
    clear_cap: bool = False


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), isolation_level=None,
                                   check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def close(self) -> None:
        self._db.close()

    # -- schema ------------------------------------------------------------

    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {current}; this controller knows up to "
                f"{SCHEMA_VERSION}. Upgrade the controller.")
        for version in range(current, SCHEMA_VERSION):
            with self._tx():
                for stmt in _statements(MIGRATIONS[version]):
                    self._db.execute(stmt)
                self._db.execute(f"PRAGMA user_version={version + 1}")

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)

    # -- nodes -------------------------------------------------------------

    def add_node(self, node: Node) -> Node:
        created = now()
        with self._tx():
            self._db.execute(
                "INSERT INTO node (name, kind, spec, created_at) VALUES (?, ?, ?, ?)",
                (node.name, node.kind, json.dumps(node.spec()), created))
        return self.get_node(node.name)  # type: ignore[return-value]

    def get_node(self, name: str) -> Node | None:
        row = self._db.execute("SELECT * FROM node WHERE name = ?", (name,)).fetchone()
        return _node(row) if row else None

    def list_nodes(self) -> list[Node]:
        return [_node(r) for r in self._db.execute("SELECT * FROM node ORDER BY name")]

    def delete_node(self, name: str) -> bool:
        with self._tx():
            cur = self._db.execute("DELETE FROM node WHERE name = ?", (name,))
            self._db.execute("DELETE FROM airtime_override WHERE node = ?", (name,))
        return cur.rowcount > 0

    def set_node_reported(self, name: str, radios: list[RadioInfo],
                          capabilities: list[str]) -> None:
        reported = {"radios": [r.to_dict() for r in radios], "capabilities": capabilities}
        with self._tx():
            self._db.execute("UPDATE node SET reported = ? WHERE name = ?",
                             (json.dumps(reported), name))

    # -- slices ------------------------------------------------------------

    def get_slice(self, slice_id: str) -> Slice | None:
        row = self._db.execute("SELECT * FROM slice WHERE id = ?", (slice_id,)).fetchone()
        return _slice(row) if row else None

    def list_slices(self) -> list[Slice]:
        return [_slice(r) for r in self._db.execute("SELECT * FROM slice ORDER BY id")]

    def put_slice(self, s: Slice, *, expected_version: int | None) -> Slice:
        """Insert (``expected_version`` None) or update a slice whose stored
        version is ``expected_version``; returns it with the new version."""
        stamp = now()
        with self._tx():
            if expected_version is None:
                s = s.with_status(version=1, created_at=stamp, updated_at=stamp)
                self._db.execute(
                    "INSERT INTO slice (id, tenant, spec, state, version, last_transaction,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (s.id, s.tenant, json.dumps(s.spec()), s.state, s.version,
                     json.dumps(s.last_transaction), s.created_at, s.updated_at))
            else:
                s = s.with_status(version=expected_version + 1, updated_at=stamp)
                cur = self._db.execute(
                    "UPDATE slice SET tenant = ?, spec = ?, state = ?, version = ?,"
                    " last_transaction = ?, updated_at = ? WHERE id = ? AND version = ?",
                    (s.tenant, json.dumps(s.spec()), s.state, s.version,
                     json.dumps(s.last_transaction), s.updated_at, s.id, expected_version))
                if cur.rowcount != 1:
                    raise StoreError(f"slice {s.id} changed concurrently")
        return s

    def set_slice_status(self, slice_id: str, state: str,
                         last_transaction: dict[str, Any] | None) -> None:
        """Record provisioning status without bumping the intent's version."""
        with self._tx():
            self._db.execute(
                "UPDATE slice SET state = ?, last_transaction = ? WHERE id = ?",
                (state, json.dumps(last_transaction), slice_id))

    def delete_slice(self, slice_id: str) -> bool:
        with self._tx():
            cur = self._db.execute("DELETE FROM slice WHERE id = ?", (slice_id,))
        return cur.rowcount > 0

    # -- airtime overrides -------------------------------------------------

    def put_airtime_overrides(self, overrides: list[AirtimeOverride]) -> None:
        stamp = now()
        with self._tx():
            for o in overrides:
                cap = "none" if o.clear_cap else (str(o.cap) if o.cap is not None else None)
                gs = str(o.guaranteed_share) if o.guaranteed_share is not None else None
                self._db.execute(
                    "INSERT INTO airtime_override (node, radio, vif, guaranteed_share, cap,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (node, radio, vif)"
                    " DO UPDATE SET guaranteed_share = excluded.guaranteed_share,"
                    " cap = excluded.cap, updated_at = excluded.updated_at",
                    (o.node, o.radio, o.vif, gs, cap, stamp))

    def clear_airtime_overrides(self, node: str | None = None) -> None:
        with self._tx():
            if node is None:
                self._db.execute("DELETE FROM airtime_override")
            else:
                self._db.execute("DELETE FROM airtime_override WHERE node = ?", (node,))

    def airtime_overrides(self) -> list[AirtimeOverride]:
        out = []
        for r in self._db.execute("SELECT * FROM airtime_override ORDER BY node, radio, vif"):
            cap = r["cap"]
            out.append(AirtimeOverride(
                r["node"], r["radio"], r["vif"],
                share(r["guaranteed_share"]) if r["guaranteed_share"] is not None else None,
                share(cap) if cap not in (None, "none") else None,
                clear_cap=cap == "none"))
        return out

    # -- events ------------------------------------------------------------

    def add_event(self, kind: str, message: str, *, severity: str = "info",
                  node: str | None = None, slice: str | None = None,
                  details: dict[str, Any] | None = None) -> Event:
        stamp = now()
        body = json.dumps(details or {})
        with self._tx():
            cur = self._db.execute(
                "INSERT INTO event (time, kind, severity, node, slice, message, details)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (stamp, kind, severity, node, slice, message, body))
        return Event(cur.lastrowid or 0, stamp, kind, severity, message, node, slice,
                     details or {})

    def events(self, *, after: int = 0, limit: int = 100, node: str | None = None,
               slice: str | None = None, kind: str | None = None) -> list[Event]:
        sql = "SELECT * FROM event WHERE seq > ?"
        args: list[Any] = [after]
        for col, val in (("node", node), ("slice", slice)):
            if val is not None:
                sql += f" AND {col} = ?"
                args.append(val)
        if kind is not None:
            sql += " AND (kind = ? OR kind LIKE ?)"
            args += [kind, kind + ".%"]
        sql += " ORDER BY seq LIMIT ?"
        args.append(limit)
        return [Event(r["seq"], r["time"], r["kind"], r["severity"], r["message"], r["node"],
                      r["slice"], json.loads(r["details"]))
                for r in self._db.execute(sql, args)]

    def count_events(self, kind_prefix: str) -> int:
        return self._db.execute("SELECT count(*) FROM event WHERE kind LIKE ?",
                                (kind_prefix + "%",)).fetchone()[0]

    # -- idempotency keys --------------------------------------------------

    def idempotent_response(self, key: str) -> tuple[str, int, Any, dict[str, str]] | None:
        row = self._db.execute("SELECT * FROM idempotency WHERE key = ?", (key,)).fetchone()
        if not row:
            return None
        return row["fingerprint"], row["status"], json.loads(row["body"]), json.loads(row["headers"])

    def remember_response(self, key: str, fingerprint: str, status: int, body: Any,
                          headers: dict[str, str]) -> None:
        with self._tx():
            self._db.execute(
                "INSERT OR REPLACE INTO idempotency (key, fingerprint, status, body, headers,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (key, fingerprint, status, json.dumps(body), json.dumps(headers), now()))


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _statements(script: str) -> Iterator[str]:
    for stmt in script.split(";"):
        if stmt.strip():
            yield stmt


def _node(row: sqlite3.Row) -> Node:
    spec = json.loads(row["spec"])
    reported = json.loads(row["reported"])
    return Node(
        name=row["name"], kind=row["kind"], address=spec["address"], port=spec["port"],
        host_key=spec["host_key"], username=spec.get("username", "ransdn"),
        description=spec.get("description", ""),
        declared_radios=tuple(RadioInfo.from_dict(r) for r in spec.get("radios", ())),
        reported_radios=tuple(RadioInfo.from_dict(r) for r in reported.get("radios", ())),
        capabilities=tuple(reported.get("capabilities", ())),
        created_at=row["created_at"])


def _slice(row: sqlite3.Row) -> Slice:
    return slice_from_stored(
        json.loads(row["spec"]), state=row["state"], version=row["version"],
        created_at=row["created_at"], updated_at=row["updated_at"],
        last_transaction=json.loads(row["last_transaction"]) if row["last_transaction"] else None)
