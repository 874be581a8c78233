"""The audit's access to the store: its own tables beside the events, on SQLite or PostgreSQL.

The audit keeps four tables in the same database (and PostgreSQL schema) as the events:

* ``audit_leaves``: one row per event, ``(leaf_index, position, leaf_hash)``, written by the
  ledger's recorder in the transaction that records the event (:mod:`ledger.leaf_index`, which
  also holds its DDL; the events table's creation creates it);
* ``audit_nodes``: the persisted Merkle node cache, ``(level, idx, node)`` for every complete,
  aligned subtree at the cached levels (see :mod:`audit.merkle`);
* ``audit_tree_heads``: every signed tree head;
* ``audit_verifications``: the outcome of every ``ledger audit verify`` run;
* ``audit_checkpoints``: the C2SP checkpoint signed with each head (:mod:`audit.checkpoint_log`);
* ``audit_witnesses``, ``audit_cosignatures``: the witnesses and what they cosigned
  (:mod:`audit.witness_tables`);
* ``audit_replay_snapshots``: signed snapshots of the replay state
  (:mod:`audit.replay_snapshots`).

All four are append-only and guarded by triggers (:mod:`ledger.guards`). Statements are
written once with ``?`` placeholders and translated for psycopg. On PostgreSQL the audit borrows
connections from the ledger's own pool; on SQLite it opens short-lived connections of its own.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from audit import replay_snapshot_table, witness_tables
from audit.checkpoint_log import CHECKPOINTS, POSTGRES_CHECKPOINTS_DDL, SQLITE_CHECKPOINTS_DDL
from ledger.guards import guard_tables
from ledger.leaf_index import LEAVES_TABLE, POSTGRES_LEAVES_DDL, SQLITE_LEAVES_DDL
from ledger.schema import require_creatable
from ledger.sqlite_access import connect, write_transaction

if TYPE_CHECKING:
    from ledger.application import SupportLedger

LEAVES = LEAVES_TABLE
NODES = "audit_nodes"
HEADS = "audit_tree_heads"
VERIFICATIONS = "audit_verifications"

#: The audit tables that only ever grow, guarded like the events table (the verification
#: history too: nobody may delete or change the record of a verification).
GUARDED_TABLES = (
    LEAVES, NODES, HEADS, VERIFICATIONS, CHECKPOINTS, *witness_tables.TABLES,
    *replay_snapshot_table.TABLES,
)  # fmt: skip

#: A constant for pg_advisory_xact_lock: one audit writer at a time per database.
_PG_WRITE_LOCK = 0x6A0D17

# audit_leaves is the ledger's (its recorder writes a leaf with every event): ledger.leaf_index.
_SQLITE_DDL = (
    SQLITE_LEAVES_DDL,
    f"CREATE TABLE IF NOT EXISTS {NODES} (level INTEGER NOT NULL, idx INTEGER NOT NULL, "
    "node BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID",
    f"CREATE TABLE IF NOT EXISTS {HEADS} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "tree_size INTEGER NOT NULL, root_hash TEXT NOT NULL, timestamp TEXT NOT NULL, "
    "signature TEXT NOT NULL, public_key TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {VERIFICATIONS} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "started_at TEXT NOT NULL, finished_at TEXT NOT NULL, exit_code INTEGER NOT NULL, "
    "report TEXT NOT NULL)",
    SQLITE_CHECKPOINTS_DDL,
    *witness_tables.SQLITE_DDL,
    *replay_snapshot_table.SQLITE_DDL,
)

_PG_DDL = (
    POSTGRES_LEAVES_DDL.replace("{schema}", "{s}"),
    f"CREATE TABLE IF NOT EXISTS {{s}}.{NODES} (level INTEGER NOT NULL, idx BIGINT NOT NULL, "
    "node BYTEA NOT NULL, PRIMARY KEY (level, idx))",
    f"CREATE TABLE IF NOT EXISTS {{s}}.{HEADS} (id BIGSERIAL PRIMARY KEY, "
    "tree_size BIGINT NOT NULL, root_hash TEXT NOT NULL, timestamp TEXT NOT NULL, "
    "signature TEXT NOT NULL, public_key TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {{s}}.{VERIFICATIONS} (id BIGSERIAL PRIMARY KEY, "
    "started_at TEXT NOT NULL, finished_at TEXT NOT NULL, exit_code INTEGER NOT NULL, "
    "report TEXT NOT NULL)",
    POSTGRES_CHECKPOINTS_DDL,
    *witness_tables.POSTGRES_DDL,
    *replay_snapshot_table.POSTGRES_DDL,
)


class AuditDb:
    """Connections, statements and table names for the audit on one ledger's store."""

    def __init__(self, app: SupportLedger) -> None:
        self.store = app.store
        self.backend: str = self.store.backend
        self.is_postgres = self.backend == "postgresql"
        events_table = app.recorder.events_table_name
        if self.is_postgres:
            self.schema = self.store.postgres_schema
            self._datastore = app.recorder.datastore
            self.prefix = f'"{self.schema}".'
            self.events_table = f'"{self.schema}"."{events_table}"'
            self.position_column = "notification_id"
        else:
            self.schema = ""
            self.prefix = ""
            self.events_table = f'"{events_table}"'
            self.position_column = "rowid"
        self._ready = False
        self._ready_lock = threading.Lock()

    # -- statements ---------------------------------------------------------------------------

    def sql(self, text: str) -> str:
        """A statement written with ``?`` placeholders and ``{t}`` for the schema prefix."""
        text = text.replace("{t}", self.prefix).replace("{events}", self.events_table)
        text = text.replace("{pos}", self.position_column)
        return text.replace("?", "%s") if self.is_postgres else text

    def insert_ignore(self, table: str, columns: Sequence[str]) -> str:
        """An INSERT that skips rows whose key already exists (the same on both stores)."""
        values = ", ".join("?" for _ in columns)
        return self.sql(
            f"INSERT INTO {{t}}{table} ({', '.join(columns)}) VALUES ({values}) "
            "ON CONFLICT DO NOTHING"
        )

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Any]:
        """A cursor in a read-only transaction that sees one snapshot of the store."""
        self.ensure_tables()
        if self.is_postgres:
            from psycopg.rows import tuple_row

            with self._datastore.get_connection() as conn, conn.transaction():
                cur = conn.cursor(row_factory=tuple_row)
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield cur
        else:
            conn = self._sqlite_connect()
            try:
                conn.execute("BEGIN")
                yield conn.cursor()
            finally:
                conn.rollback()
                conn.close()

    def sibling_cursor(self, cur: Any) -> Any:
        """Another cursor in ``cur``'s transaction (the same snapshot), for a second read that
        goes on while the first is still being consumed (the driver serialises them)."""
        if self.is_postgres:
            from psycopg.rows import tuple_row

            return cur.connection.cursor(row_factory=tuple_row)
        return cur.connection.cursor()

    @contextmanager
    def write(self) -> Iterator[Any]:
        """A cursor in a write transaction; audit writers on one store run one at a time."""
        self.ensure_tables()
        if self.is_postgres:
            from psycopg.rows import tuple_row

            with self._datastore.get_connection() as conn, conn.transaction():
                cur = conn.cursor(row_factory=tuple_row)
                cur.execute("SET LOCAL lock_timeout = '30s'")
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_WRITE_LOCK,))
                yield cur
        else:
            with write_transaction(self._sqlite_connect()) as cursor:
                yield cursor

    def _sqlite_connect(self) -> sqlite3.Connection:
        # check_same_thread off: verification reads ahead in a second thread
        return connect(self.store.sqlite_path, check_same_thread=False)

    # -- tables -------------------------------------------------------------------------------

    def ensure_tables(self) -> None:
        """Create the audit tables and their guards where they are missing.

        When they all exist no DDL is sent (a least-privilege role, scripts/create_app_role.sql,
        may use the tables but not run CREATE TABLE, not even IF NOT EXISTS); when some are
        missing and this user may not create them, `ledger.schema.OwnerRequired` says to run
        `ledger init` as the owner.
        """
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            tables = GUARDED_TABLES
            if require_creatable(self.store, tables):
                self._create_tables()
            guard_tables(self.store, GUARDED_TABLES)
            self._ready = True

    def _create_tables(self) -> None:
        if self.is_postgres:
            with self._datastore.get_connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_WRITE_LOCK,))
                for statement in _PG_DDL:
                    conn.execute(statement.format(s=f'"{self.schema}"'))
        else:
            conn = self._sqlite_connect()
            try:
                for statement in _SQLITE_DDL:
                    conn.execute(statement)
            finally:
                conn.close()


def create_tables(app: SupportLedger) -> None:
    """Create the audit's tables and guards where missing (for `ledger init`)."""
    audit_db(app).ensure_tables()


def audit_db(app: SupportLedger) -> AuditDb:
    """The :class:`AuditDb` of a ledger application, made once and kept in its `extensions`."""
    return app.extensions.get(AuditDb, lambda: AuditDb(app))


def as_bytes(value: Any) -> bytes:
    """A BLOB/BYTEA value as bytes (drivers may hand back memoryview)."""
    return value if isinstance(value, bytes) else bytes(value)
