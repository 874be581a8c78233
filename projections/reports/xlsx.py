"""A report as an .xlsx workbook (openpyxl, write-only): one sheet per table.

Each sheet starts with the report's title (Chinese, then English), when it was made (Beijing
time) and the views' position, then a header row in Chinese and one in English, the rows and
the total. Amounts are numbers in yuan with two decimals (exact: fen ÷ 100 as a decimal),
ratios are numbers shown as percentages, so the sheet can be summed and checked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from ledger.shanghai import shanghai_time
from projections.reports.formats import UNITS
from projections.reports.model import Report, ReportTable

#: Number formats by column kind.
FORMATS = {"fen": "#,##0.00", "ratio": "0.0%", "days": "0.0", "times": "#,##0.00", "int": "#,##0"}
#: Characters a sheet title may not hold.
_NOT_IN_TITLE = str.maketrans({c: " " for c in "[]:*?/\\"})


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "fen":
        return Decimal(int(value)) / 100
    return value


def _label(column: Any, english: bool) -> str:
    unit = UNITS.get(column.kind)
    label = column.label_en if english else column.label_zh
    return f"{label} ({unit[1 if english else 0]})" if unit else label


def _sheet(book: Workbook, report: Report, table: ReportTable) -> None:
    sheet = book.create_sheet(f"{table.title_zh} {table.title_en}".translate(_NOT_IN_TITLE)[:31])
    for n, column in enumerate(table.columns):
        letter = chr(ord("A") + n) if n < 26 else "A" + chr(ord("A") + n - 26)
        sheet.column_dimensions[letter].width = 12 if column.kind != "text" else 16
    bold = Font(bold=True)

    def strong(text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        return cell

    sheet.append([strong(report.title_zh)])
    sheet.append([report.title_en])
    sheet.append([f"生成时间 Made at: {shanghai_time(report.generated_at)}; "
                  f"视图位置 views at log position {report.views_position}"])  # fmt: skip
    sheet.append([])
    sheet.append([strong(_label(c, False)) for c in table.columns])
    sheet.append([strong(_label(c, True)) for c in table.columns])
    for row in (*table.rows, *([table.total] if table.total else [])):
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            cell = WriteOnlyCell(sheet, value=_value(value, column.kind))
            if column.kind in FORMATS:
                cell.number_format = FORMATS[column.kind]
            if row is table.total:
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    for zh, en in zip(report.notes_zh, report.notes_en, strict=False):
        sheet.append([f"{zh} / {en}"])


def write_report(report: Report, target: str | IO[bytes]) -> None:
    """Write `report` as an .xlsx workbook to a path or a binary stream."""
    book = Workbook(write_only=True)
    for table in report.tables:
        _sheet(book, report, table)
    book.save(target)
