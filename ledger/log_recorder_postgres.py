"""eventsourcing's PostgreSQL persistence, with each event's Merkle leaf indexed as it is recorded.

``PERSISTENCE_MODULE=ledger.log_recorder_postgres:LeafIndexingPostgresFactory`` (set by
:mod:`ledger.storage`). The application recorder writes every batch of events (one command's,
a group commit's, a bulk import's) with ``COPY … FROM STDIN (FORMAT BINARY)`` instead of
eventsourcing 9.5.6's INSERT of an array of composite values (which the driver builds in Python:
at 30 events about twice the CPU, at 100 about three times). Under eventsourcing's own
``LOCK TABLE … IN EXCLUSIVE MODE``, which orders every inserting transaction, and its NOTIFY,
the batch takes its notification ids from the events table's own sequence in one statement (in
order, so the log's order is the insert order), the rows are copied with those ids, and one
``audit_leaves`` row per event is inserted (:mod:`ledger.leaf_index`) — one transaction: if
anything fails, leaves or events, all of it is rolled back. A duplicate (originator, version)
fails the COPY with eventsourcing's IntegrityError, so concurrent writers retry as before.

Creating the events table creates ``audit_leaves`` beside it; a store whose events table
exists but has no ``audit_leaves`` (made before) gets it when the factory makes its recorder.

The database functions of eventsourcing (``POSTGRES_ENABLE_DB_FUNCTIONS``) are refused: they
insert events without leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import eventsourcing.postgres as es_postgres
from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from ledger.leaf_index import LEAVES_TABLE, LeafStatements, index_leaves, leaves_ddl


class LeafIndexingPostgresApplicationRecorder(es_postgres.PostgresApplicationRecorder):
    """Records events and their leaves in one transaction."""

    def __init__(
        self, datastore: es_postgres.PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = datastore.schema
        self.leaf_statements = LeafStatements.postgres(schema, events_table_name)
        self._lock_and_notify: str | None = None  # rendered on the first insert
        self.sql_create_statements.append(SQL(leaves_ddl("postgresql", schema)))  # type: ignore[arg-type]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The events by binary COPY with ids taken from their sequence, then their leaves."""
        if self.datastore.enable_db_functions:
            raise ProgrammingError(
                "POSTGRES_ENABLE_DB_FUNCTIONS inserts events without their Merkle leaves"
            )
        if not stored_events:
            return []
        with self.datastore.get_connection() as conn, conn.transaction():
            with conn.cursor() as curs:
                # eventsourcing's lock (it also orders this transaction among every writer's),
                # its NOTIFY and the ids, in one round trip
                curs.execute(self._lock_notify_and_ids_statement(conn, len(stored_events)))
                while curs.description is None and curs.nextset():
                    pass  # past the results of SET, LOCK and NOTIFY, to the ids
                notification_ids = curs.fetchone()["ids"]
                with curs.copy(self._copy_statement) as copy:
                    copy.set_types(["int8", self.datastore.originator_id_type, "int8", "text", "bytea"])
                    for notification_id, e in zip(notification_ids, stored_events, strict=True):
                        copy.write_row((notification_id, e.originator_id, e.originator_version,
                                        e.topic, e.state))  # fmt: skip
            with conn.cursor(row_factory=tuple_row) as leaf_cursor:
                index_leaves(leaf_cursor, self.leaf_statements, notification_ids, stored_events,
                             _as_uuid)  # fmt: skip
        return notification_ids

    def _lock_notify_and_ids_statement(self, conn: Any, count: int) -> str:
        """eventsourcing's lock statements (its lock timeout, then the table's lock), its NOTIFY
        and the taking of `count` ids from the table's sequence (an array, in order): several
        statements without parameters, which PostgreSQL runs in one round trip."""
        if self._lock_and_notify is None:
            statements = [*self.lock_table_statements,
                          SQL("NOTIFY {0}").format(Identifier(self.channel_name))]  # fmt: skip
            self._lock_and_notify = "; ".join(s.as_string(conn) for s in statements)
        # The schema and table names are checked identifiers (ledger.storage); quoted here.
        table = f'"{self.datastore.schema}"."{self.events_table_name}"'
        return (f"{self._lock_and_notify}; SELECT array_agg(id ORDER BY id) AS ids FROM (SELECT "
                f"nextval(pg_get_serial_sequence('{table}', 'notification_id')) AS id "
                f"FROM generate_series(1, {int(count)})) AS taken")  # fmt: skip

    @property
    def _copy_statement(self) -> str:
        table = f'"{self.datastore.schema}"."{self.events_table_name}"'
        return (f"COPY {table} (notification_id, originator_id, originator_version, topic, state) "
                "FROM STDIN (FORMAT BINARY)")  # fmt: skip


def _as_uuid(originator_id: Any) -> Any:
    """The originator id as the uuid column returns it (the leaf hashes what is stored)."""
    return originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))


class LeafIndexingPostgresFactory(es_postgres.PostgresFactory):
    """The PostgreSQL infrastructure factory whose application recorder indexes leaves."""

    application_recorder_class = LeafIndexingPostgresApplicationRecorder

    def application_recorder(self) -> Any:
        recorder = super().application_recorder()
        if not self.env_create_table():  # an existing store: it may predate audit_leaves
            _ensure_leaves_table(self.datastore)
        return recorder


def _ensure_leaves_table(datastore: es_postgres.PostgresDatastore) -> None:
    """Create ``audit_leaves`` if the store lacks it (one look-up when it is there)."""
    qualified = f'"{datastore.schema}".{LEAVES_TABLE}'
    with datastore.get_connection() as conn, conn.transaction():
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (qualified,)).fetchone()
        if not (row["present"] if isinstance(row, dict) else row[0]):
            conn.execute(leaves_ddl("postgresql", datastore.schema))  # type: ignore[arg-type]
