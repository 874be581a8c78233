"""eventsourcing's SQLite persistence, with each event's Merkle leaf indexed as it is recorded.

``PERSISTENCE_MODULE=ledger.log_recorder_sqlite:LeafIndexingSQLiteFactory`` (set by
:mod:`ledger.storage`). The application recorder inserts the events exactly as eventsourcing
does, then, in the same transaction (SQLite has one writer at a time, and the events' inserts
hold the write lock already), one ``audit_leaves`` row per event (:mod:`ledger.leaf_index`).
Creating the events table creates ``audit_leaves`` beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
        positions = super()._insert_events(c, stored_events, **kwargs)
        if positions:
            index_leaves(c, self.leaf_statements, positions, stored_events)
        return positions


class LeafIndexingSQLiteFactory(es_sqlite.SQLiteFactory):
    """The SQLite infrastructure factory whose application recorder indexes leaves."""

    application_recorder_class = LeafIndexingSQLiteApplicationRecorder
