"""eventsourcing's SQLite persistence, with each event's Merkle leaf indexed as it is recorded.

``PERSISTENCE_MODULE=ledger.log_recorder_sqlite:LeafIndexingSQLiteFactory`` (set by
:mod:`ledger.storage`). The application recorder inserts the events into eventsourcing's table
with eventsourcing's statement, in one ``executemany`` rather than one ``execute`` per event
(their notification ids, the rowids SQLite gives them, follow the first one's: checked),
then, in the same transaction (SQLite has one writer at a time, and the events' inserts
hold the write lock already), one ``audit_leaves`` row per event (:mod:`ledger.leaf_index`).
Creating the events table creates ``audit_leaves`` beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import eventsourcing.sqlite as es_sqlite
from eventsourcing.persistence import StoredEvent

from ledger.leaf_index import SQLITE_LEAVES_DDL, LeafStatements, index_leaves


class LeafIndexingSQLiteApplicationRecorder(es_sqlite.SQLiteApplicationRecorder):
    """Records events and their leaves in one transaction."""

    def __init__(
        self, datastore: es_sqlite.SQLiteDatastore, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name)
        self.leaf_statements = LeafStatements.sqlite(events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), SQLITE_LEAVES_DDL]

    def _insert_events(
        self, c: es_sqlite.SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = self._insert_many(c, stored_events)
        if positions:
            index_leaves(c, self.leaf_statements, positions, stored_events)
        return positions

    def _insert_many(
        self, c: es_sqlite.SQLiteCursor, stored_events: Sequence[StoredEvent]
    ) -> list[int]:
        """Insert the events, the first alone and the rest in one executemany; their rowids.

        The first insert takes the write lock (as eventsourcing's first insert does) and its
        rowid is known; without a rowid given, SQLite then gives each further row the largest
        rowid plus one. That the last is the first plus the number of events after it, and
        that the rows from the first are exactly these, is checked (it fails only in a table
        at SQLite's largest rowid, where rowids are picked at random: never, in practice).
        """
        rows = [
            (s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
             s.originator_version, s.topic, s.state)
            for s in stored_events
        ]  # fmt: skip
        if not rows:
            return []
        c.execute(self.insert_events_statement, rows[0])
        first = c.lastrowid
        if len(rows) == 1:
            return [first]
        c.executemany(self.insert_events_statement, rows[1:])
        table = self.events_table_name
        c.execute(f"SELECT max(rowid), count(*) FROM {table} WHERE rowid >= ?", (first,))
        last, inserted = c.fetchone()
        if last != first + len(rows) - 1 or inserted != len(rows):
            raise AssertionError("SQLite did not number the events one after another")
        return list(range(first, last + 1))


class LeafIndexingSQLiteFactory(es_sqlite.SQLiteFactory):
    """The SQLite infrastructure factory whose application recorder indexes leaves."""

    application_recorder_class = LeafIndexingSQLiteApplicationRecorder
