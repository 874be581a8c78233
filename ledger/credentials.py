"""The credentials table: password and token hashes, kept outside the event log.

`ledger_credentials` lives in the store's own database (SQLite file, or PostgreSQL schema) beside
the events, but it is not part of the log and not part of the Merkle tree: it is mutable (a
password is replaced, a token revoked) and nothing in it is ever shown. One row per credential:

* ``kind``: ``password`` (one per user; ``credential_id`` is the user's name) or ``token``
  (``credential_id`` is the token id, which the token carries in clear);
* ``user_name``, ``secret_hash`` (werkzeug's salted hash of a password, or the SHA-256 of a
  token), ``issued_at``, ``expires_at`` (tokens) and ``revoked_at`` — ISO 8601 instants in UTC.

`ledger init` creates the table (:func:`create_credentials_table`); the owner of a store made
before it creates it on first use, while a least-privilege role only needs SELECT, INSERT,
UPDATE and DELETE on it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.schema import require_creatable
from ledger.sqlite_access import connect, write_transaction

TABLE = "ledger_credentials"
PASSWORD = "password"
TOKEN = "token"

_COLUMNS = ("kind", "credential_id", "user_name", "secret_hash", "issued_at", "expires_at",
            "revoked_at")  # fmt: skip

_DDL = (
    "CREATE TABLE IF NOT EXISTS {t} (kind TEXT NOT NULL, credential_id TEXT NOT NULL, "
    "user_name TEXT NOT NULL, secret_hash TEXT NOT NULL, issued_at TEXT NOT NULL, "
    "expires_at TEXT, revoked_at TEXT, PRIMARY KEY (kind, credential_id))",
    "CREATE INDEX IF NOT EXISTS {i} ON {t} (user_name)",
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(instant: datetime) -> str:
    """An instant as stored: ISO 8601 in UTC with seconds (text order is time order)."""
    return instant.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Credential:
    kind: str
    credential_id: str
    user_name: str
    secret_hash: str
    issued_at: str
    expires_at: str | None
    revoked_at: str | None

    def usable_at(self, instant: datetime) -> bool:
        """Not revoked, and not expired at `instant`."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or datetime.fromisoformat(self.expires_at) > instant


class Credentials:
    """Reads and writes of `ledger_credentials` on one ledger's store."""

    def __init__(self, app_or_store: Any) -> None:
        """On a ledger application (its connection pool) or a bare `ledger.storage.Store`."""
        app = app_or_store if hasattr(app_or_store, "recorder") else None
        self.store = app.store if app is not None else app_or_store
        self.is_postgres = self.store.is_postgres
        #: The application's connection pool (either store), which reads use; None on a bare store.
        self._datastore = app.recorder.datastore if app is not None else None
        if self.is_postgres:
            self.table = f'"{self.store.postgres_schema}".{TABLE}'
        else:
            self.table = TABLE
        self._ready = False
        self._lock = threading.Lock()

    # -- connections -------------------------------------------------------------------------

    def _sql(self, text: str) -> str:
        text = text.replace("{t}", self.table)
        return text.replace("?", "%s") if self.is_postgres else text

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A cursor in one write transaction (tuple rows)."""
        self.ensure_table()
        if self.is_postgres:
            from psycopg.rows import tuple_row

            with self._pg_connection() as conn, conn.transaction():
                yield conn.cursor(row_factory=tuple_row)
        else:
            with write_transaction(self._sqlite_connect()) as cursor:
                yield cursor

    @contextmanager
    def _read_cursor(self) -> Iterator[Any]:
        """A cursor for one SELECT (tuple rows): a single statement reads one consistent
        snapshot, so no transaction is opened around it (no BEGIN/COMMIT round trips on
        PostgreSQL, no write lock on SQLite). On a ledger application the connection comes from
        its pool (on SQLite, opening a connection costs more than the lookup itself)."""
        self.ensure_table()
        if self.is_postgres:
            from psycopg.rows import tuple_row

            with self._pg_connection() as conn:
                yield conn.cursor(row_factory=tuple_row)
        elif self._datastore is not None:
            with self._datastore.get_connection(commit=False) as pooled, pooled.cursor() as cursor:
                yield cursor  # autocommit: the SELECT is a transaction of its own; closed after
        else:
            conn = self._sqlite_connect()
            try:
                yield conn.cursor()
            finally:
                conn.close()

    @contextmanager
    def _pg_connection(self) -> Iterator[Any]:
        if self._datastore is not None and self.is_postgres:
            with self._datastore.get_connection() as conn:
                yield conn
            return
        import psycopg

        with psycopg.connect(self.store.postgres_conninfo()) as conn:
            yield conn

    def _sqlite_connect(self) -> sqlite3.Connection:
        return connect(self.store.sqlite_path)

    # -- the table ---------------------------------------------------------------------------

    def exists(self) -> bool:
        if self.is_postgres:
            with self._pg_connection() as conn, conn.transaction():
                row = conn.execute("SELECT to_regclass(%s) IS NOT NULL AS present",
                                   (self.table,)).fetchone()  # fmt: skip
            return bool(row["present"] if isinstance(row, dict) else row[0])
        conn = self._sqlite_connect()
        try:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
            ).fetchone()
        finally:
            conn.close()
        return row is not None

    def create(self) -> None:
        """Create the table (and its index) if missing: DDL, for the store's owner."""
        statements = [s.format(t=self.table, i=f"{TABLE}_user_name") for s in _DDL]
        if self.is_postgres:
            with self._pg_connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (0x5EC7E7,))
                for statement in statements:
                    conn.execute(statement)
        else:
            conn = self._sqlite_connect()
            try:
                for statement in statements:
                    conn.execute(statement)
            finally:
                conn.close()
        self._ready = True

    def ensure_table(self) -> None:
        """Create the table once if it is missing (checked first: a role without DDL rights
        may use the table but not run CREATE, not even IF NOT EXISTS)."""
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                if not self.exists():
                    create_credentials_table(self.store)
                self._ready = True

    # -- reading and writing -----------------------------------------------------------------

    def get(self, kind: str, credential_id: str) -> Credential | None:
        with self._read_cursor() as cur:
            cur.execute(self._sql(f"SELECT {', '.join(_COLUMNS)} FROM {{t}} "
                                  "WHERE kind = ? AND credential_id = ?"), (kind, credential_id))  # fmt: skip
            row = cur.fetchone()
        return Credential(*row) if row else None

    def of_user(self, user_name: str) -> list[Credential]:
        with self._read_cursor() as cur:
            cur.execute(self._sql(f"SELECT {', '.join(_COLUMNS)} FROM {{t}} WHERE user_name = ? "
                                  "ORDER BY kind, issued_at, credential_id"), (user_name,))  # fmt: skip
            return [Credential(*row) for row in cur.fetchall()]

    def set_password_hash(self, user_name: str, password_hash: str, at: datetime) -> None:
        """Store (or replace) the password hash of a user."""
        with self._cursor() as cur:
            cur.execute(self._sql("DELETE FROM {t} WHERE kind = ? AND credential_id = ?"),
                        (PASSWORD, user_name))  # fmt: skip
            cur.execute(
                self._sql(f"INSERT INTO {{t}} ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                (PASSWORD, user_name, user_name, password_hash, iso(at), None, None),
            )

    def add_token(self, user_name: str, token_id: str, token_sha256: str, issued_at: datetime,
                  expires_at: datetime) -> None:  # fmt: skip
        with self._cursor() as cur:
            cur.execute(
                self._sql(f"INSERT INTO {{t}} ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                (TOKEN, token_id, user_name, token_sha256, iso(issued_at), iso(expires_at), None),
            )

    def revoke_token(self, token_id: str, at: datetime) -> None:
        with self._cursor() as cur:
            cur.execute(self._sql("UPDATE {t} SET revoked_at = ? WHERE kind = ? "
                                  "AND credential_id = ? AND revoked_at IS NULL"),
                        (iso(at), TOKEN, token_id))  # fmt: skip


def create_credentials_table(store: Any) -> None:
    """Create `ledger_credentials` if it is missing (`ledger init`), in the store of a
    `ledger.storage.Store` or of a ledger application. When it exists no DDL is sent (a
    least-privilege role may use it but not create it); when it is missing and this user may
    not create it, `ledger.schema.OwnerRequired` says to run `ledger init` as the owner."""
    credentials = Credentials(store)
    if require_creatable(credentials.store, (TABLE,)):
        credentials.create()
