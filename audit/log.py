"""The Merkle log over the event log, kept incrementally in the store.

:func:`update_log` appends the leaf hash of every event not yet indexed, in log order, and then
computes the root of the whole log once, which stores the hash of every newly completed subtree
in ``audit_nodes``. After that, a root or a proof for any size costs O(log n) look-ups plus at
most ``2**MIN_CACHED_LEVEL`` leaf reads (see :mod:`audit.merkle`).

Order matters: leaf *i* must be the *i*-th event in position order, forever. eventsourcing
serialises inserts into the events table (PostgreSQL: ``LOCK TABLE … IN EXCLUSIVE MODE`` in
every inserting transaction; SQLite: one writer at a time), so an event becomes visible only
after every event with a lower position that will ever exist. Positions may have gaps on
PostgreSQL (a rolled-back insert uses up sequence values); leaf indexes never do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from audit.db import LEAVES, NODES, AuditDb, as_bytes, audit_db
from audit.merkle import EMPTY_ROOT, MerkleTree
from ledger.leaves import row_leaf_hashes

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: The lowest level of the node cache (subtrees of 16 leaves and up are stored).
MIN_CACHED_LEVEL = 4
#: How many events one indexing transaction reads and hashes.
INDEX_BATCH = 5_000
#: How many events one read of the events table returns.
READ_BATCH = 10_000


class LogError(ValueError):
    """A request the Merkle log cannot answer (a position or size it does not hold)."""


class StoredLeafHashes:
    """The :class:`audit.merkle.LeafHashes` of ``audit_leaves``, read through one cursor."""

    def __init__(self, db: AuditDb, cur: Any, size: int | None = None) -> None:
        self._db = db
        self._cur = cur
        self._size = leaf_count(db, cur) if size is None else size
        self._select = db.sql(
            f"SELECT leaf_hash FROM {{t}}{LEAVES} WHERE leaf_index >= ? AND leaf_index < ? "
            "ORDER BY leaf_index"
        )

    def __len__(self) -> int:
        return self._size

    def leaf_range(self, start: int, end: int) -> list[bytes]:
        self._cur.execute(self._select, (start, end))
        return [as_bytes(row[0]) for row in self._cur.fetchall()]


class StoredNodeCache:
    """The :class:`audit.merkle.NodeCache` of ``audit_nodes``.

    Look-ups go to the table (and are remembered); new nodes are kept in memory and written to
    the table only when ``persist`` is true, inside the caller's write transaction.
    """

    def __init__(self, db: AuditDb, cur: Any, *, persist: bool = False) -> None:
        self._cur = cur
        self._persist = persist
        self._memory: dict[tuple[int, int], bytes] = {}
        self._select = db.sql(f"SELECT node FROM {{t}}{NODES} WHERE level = ? AND idx = ?")
        self._insert = db.insert_ignore(NODES, ("level", "idx", "node"))
        self.written = 0

    def get(self, level: int, index: int) -> bytes | None:
        node = self._memory.get((level, index))
        if node is not None:
            return node
        self._cur.execute(self._select, (level, index))
        row = self._cur.fetchone()
        if row is None:
            return None
        node = self._memory[(level, index)] = as_bytes(row[0])
        return node

    def put(self, level: int, index: int, node: bytes) -> None:
        self.put_many([(level, index, node)])

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        items = list(items)
        for level, index, node in items:
            self._memory[(level, index)] = node
        if self._persist and items:
            self._cur.executemany(self._insert, items)
            self.written += len(items)


def leaf_count(db: AuditDb, cur: Any) -> int:
    """How many events the Merkle log holds (the size of the largest tree it can show)."""
    cur.execute(db.sql(f"SELECT MAX(leaf_index) FROM {{t}}{LEAVES}"))
    row = cur.fetchone()
    return 0 if row is None or row[0] is None else int(row[0]) + 1


def stored_tree(db: AuditDb, cur: Any, *, persist: bool = False) -> MerkleTree:
    """A MerkleTree over the stored leaves and node cache, read through this cursor."""
    return MerkleTree(
        StoredLeafHashes(db, cur),
        StoredNodeCache(db, cur, persist=persist),
        min_cached_level=MIN_CACHED_LEVEL,
    )


def read_events(db: AuditDb, cur: Any, after_position: int, limit: int) -> list[tuple]:
    """Up to ``limit`` stored events after a position, as ``(position, id, version, topic,
    state)`` rows in position order (``state``: the events table's column of that name, the
    event's encoded payload — not an aggregate's state; see docs/glossary.md)."""
    cur.execute(
        db.sql(
            "SELECT {pos}, originator_id, originator_version, topic, state FROM {events} "
            "WHERE {pos} > ? ORDER BY {pos} LIMIT ?"
        ),
        (after_position, limit),
    )
    return cur.fetchall()


def update_log(
    app: SupportLedger, *, batch: int = INDEX_BATCH, progress: Callable[[int], None] | None = None
) -> int:
    """Index every event that has no leaf yet; bring the node cache up to date; return the size.

    The ledger's recorder indexes each event in the transaction that records it
    (:mod:`ledger.leaf_index`), so normally there is nothing to index: this serves stores made
    before that (their events after the last indexed one), one transaction per batch. On
    PostgreSQL each batch takes the events table's ``EXCLUSIVE`` lock, as the recorder does, so
    that no event is recorded (and indexed) in between. The node cache is brought up to date at
    the end, so that a root of the new size then costs O(log n).
    """
    db = audit_db(app)
    insert = db.insert_ignore(LEAVES, ("leaf_index", "position", "leaf_hash"))
    if has_unindexed(app):
        while True:
            with db.write() as cur:
                if db.is_postgres:
                    cur.execute(db.sql("LOCK TABLE {events} IN EXCLUSIVE MODE"))
                size = leaf_count(db, cur)
                last_position = _position_of(db, cur, size - 1) if size else 0
                rows = read_events(db, cur, last_position, batch)
                if not rows:
                    break
                hashed = row_leaf_hashes(rows)
                cur.executemany(
                    insert, [(size + i, p, h) for i, (p, h) in enumerate(hashed)]
                )
                if progress is not None:
                    progress(size + len(hashed))
            if len(rows) < batch:
                break
    with db.write() as cur:
        tree = stored_tree(db, cur, persist=True)
        size = len(tree)
        tree.root(size)
    return size


def unindexed_after(db: AuditDb, cur: Any) -> int | None:
    """The position of the first event after the last indexed one, or None (all indexed)."""
    size = leaf_count(db, cur)
    last_position = _position_of(db, cur, size - 1) if size else 0
    cur.execute(db.sql("SELECT MIN({pos}) FROM {events} WHERE {pos} > ?"), (last_position,))
    row = cur.fetchone()
    return None if row is None or row[0] is None else int(row[0])


def has_unindexed(app: SupportLedger) -> bool:
    """Whether any event after the last indexed one has no leaf (two indexed look-ups)."""
    db = audit_db(app)
    with db.read() as cur:
        return unindexed_after(db, cur) is not None


def _position_of(db: AuditDb, cur: Any, leaf_index: int) -> int:
    cur.execute(db.sql(f"SELECT position FROM {{t}}{LEAVES} WHERE leaf_index = ?"), (leaf_index,))
    return int(cur.fetchone()[0])


def log_size(app: SupportLedger) -> int:
    """The number of events in the Merkle log now (without indexing new ones)."""
    db = audit_db(app)
    with db.read() as cur:
        return leaf_count(db, cur)


def root_hash(app: SupportLedger, size: int | None = None) -> bytes:
    """The root hash of the Merkle log at a size (default: all it holds)."""
    db = audit_db(app)
    with db.read() as cur:
        tree = stored_tree(db, cur)
        if size is not None and size > len(tree):
            raise LogError(f"the Merkle log holds {len(tree)} events, not {size}")
        return EMPTY_ROOT if len(tree) == 0 and not size else tree.root(size)


def leaf_index_of(db: AuditDb, cur: Any, position: int) -> int | None:
    """The leaf index of the event at a log position, or None if it is not indexed."""
    cur.execute(db.sql(f"SELECT leaf_index FROM {{t}}{LEAVES} WHERE position = ?"), (position,))
    row = cur.fetchone()
    return None if row is None else int(row[0])

