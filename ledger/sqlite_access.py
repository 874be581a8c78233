"""Short-lived SQLite connections beside eventsourcing's own, for the tables the ledger's
packages keep in the same file (credentials, the audit's tables).

Autocommit mode (`isolation_level=None`) with an explicit `BEGIN IMMEDIATE` for writes, so a
writer takes the file's write lock before it reads what it will change, and a 30 s busy timeout
for the moments another process holds it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

BUSY_TIMEOUT_S = 30


def connect(path: str, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection to the store's SQLite file (or `file:` URI) in autocommit mode."""
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_S,
        isolation_level=None,
        uri=path.startswith("file:"),
        check_same_thread=check_same_thread,
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    return conn


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Cursor]:
    """A cursor in one `BEGIN IMMEDIATE` transaction on this connection, which it then closes:
    committed when the block ends, rolled back when it raises."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn.cursor()
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
