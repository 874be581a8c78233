"""What every query shares: its records' base, the wait for a position, ratios and LIKE text."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ledger.identifiers import TOWNS
from projections.recorder import open_views
from projections.runner import wait_for_position

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: How long a query waits, by default, for the views to reach the `min_position` it was given.
DEFAULT_TIMEOUT_S = 5.0


class Record:
    """A frozen record of the read side; `to_dict()` gives its fields as plain values."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


def ratio(numerator: int | float, denominator: int | float) -> float | None:
    """`numerator / denominator` rounded to four places, or None when the denominator is 0."""
    return round(numerator / denominator, 4) if denominator else None


def like_escape(text: str) -> str:
    """`text` for a LIKE pattern with ``ESCAPE '\\'``: its `%`, `_` and `\\` match literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ReadSource:
    """Where the read side reads for one ledger application: the same ledger opened on a
    streaming replica of its store (`LEDGER_READ_DATABASE_URL`, set up by the web), or None
    for the application's own store. Kept in the application's `extensions`."""

    def __init__(self, replica: SupportLedger | None = None) -> None:
        self.replica = replica


def read_from(app: SupportLedger, replica: SupportLedger) -> None:
    """Send every read of the views (and the web's reads of the log and the audit) for `app`
    to `replica`, while commands keep going to `app`'s own store. Call before the first read."""
    source = app.extensions.get(ReadSource, lambda: ReadSource(replica))
    if source.replica is not replica:
        raise RuntimeError("the read source of this ledger was fixed by an earlier read")


def reader(app: SupportLedger) -> SupportLedger:
    """The ledger application that reads for `app`: its replica if it has one, else itself.

    Every query reaches the views through here (`ready`, `read_views`), so a new query reads
    from the replica without knowing there is one."""
    return app.extensions.get(ReadSource, ReadSource).replica or app


def read_views(app: SupportLedger) -> Any:
    """The views recorder reads use: on the replica when there is one."""
    return open_views(reader(app))


def ready(app: SupportLedger, min_position: int | None, timeout_s: float) -> Any:
    """The views, once they have reached `min_position` (raises `ViewsBehind` after `timeout_s`).

    On a replica, the wait covers its replication lag too: the position is the replica's."""
    source = reader(app)
    if min_position is not None:
        wait_for_position(source, min_position, timeout_s)
    return open_views(source)


def town_names(code: str | None) -> tuple[str, str]:
    """A town's Chinese and English names ("" for a code that is not one of the 17)."""
    town = TOWNS.get(code or "")
    return (town.name_zh, town.name_en) if town else ("", "")


def where(filters: list[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """ " AND column = %s" for every (column, value) whose value is not None, and the values."""
    given = [(column, value) for column, value in filters if value is not None]
    return "".join(f" AND {column} = %s" for column, _ in given), [v for _, v in given]
