"""The views' tracking recorders: view tables and tracking position in one transaction.

There is one recorder class per store, built on eventsourcing's own tracking recorders, so the
views live in the same database as the events (the same SQLite file, or the same PostgreSQL
schema) and share the application's connection pool. A batch commits its changed rows, its
trail rows and its new position together, after checking — under a write lock — that the
position is still the one the batch started from. Two runners can therefore never apply the
same event twice: the slower one finds the position moved, rolls back and starts again.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from ledger.schema import require_creatable
from projections import tables as t

if TYPE_CHECKING:
    from ledger.application import SupportLedger

Row = dict[str, Any]
POSTGRES_TRACKING_TABLE = "projection_tracking"
#: Most values one `fetch_rows` statement names (SQLite's oldest limit is 999 variables).
FETCH_CHUNK = 500


class PositionMoved(RuntimeError):
    """Another runner moved the views' position since this one loaded it."""


class ViewsOutOfDate(RuntimeError):
    """The view tables were made by an older version of this code; rebuild them."""


def _column_names(cursor: Any) -> list[str]:
    """The column names of the query a cursor (either store's) just executed."""
    description = getattr(cursor, "sqlite_cursor", cursor).description
    return [column[0] for column in description or ()]


class _SharedReads:
    """The cursors the read-only queries of one `shared_reads()` share, one per recorder."""

    def __init__(self) -> None:
        self._held: dict[int, tuple[Any, Any]] = {}  # id(recorder): (its context, its cursor)

    @contextlib.contextmanager
    def cursor(self, recorder: ViewsRecorderMixin) -> Iterator[Any]:
        """The recorder's shared cursor (taken from its pool at the first use)."""
        held = self._held.get(id(recorder))
        if held is None:
            context = recorder._read_cursor()
            held = self._held[id(recorder)] = (context, context.__enter__())
        context, cursor = held
        try:
            yield cursor
        except BaseException as error:
            # the cursor's context ends with the error, as a `with` would end it: the store's
            # error types, and a broken connection not given back to the pool for reuse
            del self._held[id(recorder)]
            context.__exit__(type(error), error, error.__traceback__)
            raise

    def close(self) -> None:
        held, self._held = self._held, {}
        for context, _cursor in held.values():
            context.__exit__(None, None, None)


_SHARED_READS: contextvars.ContextVar[_SharedReads | None] = contextvars.ContextVar(
    "shared_reads", default=None
)


@contextlib.contextmanager
def shared_reads() -> Iterator[None]:
    """Within this, the read-only queries (`query`) of each views recorder share one pooled
    connection: taken at the first, given back at the end.

    A page makes about ten queries; each took a connection from the pool and gave it back
    (on PostgreSQL with the pool's checks). This is not a transaction: each statement still
    reads its own snapshot, as outside. Keep it around work that is short (a page), never
    around a wait.
    """
    shared = _SharedReads()
    token = _SHARED_READS.set(shared)
    try:
        yield
    finally:
        _SHARED_READS.reset(token)
        shared.close()


class ViewsRecorderMixin:
    """What both stores' view recorders offer the runner and the queries."""

    qualify: str
    placeholder: str
    tracking_table: str
    #: The events table's column of log positions (for a query of the log's end beside the views).
    notification_id_column: str
    #: Whether the runner commits a batch in a second thread while it prepares the next.
    commit_in_background = False

    def _tx(self, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)  # type: ignore[attr-defined]

    def _sql(self, text: str) -> str:
        return text.replace("%s", self.placeholder)

    # -- reading ------------------------------------------------------------------------------

    def _read_cursor(self) -> Any:
        """A cursor outside any transaction, for one read-only statement (see `query`)."""
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of a read-only query; `%s` is the placeholder, `{q}` the table-name prefix.

        One statement reads one consistent snapshot by itself, so it runs on a pooled
        connection in autocommit mode, with no BEGIN and ROLLBACK around it (on PostgreSQL two
        round trips fewer per query; a page makes about ten). Reads that must agree with each
        other go in one transaction instead (`load`, `projections.queries.snapshot`).
        """
        shared = _SHARED_READS.get()
        with self._read_cursor() if shared is None else shared.cursor(self) as c:
            c.execute(self._sql(sql.replace("{q}", self.qualify)), tuple(params))
            return [dict(row) for row in c.fetchall()]

    def position(self) -> int:
        """The position every view has reached (0 before the first event)."""
        rows = self.query(
            f"SELECT notification_id FROM {self.tracking_table} WHERE application_name = %s",
            (t.TRACKING_NAME,),
        )
        return int(rows[0]["notification_id"] or 0) if rows else 0

    def fetch_rows(self, table: t.Table, column: str, values: Sequence[Any]) -> list[Row]:
        """Every row of a state table whose `column` is one of `values` (`row_cache`)."""
        found: list[Row] = []
        for start in range(0, len(values), FETCH_CHUNK):
            chunk = values[start : start + FETCH_CHUNK]
            found.extend(
                self.query(
                    f"SELECT * FROM {{q}}{table.name} WHERE {column} IN "
                    f"({', '.join('%s' for _ in chunk)})",
                    chunk,
                )
            )
        return found

    def load(self, rows: bool = True) -> tuple[int, dict[str, list[Row]]]:
        """The position and every state row (none with `rows=False`: the runner reads them
        as it needs them), read in one transaction, after checking that every view table has
        this version's shape (`ViewsOutOfDate` if not)."""
        with self._tx(commit=False) as c:
            c.execute(
                self._sql(
                    f"SELECT notification_id FROM {self.tracking_table} WHERE application_name = %s"
                ),
                (t.TRACKING_NAME,),
            )
            found = c.fetchone()
            position = int(found["notification_id"] or 0) if found else 0
            found_rows = {}
            for table in t.STATE_TABLES:
                c.execute(f"SELECT * FROM {self.qualify}{table.name}{'' if rows else ' LIMIT 0'}")
                # the columns the table has, from the cursor (an empty table has a shape too)
                if set(_column_names(c)) != set(table.column_names):
                    raise ViewsOutOfDate(
                        f"the view table {table.name} has an older shape; "
                        "run `ledger project --rebuild`"
                    )
                found_rows[table.name] = [dict(row) for row in c.fetchall()]
            c.execute(f"SELECT * FROM {self.qualify}{t.TRAIL.name} LIMIT 1")
            shape = set(_column_names(c))
            trail = c.fetchall()
            if shape != set(t.TRAIL.column_names) or (
                trail and not isinstance(trail[0]["recorded_at"], int)  # once ISO text
            ):
                raise ViewsOutOfDate(
                    f"the view table {t.TRAIL.name} has an older shape; "
                    "run `ledger project --rebuild`"
                )
        return position, found_rows

    # -- writing ------------------------------------------------------------------------------

    def _lock_position(self, c: Any) -> int:
        raise NotImplementedError

    def _begin_batch(self, c: Any) -> None:
        """Settings for a batch's transaction (none by default)."""

    def _write_rows(self, c: Any, table: t.Table, rows: list[tuple[Any, ...]]) -> None:
        """Insert or overwrite whole state rows (tuples in column order, distinct keys)."""
        c.executemany(t.upsert_statement(table, self.qualify, self.placeholder), rows)

    def _write_trail(self, c: Any, rows: list[tuple[Any, ...]]) -> None:
        names = t.TRAIL.column_names
        c.executemany(
            self._sql(
                f"INSERT INTO {self.qualify}{t.TRAIL.name} ({', '.join(names)}) "
                f"VALUES ({', '.join('%s' for _ in names)})"
            ),
            rows,
        )

    def _write_tx(self) -> Any:
        """A write transaction (the store's own pool by default)."""
        return self._tx(commit=True)

    def commit_batch(
        self,
        expected_position: int,
        new_position: int,
        changed: dict[t.Table, list[tuple[Any, ...]]],
        trail: list[tuple[Any, ...]],
    ) -> None:
        """Write a batch: changed state rows and trail rows (tuples in column order) and the
        new position, atomically.

        Raises `PositionMoved` (and writes nothing) if the position is no longer
        `expected_position`.
        """
        assert new_position > expected_position, (expected_position, new_position)
        with self._write_tx() as c:
            self._begin_batch(c)
            current = self._lock_position(c)
            if current != expected_position:
                raise PositionMoved(
                    f"the views are at {current}, not {expected_position}; reload and retry"
                )
            for table, rows in changed.items():
                self._write_rows(c, table, rows)
            if trail:
                self._write_trail(c, trail)
            c.execute(
                self._sql(
                    f"UPDATE {self.tracking_table} SET notification_id = %s "
                    "WHERE application_name = %s"
                ),
                (new_position, t.TRACKING_NAME),
            )

    def reset(self) -> None:
        """Drop and recreate every view table (without secondary indexes: see
        `create_indexes`) and set the position back to 0, in one transaction (so a rebuild
        also brings the tables to the current shape)."""
        with self._write_tx() as c:
            self._lock_position(c)
            for table in t.ALL_TABLES:
                c.execute(f"DROP TABLE IF EXISTS {self.qualify}{table.name}")
            for statement in self._view_statements(self.placeholder == "%s", indexes=False):
                c.execute(statement)
            c.execute(
                self._sql(
                    f"UPDATE {self.tracking_table} SET notification_id = 0 "
                    "WHERE application_name = %s"
                ),
                (t.TRACKING_NAME,),
            )

    def _view_statements(
        self, postgres: bool, *, tables: bool = True, indexes: bool = True
    ) -> list[str]:
        statements = []
        for table in t.ALL_TABLES:
            statements.extend(
                t.create_statements(table, self.qualify, postgres, tables=tables, indexes=indexes)
            )
        return statements

    def required_names(self) -> list[str]:
        """The unqualified names of the tracking table, every view table and their indexes."""
        names = [self.tracking_table.rpartition(".")[2]]
        for table in t.ALL_TABLES:
            names.append(table.name)
            names.extend(t.index_name(table, column) for column in (*table.lookups, *table.indexes))
        return names

    def create_indexes(self) -> None:
        """Create the secondary indexes (a rebuild leaves them out until it is done, since
        building an index once is much cheaper than keeping it up to date row by row)."""
        with self._write_tx() as c:
            for statement in self._view_statements(
                self.placeholder == "%s", tables=False, indexes=True
            ):
                c.execute(statement)


class SQLiteViewsRecorder(ViewsRecorderMixin, SQLiteTrackingRecorder):
    """The views in the ledger's SQLite file."""

    qualify = ""
    placeholder = "?"
    tracking_table = "tracking"
    notification_id_column = "rowid"  # of the events table (eventsourcing's SQLite recorder)
    commit_in_background = True
    #: Most rows one INSERT … VALUES (…), (…) takes (fewer if the variable limit says so).
    MAX_ROWS_PER_INSERT = 1024

    @contextlib.contextmanager
    def _read_cursor(self) -> Iterator[Any]:
        with self.datastore.get_connection(commit=False) as connection, connection.cursor() as cursor:
            yield cursor  # the pool's connections are in autocommit mode; closed after

    def _write_rows(self, c: Any, table: t.Table, rows: list[tuple[Any, ...]]) -> None:
        self._insert_many(c, table, rows, upsert=True)

    def _write_trail(self, c: Any, rows: list[tuple[Any, ...]]) -> None:
        self._insert_many(c, t.TRAIL, rows, upsert=False)

    def _insert_many(
        self, c: Any, table: t.Table, rows: Sequence[tuple[Any, ...]], *, upsert: bool
    ) -> None:
        """Insert (or upsert) rows with multi-row VALUES statements, a power of two rows each
        (so a handful of statement texts serve every batch and stay prepared).

        `executemany` would step once per row, and the driver takes Python's GIL again after
        every step: with a batch committing in a second thread that convoy made committing
        slower than preparing. One statement per chunk steps once without the GIL.
        """
        width = len(table.columns)
        most = self._max_rows.get(width)
        if most is None:
            assert self._writer is not None
            limit = self._writer.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            most = self._max_rows[width] = max(
                1, min(self.MAX_ROWS_PER_INSERT, 1 << ((limit // width).bit_length() - 1))
            )
        start = 0
        while start < len(rows):
            size = min(most, 1 << ((len(rows) - start).bit_length() - 1))
            key = (table.name, size, upsert)
            sql = self._insert_sql.get(key)
            if sql is None:
                sql = self._insert_sql[key] = t.insert_values_statement(table, size, upsert)
            c.execute(sql, list(itertools.chain.from_iterable(rows[start : start + size])))
            start += size

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self._view_statements(False)]

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO tracking (application_name, notification_id) VALUES (?, 0) "
                "ON CONFLICT (application_name) DO NOTHING",
                (t.TRACKING_NAME,),
            )

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._writer: sqlite3.Connection | None = None
        self._writer_lock = threading.Lock()
        self._max_rows: dict[int, int] = {}
        self._insert_sql: dict[tuple[str, int, bool], str] = {}

    @contextlib.contextmanager
    def _write_tx(self) -> Iterator[sqlite3.Cursor]:
        """A write transaction on the recorder's own connection, begun IMMEDIATE so that it
        holds SQLite's write lock before it reads the position (a deferred transaction that
        read first could fail to upgrade when another writer got in between)."""
        with self._writer_lock:
            if self._writer is None:
                path = self.datastore.pool.db_name
                self._writer = sqlite3.connect(
                    path, isolation_level=None, check_same_thread=False, timeout=30
                )
                self._writer.row_factory = sqlite3.Row
                self._writer.execute("PRAGMA busy_timeout = 30000")
                # In WAL mode NORMAL still keeps the file consistent, and a crashed process
                # loses nothing; only a power cut may lose the last batches, which the views
                # (position included) then simply apply again from the log.
                self._writer.execute("PRAGMA synchronous = NORMAL")
                # Room for the pages a batch touches and for sorting while indexes are built.
                self._writer.execute("PRAGMA cache_size = -65536")
                self._writer.execute("PRAGMA temp_store = MEMORY")
                # Checkpoint (copy the WAL into the file, and sync) every ~40 MB, not every 4.
                self._writer.execute("PRAGMA wal_autocheckpoint = 10000")
            cursor = self._writer.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            else:
                cursor.execute("COMMIT")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _lock_position(self, c: Any) -> int:
        c.execute(
            "SELECT notification_id FROM tracking WHERE application_name = ?",
            (t.TRACKING_NAME,),
        )
        return int(c.fetchone()["notification_id"] or 0)


class PostgresViewsRecorder(ViewsRecorderMixin, PostgresTrackingRecorder):
    """The views in the ledger's PostgreSQL schema."""

    placeholder = "%s"
    notification_id_column = "notification_id"
    commit_in_background = True

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, tracking_table_name=POSTGRES_TRACKING_TABLE, **kwargs)
        from psycopg.sql import SQL

        self.qualify = f'"{self.datastore.schema}".'
        self.tracking_table = f"{self.qualify}{POSTGRES_TRACKING_TABLE}"
        self.sql_create_statements.extend(SQL(s) for s in self._view_statements(True))  # type: ignore[arg-type]
        self.sql_create_statements.append(
            SQL(  # type: ignore[arg-type]
                f"INSERT INTO {self.tracking_table} (application_name, notification_id) "
                f"VALUES ('{t.TRACKING_NAME}', 0) ON CONFLICT (application_name) DO NOTHING"
            )
        )

    @contextlib.contextmanager
    def _read_cursor(self) -> Iterator[Any]:
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            yield cursor  # the pool's connections are in autocommit mode

    def _begin_batch(self, c: Any) -> None:
        # A batch need not wait for its commit to reach the disk: if the server crashed
        # first, the views (position included) would be back at an earlier batch, still
        # consistent, and apply the rest again from the log.
        c.execute("SET LOCAL synchronous_commit = off")

    def _lock_position(self, c: Any) -> int:
        c.execute(
            f"SELECT notification_id FROM {self.tracking_table} "
            "WHERE application_name = %s FOR UPDATE",
            (t.TRACKING_NAME,),
        )
        return int(c.fetchone()["notification_id"] or 0)

    def _write_rows(self, c: Any, table: t.Table, rows: list[tuple[Any, ...]]) -> None:
        """One statement per table: the rows go as one array per column and come back as
        rows through `unnest` (an `executemany` costs a round of the pipeline per row)."""
        if len(rows) < 8:
            super()._write_rows(c, table, rows)
            return
        c.execute(
            t.upsert_unnest_statement(table, self.qualify),
            [list(v) for v in zip(*rows, strict=True)],
        )

    def _write_trail(self, c: Any, rows: list[Row]) -> None:
        names = t.TRAIL.column_names
        with c.copy(f"COPY {self.qualify}{t.TRAIL.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def open_views(app: SupportLedger) -> ViewsRecorderMixin:
    """The views recorder for the store the ledger application uses (tables created), opened
    once per application and kept in its `extensions`."""
    return app.extensions.get(ViewsRecorderMixin, lambda: _make_views(app))


def _make_views(app: SupportLedger) -> ViewsRecorderMixin:
    datastore = app.factory.datastore
    recorder: Any
    if app.store.backend == "postgresql":
        recorder = PostgresViewsRecorder(datastore)
    else:
        recorder = SQLiteViewsRecorder(datastore)
    # No DDL when every table and index is there (the least-privilege role may not send any);
    # an error that says to run `ledger init` when something is missing and this user may
    # not create it.
    if require_creatable(app.store, recorder.required_names()):
        recorder.create_table()
    views: ViewsRecorderMixin = recorder
    return views


def create_tables(app: SupportLedger) -> None:
    """Create the view tables, their indexes and the tracking table where missing (for
    `ledger init`)."""
    open_views(app)
