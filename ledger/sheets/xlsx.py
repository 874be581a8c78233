"""Reading `.xlsx` workbooks for import: openpyxl's read-only (streaming) mode, one sheet per
command type.

A sheet is imported when its name is a command type or the type's Chinese name (拨付登记 =
`record_disbursement`), or when its header row has a `type` (命令类型) column; other sheets
(instructions, drop-down lists) are left alone and named in the report. With a type given,
the sheet of that name is read, or else the workbook's first sheet. The workbook is checked as
a whole before any row is read: a file that is not a workbook, or has no sheet of commands, is
refused with `unreadable_file`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from ledger.errors import UnreadableFile
from ledger.sheets.headers import field_for_header, type_for_name
from ledger.sheets.rows import names_a_field

#: The first bytes of an Excel 97-2003 (.xls) file: an OLE compound document.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
#: The header row is among the first rows of a sheet (rows above it are titles).
HEADER_ROWS_MAX = 10
#: At most this many sheet names are listed in a message.
_SHEETS_SHOWN = 10


def looks_like_workbook(head: bytes) -> bool:
    """Whether a file's first bytes are those of a workbook (.xlsx, or an old .xls)."""
    return head.startswith(_ZIP_MAGIC) or head.startswith(_OLE_MAGIC)


@dataclass(frozen=True)
class Sheet:
    """A sheet to import: its name, and the type of its rows (None: a `type` column says)."""

    name: str
    command_type: str | None


@dataclass
class Workbook:
    """An open workbook, the sheets of commands it holds and the sheets it leaves alone."""

    book: Any
    raw: IO[bytes]
    sheets: list[Sheet]
    skipped: list[str] = field(default_factory=list)

    def rows(self, sheet: Sheet) -> Iterator[tuple[int, Sequence[Any]]]:
        """The sheet's rows with their row numbers (1 = the sheet's first row), cell values."""
        yield from enumerate(self.book[sheet.name].iter_rows(values_only=True), start=1)

    def close(self) -> None:
        self.book.close()
        self.raw.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_workbook(path: str, command_type: str | None = None) -> Workbook:
    """Open a workbook for import and choose its sheets of commands; `unreadable_file` if it
    is not a workbook, or holds no sheet of commands (of `command_type`, when given)."""
    with open(path, "rb") as raw:
        head = raw.read(len(_OLE_MAGIC))
    if head.startswith(_OLE_MAGIC):
        raise UnreadableFile(variant="xls")
    if not zipfile.is_zipfile(path):
        raise UnreadableFile(
            variant="not_xlsx", reason_zh="不是 ZIP 压缩包", reason_en="not a ZIP archive"
        )
    import openpyxl

    # A file, not a name: openpyxl would judge the name's extension. Closed by Workbook.close.
    raw = open(path, "rb")  # noqa: SIM115
    try:
        book = openpyxl.load_workbook(raw, read_only=True, data_only=True, keep_links=False)
        chosen, skipped = _choose_sheets(book, command_type)
    except UnreadableFile:
        raw.close()
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign archive
        raw.close()
        raise UnreadableFile(
            variant="not_xlsx", reason_zh=f"文件已损坏或不是工作簿（{type(exc).__name__}）",
            reason_en=f"damaged, or not a workbook ({type(exc).__name__})",
        ) from None  # fmt: skip
    return Workbook(book, raw, chosen, skipped)


def _choose_sheets(book: Any, command_type: str | None) -> tuple[list[Sheet], list[str]]:
    names: list[str] = [n for n in book.sheetnames if hasattr(book[n], "iter_rows")]
    if not names:  # a workbook of chart sheets only
        raise UnreadableFile(variant="no_command_sheet", sheets="—")
    if command_type:
        named = [n for n in names if type_for_name(n) == command_type]
        chosen = [Sheet(named[0] if named else names[0], command_type)]
    else:
        chosen = []
        for name in names:
            sheet_type = type_for_name(name)
            if sheet_type or _has_type_column(book[name]):
                chosen.append(Sheet(name, sheet_type))
    if not chosen:
        shown = "、".join(names[:_SHEETS_SHOWN]) + ("…" if len(names) > _SHEETS_SHOWN else "")
        raise UnreadableFile(variant="no_command_sheet", sheets=shown)
    for sheet in chosen:
        if _header(book[sheet.name]) is None:
            raise UnreadableFile(variant="sheet_not_commands", sheet=sheet.name)
    taken = {sheet.name for sheet in chosen}
    return chosen, [n for n in names if n not in taken]


def _header(worksheet: Any) -> Sequence[Any] | None:
    """The header row of a sheet: the first of its first rows naming a command field."""
    for row in worksheet.iter_rows(max_row=HEADER_ROWS_MAX, values_only=True):
        if names_a_field(row):
            return row
    return None


def _has_type_column(worksheet: Any) -> bool:
    header = _header(worksheet)
    return header is not None and any(
        isinstance(v, str) and field_for_header(v) == "type" for v in header
    )
