"""Versioned schema of the SQLite store.

Each entry upgrades the schema from version ``i`` to ``i + 1``; the store
applies the missing ones in one transaction at open time.  Never edit an
entry that has shipped: append a new one.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema.
    """
    CREATE TABLE node (
        name        TEXT PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('wifi', 'lte')),
        spec        TEXT NOT NULL,
        reported    TEXT NOT NULL DEFAULT '{}',
        created_at  TEXT NOT NULL
    );
    CREATE TABLE slice (
        id               TEXT PRIMARY KEY,
        tenant           TEXT NOT NULL,
        spec             TEXT NOT NULL,
        state            TEXT NOT NULL,
        version          INTEGER NOT NULL,
        last_transaction TEXT,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL
    );
    CREATE TABLE event (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        time     TEXT NOT NULL,
        kind     TEXT NOT NULL,
        severity TEXT NOT NULL,
        node     TEXT,
        slice    TEXT,
        message  TEXT NOT NULL,
        details  TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX event_node ON event (node, seq);
    CREATE INDEX event_slice ON event (slice, seq);
    CREATE TABLE idempotency (
        key         TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        status      INTEGER NOT NULL,
        body        TEXT NOT NULL,
        headers     TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    """,
    # 2: per-vif airtime overrides set by the global scheduler.
    """
    CREATE TABLE airtime_override (
        node             TEXT NOT NULL,
        radio            TEXT NOT NULL,
        vif              TEXT NOT NULL,
        guaranteed_share TEXT,
        cap              TEXT,
        updated_at       TEXT NOT NULL,
        PRIMARY KEY (node, radio, vif)
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
