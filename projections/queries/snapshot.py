"""One consistent, streamed read of the views, for exports that must be complete.

`snapshot(app)` opens one read-only transaction on the views: every query in it sees the same
state (PostgreSQL REPEATABLE READ; a SQLite read transaction), so the position it reports is
the position of every row it streams. `Snapshot.stream` yields rows in batches of `batch_size`
(a server-side cursor on PostgreSQL, `fetchmany` on SQLite): memory stays bounded however long
the list, and nothing is capped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projections import tables as t
from projections.queries.common import ready
from projections.trail import recorded_text

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: Rows fetched from the store at a time while streaming.
STREAM_BATCH = 1_000
_names = itertools.count(1)


@dataclass
class Snapshot:
    """The views as one transaction sees them."""

    views: Any
    cursor: Any
    postgres: bool

    def _sql(self, sql: str) -> str:
        return sql.replace("{q}", self.views.qualify).replace("%s", self.views.placeholder)

    def _new_cursor(self, name: str | None = None) -> Any:
        if self.postgres:
            connection = self.cursor.connection
            return connection.cursor(name=name) if name else connection.cursor()
        return self.cursor.sqlite_cursor.connection.cursor()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row of a (short) query in this snapshot (`{q}` prefix, `%s` placeholder)."""
        cursor = self._new_cursor()
        try:
            cursor.execute(self._sql(sql), tuple(params))
            return [dict(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def stream(
        self, sql: str, params: Sequence[Any] = (), batch_size: int = STREAM_BATCH
    ) -> Iterator[list[dict[str, Any]]]:
        """The rows of `sql` in batches of at most `batch_size`, all of them."""
        cursor = self._new_cursor(f"export_{next(_names)}" if self.postgres else None)
        try:
            if self.postgres:
                cursor.itersize = batch_size
            cursor.execute(self._sql(sql), tuple(params))
            while batch := cursor.fetchmany(batch_size):
                yield [dict(row) for row in batch]
        finally:
            cursor.close()

    def position(self) -> int:
        """The position every view has reached, in this snapshot."""
        rows = self.query(
            f"SELECT notification_id FROM {self.views.tracking_table} WHERE application_name = %s",
            [t.TRACKING_NAME],
        )
        return int(rows[0]["notification_id"] or 0) if rows else 0

    def recorded_at(self, position: int) -> str | None:
        """When the event at `position` was recorded (ISO, UTC), if the trail holds it."""
        rows = self.query("SELECT recorded_at FROM {q}pv_trail WHERE position = %s", [position])
        return recorded_text(rows[0]["recorded_at"]) if rows else None


@contextmanager
def snapshot(app: SupportLedger) -> Iterator[Snapshot]:
    """One read-only transaction on the views (see the module's text)."""
    views = ready(app, None, 0)
    postgres = views.placeholder == "%s"
    with views._tx(commit=False) as cursor:
        if postgres:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield Snapshot(views, cursor, postgres)
