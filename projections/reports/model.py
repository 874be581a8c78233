"""The shape of a report: titled tables of plain values, with bilingual column labels.

Values stay as the read side gives them — fen as integers, ratios as floats, days, counts,
text — and each column says which (`kind`), so every renderer (xlsx, HTML, the web) formats
them in one way of its own: yuan with two decimals, percentages, days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["text", "int", "fen", "ratio", "days", "times"]


@dataclass(frozen=True)
class Column:
    key: str
    label_zh: str
    label_en: str
    kind: Kind = "fen"


@dataclass(frozen=True)
class ReportTable:
    """One table: its title, columns, rows of values in column order and an optional total."""

    name: str  # a short stable name (the xlsx sheet's, the HTML table's id)
    title_zh: str
    title_en: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    total: tuple[Any, ...] | None = None

    def column(self, key: str) -> int:
        return next(n for n, c in enumerate(self.columns) if c.key == key)

    def values(self, key: str) -> list[Any]:
        """The values of one column, row by row (the total excluded)."""
        n = self.column(key)
        return [row[n] for row in self.rows]


@dataclass(frozen=True)
class Report:
    """A report: what it covers, when it was made, and its tables."""

    kind: Literal["annual", "monthly"]
    title_zh: str
    title_en: str
    fiscal_year: int
    month: int | None
    town_code: str | None
    generated_at: str  # ISO instant, UTC
    views_position: int
    tables: tuple[ReportTable, ...]
    notes_zh: tuple[str, ...] = field(default=())
    notes_en: tuple[str, ...] = field(default=())

    def table(self, name: str) -> ReportTable:
        return next(t for t in self.tables if t.name == name)


def total_of(columns: tuple[Column, ...], rows: list[tuple[Any, ...]], label: str,
             ratios: dict[str, Any] | None = None) -> tuple[Any, ...]:  # fmt: skip
    """A total row: the label in the first column, sums of fen and count columns, the given
    ratios (recomputed from the sums by the caller) and None elsewhere."""
    out: list[Any] = []
    for n, column in enumerate(columns):
        if n == 0:
            out.append(label)
        elif column.kind in ("fen", "int") and all(row[n] is not None for row in rows):
            out.append(sum(row[n] for row in rows))
        else:
            out.append((ratios or {}).get(column.key))
    return tuple(out)
