"""The Merkle log's leaves, indexed in the transaction that records the events.

Every transaction that inserts events also inserts one row per event into ``audit_leaves``:
``(leaf_index, position, leaf_hash)``, where ``leaf_index`` is the next index (leaves are
numbered 0, 1, 2, … in position order, without gaps even where PostgreSQL positions have
some), ``position`` the event's notification id and ``leaf_hash`` :func:`ledger.leaves.event_leaf_hash`
of the stored event. The recorders of :mod:`ledger.log_recorder_sqlite` and
:mod:`ledger.log_recorder_postgres` call :func:`index_leaves` after the events are inserted and
before the transaction commits, under the lock that orders the events (PostgreSQL: the
``EXCLUSIVE`` table lock eventsourcing takes; SQLite: the single writer), so a leaf exists
exactly when its event does, and nothing waits for a later indexing run.

A store made before leaves were indexed this way has events without leaves at the end of its
log; the first transaction that records an event indexes them first (in batches), so the leaf
index of every event stays its rank in the log. The audit's ``update_log`` does the same for a
store that records nothing.

Only this table's definition and the insert live here; everything that reads the Merkle log is
in the audit package (which the ledger does not import).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.leaves import row_leaf_hashes

LEAVES_TABLE = "audit_leaves"

#: How many events without leaves one read indexes (a store made before leaf indexing).
BACKLOG_BATCH = 10_000

SQLITE_LEAVES_DDL = (
    f"CREATE TABLE IF NOT EXISTS {LEAVES_TABLE} (leaf_index INTEGER PRIMARY KEY, "
    "position INTEGER NOT NULL UNIQUE, leaf_hash BLOB NOT NULL)"
)

#: The PostgreSQL form; ``{schema}`` is the quoted schema name.
POSTGRES_LEAVES_DDL = (
    f"CREATE TABLE IF NOT EXISTS {{schema}}.{LEAVES_TABLE} (leaf_index BIGINT PRIMARY KEY, "
    "position BIGINT NOT NULL UNIQUE, leaf_hash BYTEA NOT NULL)"
)


def leaves_ddl(backend: str, schema: str = "") -> str:
    """The CREATE TABLE IF NOT EXISTS statement of ``audit_leaves`` for a backend."""
    if backend == "postgresql":
        if not schema.replace("_", "").isalnum():
            raise ValueError(f"not a plain schema name: {schema!r}")
        return POSTGRES_LEAVES_DDL.format(schema=f'"{schema}"')
    return SQLITE_LEAVES_DDL


@dataclass(frozen=True)
class LeafStatements:
    """The three statements indexing needs, written for one store (placeholders included)."""

    last_leaf: str
    unindexed: str
    insert: str
    #: Whether ``insert`` takes three arrays (one statement for the batch: PostgreSQL, sent in
    #: binary, which psycopg dumps in C) rather than one row per execution (an executemany:
    #: SQLite, in process).
    insert_arrays: bool = False

    @classmethod
    def sqlite(cls, events_table: str) -> LeafStatements:
        return cls._make(f'"{LEAVES_TABLE}"', f'"{events_table}"', "rowid", "?")

    @classmethod
    def postgres(cls, schema: str, events_table: str) -> LeafStatements:
        leaves = f'"{schema}"."{LEAVES_TABLE}"'
        made = cls._make(leaves, f'"{schema}"."{events_table}"', "notification_id", "%s")
        return cls(
            last_leaf=made.last_leaf,
            unindexed=made.unindexed,
            insert=(
                f"INSERT INTO {leaves} (leaf_index, position, leaf_hash) "
                "SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::bytea[]) "
                "ON CONFLICT DO NOTHING"
            ),
            insert_arrays=True,
        )

    @classmethod
    def _make(cls, leaves: str, events: str, pos: str, mark: str) -> LeafStatements:
        return cls(
            last_leaf=f"SELECT leaf_index, position FROM {leaves} ORDER BY leaf_index DESC LIMIT 1",
            unindexed=(
                f"SELECT {pos}, originator_id, originator_version, topic, state FROM {events} "
                f"WHERE {pos} > {mark} AND {pos} < {mark} ORDER BY {pos} LIMIT {mark}"
            ),
            insert=(
                f"INSERT INTO {leaves} (leaf_index, position, leaf_hash) "
                f"VALUES ({mark}, {mark}, {mark}) ON CONFLICT DO NOTHING"
            ),
        )


def index_leaves(
    cursor: Any,
    statements: LeafStatements,
    positions: Sequence[int],
    stored_events: Sequence[Any],
    originator_id: Callable[[Any], Any] = lambda value: value,
) -> int:
    """Insert the leaves of events just inserted (at ``positions``) in the caller's transaction.

    ``cursor`` returns rows as sequences; ``originator_id`` turns a stored event's id into the
    value the store holds (the leaf hashes exactly what a later read returns). Events before
    them that have no leaf yet (a store from before leaf indexing) are indexed first. Returns
    how many leaves were inserted. One query for the last leaf, and one insert for them all
    (an executemany on SQLite, one statement of three arrays on PostgreSQL).

    Rows that clash with existing ones are skipped, not raised: a leaf row only an intruder could
    have written must not stop the ledger from recording; verification reports the clash.
    """
    if not positions:
        return 0
    cursor.execute(statements.last_leaf)
    row = cursor.fetchone()
    next_index, last_position = (0, 0) if row is None else (int(row[0]) + 1, int(row[1]))
    first = min(positions)
    rows: list[tuple[int, int, bytes]] = []
    while last_position < first - 1:  # events without leaves before these: index them first
        cursor.execute(statements.unindexed, (last_position, first, BACKLOG_BATCH))
        backlog = [tuple(r) for r in cursor.fetchall()]
        if not backlog:
            break
        for position, leaf in row_leaf_hashes(backlog):
            rows.append((next_index, position, leaf))
            next_index += 1
        last_position = int(backlog[-1][0])
        if len(backlog) < BACKLOG_BATCH:
            break
    new = sorted((
        (position, originator_id(e.originator_id), e.originator_version, e.topic, e.state)
        for position, e in zip(positions, stored_events, strict=True)
    ), key=lambda r: r[0])  # fmt: skip
    for position, leaf in row_leaf_hashes(new):
        rows.append((next_index, position, leaf))
        next_index += 1
    if statements.insert_arrays:
        indexes, positions_, hashes = zip(*rows, strict=True)
        cursor.execute(statements.insert, (list(indexes), list(positions_), list(hashes)))
    else:
        cursor.executemany(statements.insert, rows)
    return len(rows)
