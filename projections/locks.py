"""Advisory locks named after a store, which the operating system or the database releases
when their holder dies.

Who follows the log is decided with them: `ledger worker` holds the store's "worker" lock
(shared, so that several workers may run) for as long as it runs, and `ledger serve` keeps the
views current itself only while nobody holds it (see web/follower.py). A worker that crashed
holds nothing: on PostgreSQL a session advisory lock ends with its session, on SQLite a
`flock` on a file beside the database ends with its process. There is no heartbeat to go
stale.

- PostgreSQL: `pg_advisory_lock_shared(class, key)` / `pg_try_advisory_lock(class, key)` on a
  connection of the lock's own, `key` derived from the schema's name (locks are per database).
  Whether someone else holds a lock is read from `pg_locks` (no attempt to take it).
- SQLite: `flock` on `<database file>.<name>.lock`. Whether someone else holds it is found by
  trying to take it exclusively, without waiting, and letting it go at once.
- Elsewhere (no `fcntl`, or an in-memory SQLite database) no lock can be shared between
  processes: `try_acquire` always succeeds and `held_elsewhere` is always False, so every
  process follows (which is harmless: see projections/recorder.py).
"""

from __future__ import annotations

import contextlib
import os
import zlib
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or macOS
    fcntl = None  # type: ignore[assignment]

#: The first half of a PostgreSQL advisory lock's key, per lock name (the second is the schema's).
_PG_CLASS = {"worker": 0x5EDC01, "serve-follower": 0x5EDC02}


class StoreLock:
    """One named advisory lock of one store (a `ledger.storage.Store`)."""

    def __init__(self, store: Any, name: str) -> None:
        assert name in _PG_CLASS, name
        self.store = store
        self.name = name
        self._conn: Any = None  # PostgreSQL: the session that holds the lock
        self._fd: int | None = None  # SQLite: the open lock file that holds the lock
        self.held = False
        self._shared = False
        if store.is_postgres:
            self._key = (_PG_CLASS[name], zlib.crc32(store.postgres_schema.encode()) & 0x7FFFFFFF)
            self.path = None
        else:
            db_path = store.sqlite_path
            usable = fcntl is not None and db_path != ":memory:" and not db_path.startswith("file:")
            self.path = f"{db_path}.{name}.lock" if usable else None

    # -- PostgreSQL ---------------------------------------------------------------------------

    def _pg(self) -> Any:
        if self._conn is None or self._conn.closed:
            import psycopg

            self._conn = psycopg.connect(
                self.store.postgres_conninfo(), autocommit=True, connect_timeout=10,
                application_name=f"ledger {self.name} lock",
            )  # fmt: skip
        return self._conn

    def _pg_call(self, function: str) -> bool:
        row = self._pg().execute(f"SELECT {function}(%s::int4, %s::int4)", self._key).fetchone()
        return bool(row and row[0] is not False)

    # -- SQLite -------------------------------------------------------------------------------

    def _open(self) -> int:
        assert self.path is not None
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def _flock(self, operation: int) -> bool:
        if self._fd is None:
            self._fd = self._open()
        try:
            fcntl.flock(self._fd, operation)
        except BlockingIOError:
            return False
        return True

    # -- the lock -----------------------------------------------------------------------------

    def try_acquire(self, *, shared: bool = False) -> bool:
        """Take the lock if nobody else holds it (exclusively) or holds it exclusively
        (shared); never waits. True when this object now holds it."""
        if self.held:
            return True
        self._shared = shared
        if self.store.is_postgres:
            self.held = self._pg_call(
                "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
            )
        elif self.path is None:
            self.held = True
        else:
            mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
            self.held = self._flock(mode | fcntl.LOCK_NB)
        return self.held

    def acquire_shared(self) -> None:
        """Take the lock shared, waiting while someone holds it exclusively (a `held_elsewhere`
        probe on SQLite does, for an instant)."""
        if self.held:
            return
        self._shared = True
        if self.store.is_postgres:
            self._pg_call("pg_advisory_lock_shared")
        elif self.path is not None:
            self._flock(fcntl.LOCK_SH)
        self.held = True

    def held_elsewhere(self) -> bool:
        """Whether a process other than this object holds the lock (asked by non-holders)."""
        if self.store.is_postgres:
            classid, objid = self._key
            row = self._pg().execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND classid::int8 = %s::int8 AND objid::int8 = %s::int8 AND objsubid = 2 AND pid <> pg_backend_pid())",
                (classid, objid),
            ).fetchone()
            return bool(row and row[0])
        if self.path is None:
            return False
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing the file lets the probe's lock go
        return False

    def check(self) -> bool:
        """Whether this object still holds the lock (PostgreSQL: its session is alive)."""
        if not self.held:
            return False
        if self.store.is_postgres:
            try:
                self._pg().execute("SELECT 1")
            except Exception:
                self.held = False
                self.close()
        return self.held

    def release(self) -> None:
        """Let the lock go (at once: others see it free when this returns)."""
        if self.held and self.store.is_postgres and self._conn is not None:
            with contextlib.suppress(Exception):  # a broken session has let it go already
                self._pg_call("pg_advisory_unlock_shared" if self._shared else "pg_advisory_unlock")
        self.held = False
        self.close()  # closing the file lets a flock go

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
