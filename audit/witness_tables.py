"""The log side's witness tables (DDL only, for :mod:`audit.db`), and the publishing hook.

* ``audit_witnesses``: the witnesses the log submits its checkpoints to, one row per
  ``ledger audit witnesses add`` (name, verifier key, URL); the newest row of a name is its
  configuration;
* ``audit_cosignatures``: every cosignature a witness returned, with the checkpoint row, size
  and root it cosigned.

Both are append-only (guarded by :mod:`ledger.guards` like the other audit tables). Importing
this module registers :func:`cosignature_lines` with :data:`audit.checkpoint_log.COSIGNATURE_SOURCES`,
so the published checkpoint (``/tlog/checkpoint``, receipts) carries the stored cosignatures.
"""

from __future__ import annotations

from typing import Any

from audit.checkpoint_log import COSIGNATURE_SOURCES, StoredCheckpoint

WITNESSES = "audit_witnesses"
COSIGNATURES = "audit_cosignatures"
TABLES = (WITNESSES, COSIGNATURES)

SQLITE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {WITNESSES} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "name TEXT NOT NULL, vkey TEXT NOT NULL, url TEXT NOT NULL, added_at TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {COSIGNATURES} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "witness TEXT NOT NULL, checkpoint_id INTEGER NOT NULL, tree_size INTEGER NOT NULL, "
    "root_hash TEXT NOT NULL, line TEXT NOT NULL, cosigned_at INTEGER NOT NULL, "
    "received_at TEXT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {COSIGNATURES}_by_size ON {COSIGNATURES} (tree_size)",
)
POSTGRES_DDL = (
    f"CREATE TABLE IF NOT EXISTS {{s}}.{WITNESSES} (id BIGSERIAL PRIMARY KEY, "
    "name TEXT NOT NULL, vkey TEXT NOT NULL, url TEXT NOT NULL, added_at TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {{s}}.{COSIGNATURES} (id BIGSERIAL PRIMARY KEY, "
    "witness TEXT NOT NULL, checkpoint_id BIGINT NOT NULL, tree_size BIGINT NOT NULL, "
    "root_hash TEXT NOT NULL, line TEXT NOT NULL, cosigned_at BIGINT NOT NULL, "
    "received_at TEXT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {COSIGNATURES}_by_size ON {{s}}.{COSIGNATURES} (tree_size)",
)


def cosignature_lines(app: Any, stored: StoredCheckpoint) -> list[str]:
    """The valid cosignature lines stored for a checkpoint (one per configured witness)."""
    from audit.witness_client import valid_cosignatures

    return [c.line for c in valid_cosignatures(app, stored.checkpoint)]


if cosignature_lines not in COSIGNATURE_SOURCES:
    COSIGNATURE_SOURCES.append(cosignature_lines)
