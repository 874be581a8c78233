"""The views' state rows in memory, as many as a bound allows, the rest read back from the views.

The runner used to hold every state row of every view (one per award, payment, enterprise-year,
enterprise, transfer and financing) for as long as it ran: a rebuild of a million events held
about 340 MiB, and so did every serving process that follows the log. Now it holds at most
`capacity` rows per table. A row it does not hold is read from the view tables, which hold
every row the runner has committed; rows a batch changed stay in memory until that batch is
committed (the runner says so with `committed`), so what is read back is never older than what
was written.

Rows are read a batch at a time (`fetch`: every row whose column is one of many values, one
statement per table and column); after such a read the cache knows that no other row has that
value (`complete`), so a new award, say, costs no statement of its own. A row nobody asked for
in advance is read alone, which is slower but just as right.

With no `source` every row is in memory and a row not held does not exist (the views loaded
whole, as the tests of the state alone use it).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from projections import tables as t

log = logging.getLogger(__name__)

Row = dict[str, Any]
Key = tuple[Any, ...]

#: Rows held per view table when LEDGER_VIEWS_CACHE_ROWS does not say.
DEFAULT_CAPACITY = 10_000

#: The column of each entity's id, by which its events (named by the aggregate's id) find it.
ID_COLUMNS: dict[str, str] = {
    t.AWARDS.name: "award_id",
    t.TRANSFERS.name: "transfer_id",
    t.FINANCINGS.name: "financing_id",
    t.ENTERPRISES.name: "enterprise_id",
    t.MEASURE_BALANCES.name: "budget_id",
}


class RowSource(Protocol):
    """Where rows not held come from: the view tables (`ViewsRecorderMixin.fetch_rows`)."""

    def fetch_rows(self, table: t.Table, column: str, values: list[Any]) -> list[Row]: ...


def capacity_from_environment() -> int:
    """LEDGER_VIEWS_CACHE_ROWS, else the default (at least 1; a value that is not a whole
    number is said in the log and the default used, as for the web's settings)."""
    text = os.environ.get("LEDGER_VIEWS_CACHE_ROWS", "").strip()
    if not text:
        return DEFAULT_CAPACITY
    try:
        return max(1, int(text))
    except ValueError:
        log.warning(
            "LEDGER_VIEWS_CACHE_ROWS 须为行数整数 must be a whole number of rows, not %r; "
            "using %d",
            text,
            DEFAULT_CAPACITY,
        )
        return DEFAULT_CAPACITY


class RowCache:
    """State rows by table and key, and entity ids by table, bounded when there is a source."""

    def __init__(
        self, source: RowSource | None = None, capacity: int | None = None, *, empty: bool = False
    ) -> None:
        self.source = source
        self.capacity = capacity if source is not None else None
        #: Tables all of whose stored rows are held: with `empty` (the views are at position
        #: 0, so hold no row yet) every table, each until its first row goes.
        self.all_held: set[str] = {table.name for table in t.STATE_TABLES} if empty else set()
        self.rows: dict[str, dict[Key, Row]] = {table.name: {} for table in t.STATE_TABLES}
        self.ids: dict[str, dict[str, Key]] = {name: {} for name in ID_COLUMNS}
        #: (table, column) → values whose every row is held (cleared when rows may go).
        self.complete: dict[tuple[str, str], set[Any]] = {}
        #: Per uncommitted batch, the keys and ids it changed (these rows may not go yet).
        self._pending: deque[tuple[dict[str, set[Key]], dict[str, set[str]]]] = deque()
        self._new_ids: dict[str, set[str]] = {name: set() for name in ID_COLUMNS}
        #: Statements that read one value's rows because no batch read had asked for them.
        self.single_reads = 0

    # -- holding rows -----------------------------------------------------------------------

    def remember(self, table: t.Table, row: Row) -> Row:
        """Hold a row read from the views, unless one with its key is held (it may be newer)."""
        rows = self.rows[table.name]
        key = table.key_of(row)
        held = rows.setdefault(key, row)
        column = ID_COLUMNS.get(table.name)  # (the id may have gone while the row stayed)
        if column is not None and held[column] is not None:
            self.ids[table.name].setdefault(held[column], key)
        return held

    def set_id(self, table: t.Table, oid: str, key: Key) -> None:
        """An entity's id now names this row (a handler says so)."""
        self.ids[table.name][oid] = key
        if self.source is not None:
            self._new_ids[table.name].add(oid)

    def touch(self, table: t.Table, key: Key) -> None:
        """A held row is in use again: it goes last of those to let go."""
        if self.capacity is not None:
            rows = self.rows[table.name]
            rows[key] = rows.pop(key)

    # -- finding rows -----------------------------------------------------------------------

    def lookup(self, table: t.Table, key: Key) -> Row | None:
        """The row with this key, read from the views if need be; None if there is none."""
        rows = self.rows[table.name]
        row = rows.get(key)
        if row is not None or self.source is None or table.name in self.all_held:
            return row
        column = table.key[0]
        if key[0] is None or key[0] in self.complete.get((table.name, column), ()):
            return None
        self.single_reads += 1
        self.fetch(table, column, [key[0]])
        return rows.get(key)

    def key_by_id(self, table: t.Table, oid: str | None) -> Key | None:
        """The key of the row this entity id names, read from the views if need be."""
        if oid is None:
            return None
        ids = self.ids[table.name]
        key = ids.get(oid)
        if key is not None or self.source is None or table.name in self.all_held:
            return key
        column = ID_COLUMNS[table.name]
        if oid in self.complete.get((table.name, column), ()):
            return None
        self.single_reads += 1
        self.fetch(table, column, [oid])
        return ids.get(oid)

    def fetch(self, table: t.Table, column: str, values: Iterable[Any]) -> None:
        """Read every row whose `column` is one of `values` (those not known to be held yet)
        and hold them; from now on the cache knows there are no others."""
        if self.source is None or table.name in self.all_held:
            return
        complete = self.complete.setdefault((table.name, column), set())
        # what is held need not be read: a row by its whole key, an entity by its id
        rows = self.rows[table.name] if table.key == (column,) else None
        ids = self.ids[table.name] if column == ID_COLUMNS.get(table.name) else None
        wanted = [
            v for v in set(values)
            if v is not None and v not in complete
            and (rows is None or (v,) not in rows) and (ids is None or v not in ids)
        ]  # fmt: skip
        if not wanted:
            return
        for row in self.source.fetch_rows(table, column, wanted):
            self.remember(table, row)
        complete.update(wanted)

    # -- letting rows go --------------------------------------------------------------------

    def changed(self, dirty: dict[str, set[Key]]) -> None:
        """A batch with these changed keys goes to be committed: hold them until it is."""
        if self.source is None:
            return
        self._pending.append((dirty, self._new_ids))
        self._new_ids = {name: set() for name in ID_COLUMNS}

    def committed(self) -> None:
        """The oldest batch handed over by `changed` is committed: its rows may go."""
        if self._pending:
            self._pending.popleft()

    def shrink(self) -> None:
        """Let the least recently changed rows go, down to the capacity per table (never a
        row of a batch not yet committed); forget what was known complete."""
        self.complete.clear()
        if self.capacity is None:
            return
        for name, rows in self.rows.items():
            protected = set().union(*(keys[name] for keys, _ in self._pending))
            for key in _oldest(rows, len(rows) - self.capacity, protected):
                del rows[key]
                self.all_held.discard(name)
        for name, ids in self.ids.items():
            protected_ids = set().union(*(new[name] for _, new in self._pending))
            for oid in _oldest(ids, len(ids) - self.capacity, protected_ids):
                del ids[oid]
                self.all_held.discard(name)

    def held(self) -> int:
        """How many rows are held in all."""
        return sum(len(rows) for rows in self.rows.values())


def _oldest(items: dict[Any, Any], excess: int, protected: set[Any]) -> list[Any]:
    """Up to `excess` of the first keys of `items` that are not protected."""
    if excess <= 0:
        return []
    unprotected: Iterator[Any] = (key for key in items if key not in protected)
    return list(itertools.islice(unprotected, excess))
