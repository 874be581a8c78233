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


def ready(app: SupportLedger, min_position: int | None, timeout_s: float) -> Any:
    """The views, once they have reached `min_position` (raises `ViewsBehind` after `timeout_s`)."""
    if min_position is not None:
        wait_for_position(app, min_position, timeout_s)
    return open_views(app)


def town_names(code: str | None) -> tuple[str, str]:
    """A town's Chinese and English names ("" for a code that is not one of the 17)."""
    town = TOWNS.get(code or "")
    return (town.name_zh, town.name_en) if town else ("", "")


def where(filters: list[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """ " AND column = %s" for every (column, value) whose value is not None, and the values."""
    given = [(column, value) for column, value in filters if value is not None]
    return "".join(f" AND {column} = %s" for column, _ in given), [v for _, v in given]
