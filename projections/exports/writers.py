"""Sheets written row by row: `.xlsx` (openpyxl's write-only mode, memory bounded however many
rows) and CSV (UTF-8 with a BOM, so Excel opens it in Chinese).

Both lay out the same lines: a header line (what, the views' position and time, the filters),
the Chinese headers, the field names, one line per row, and the 合计 (total) line: the count
and the sum of every yuan column. Amounts arrive as integer fen and are written as exact
`Decimal` yuan (never through a float), shown `#,##0.00`. Every text cell goes through
`ledger.csvsafe.safe_cell`, so a name that starts like a formula (`=`, `+`, `-`, `@`) is text in
both formats.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO, Any

from ledger.csvsafe import safe_cell
from projections.exports.columns import Column

YUAN_FORMAT = "#,##0.00"
#: The first cell of the total line.
TOTAL_LABEL = "合计"


def yuan_value(amount_fen: int | None) -> Decimal | None:
    """Fen as exact yuan with two decimals: 123456 → Decimal("1234.56")."""
    return None if amount_fen is None else Decimal(int(amount_fen)).scaleb(-2)


class Totals:
    """The count of rows and the fen sum of every yuan column, kept while rows are written."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = columns
        self.count = 0
        self.fen = [0 if col.kind == "yuan" else None for col in columns]

    def add(self, values: list[Any]) -> None:
        self.count += 1
        for i, col in enumerate(self.columns):
            if col.kind == "yuan" and values[i] is not None:
                self.fen[i] += int(values[i])  # type: ignore[operator]

    def line(self) -> list[Any]:
        label = f"{TOTAL_LABEL}（{self.count:,} 条）/ Total ({self.count:,} rows)"
        return [label if i == 0 else (yuan_value(f) if f is not None else None)
                for i, f in enumerate(self.fen)]  # fmt: skip


def _cells(columns: Sequence[Column], row: Any) -> list[Any]:
    """A row's raw values (fen for yuan columns)."""
    return [col.value(row) for col in columns]


def _shown(columns: Sequence[Column], values: list[Any]) -> list[Any]:
    return [
        yuan_value(v) if col.kind == "yuan" else (v if col.kind == "int" or v is None else safe_cell(str(v)))
        for col, v in zip(columns, values, strict=True)
    ]


def write_csv(out: IO[bytes], header: str, columns: Sequence[Column], rows: Iterable[Any]) -> Totals:
    """Write the sheet as CSV (UTF-8 with BOM) to a binary file; returns the totals."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    try:
        writer = csv.writer(text)
        writer.writerow([safe_cell(header)])
        writer.writerow([col.zh for col in columns])
        writer.writerow([col.name for col in columns])
        totals = Totals(columns)
        for row in rows:
            values = _cells(columns, row)
            totals.add(values)
            writer.writerow(["" if v is None else v for v in _shown(columns, values)])
        writer.writerow(["" if v is None else v for v in totals.line()])
        text.flush()
    finally:
        text.detach()
    return totals


def write_xlsx(
    out: IO[bytes], header: str, sheet_title: str, columns: Sequence[Column], rows: Iterable[Any]
) -> Totals:  # fmt: skip
    """Write the sheet as .xlsx to a binary file (write-only workbook); returns the totals."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title[:31])
    for i, col in enumerate(columns, start=1):
        width = 16 if col.kind == "yuan" else min(max(len(col.zh) * 2 + 2, 10), 40)
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A4"
    bold = Font(bold=True)

    def cell(value: Any, col: Column | None = None, strong: bool = False) -> Any:
        if isinstance(value, str):  # XML cannot hold control characters: shown as U+FFFD
            value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if not strong and (col is None or col.kind != "yuan"):
            return value  # a plain value is a plain cell (quicker than a styled one)
        made = WriteOnlyCell(sheet, value=value)
        if col is not None and col.kind == "yuan":
            made.number_format = YUAN_FORMAT
        if strong:
            made.font = bold
        return made

    sheet.append([cell(safe_cell(header), strong=True)])
    sheet.append([cell(col.zh, strong=True) for col in columns])
    sheet.append([cell(col.name) for col in columns])
    totals = Totals(columns)
    for row in rows:
        values = _cells(columns, row)
        totals.add(values)
        sheet.append([cell(v, col) for col, v in zip(columns, _shown(columns, values), strict=True)])
    sheet.append([cell(v, col, strong=True) for col, v in zip(columns, totals.line(), strict=True)])
    book.save(out)
    return totals
