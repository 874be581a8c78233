"""Bulk import: JSON Lines, CSV (or, through `ledger.sheets.xlsx`, workbook) files of DESIGN §4
commands, each line independent.

Good lines are recorded, bad lines are reported with their line number (counting from 1; a
sheet's row number, and its sheet), their stable error code and a message; nothing a bad line
says is recorded. Lines are sent to the ledger in batches, each batch saved in one transaction.
"""

from __future__ import annotations

import codecs
import csv
import io
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from ledger.application import DUPLICATE, AggregateCarry, Outcome, SupportLedger
from ledger.commands import check_text, load_json
from ledger.errors import LedgerError, UnreadableFile, ValidationFailed
from ledger.money import MoneyError, parse_yuan
from ledger.sheets.rows import (
    header_fields,
    is_not_a_command,
    names_a_field,
    row_command,
)

DEFAULT_BATCH_SIZE = 500
#: CSV files are read in this encoding unless told otherwise; when a file is not UTF-8, it is
#: tried as GB18030 (a superset of GBK and GB2312, what Chinese Excel saves).
UTF8, GB18030 = "utf-8", "gb18030"
#: Files are checked for being readable in chunks of this many bytes.
_CHUNK_BYTES = 1 << 20
_ACTOR_MAX_CHARS = 100


@dataclass
class Rejection:
    line: int
    code: str
    message: str
    message_zh: str = ""
    sheet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body = {"line": self.line, "code": self.code, "message": self.message,
                "message_zh": self.message_zh}  # fmt: skip
        if self.sheet is not None:
            body["sheet"] = self.sheet
        return body


@dataclass
class ImportReport:
    """What an import did: lines accepted (recorded), duplicates, and every rejected line."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    last_position: int | None = None

    @property
    def lines(self) -> int:
        return self.accepted + self.duplicates + len(self.rejected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [r.to_dict() for r in self.rejected],
        }


@dataclass(frozen=True)
class Line:
    """One line of an import file: its number, and its command or the error that refused it."""

    number: int
    data: dict[str, Any] | None
    actor: str | None
    error: LedgerError | None = None
    sheet: str | None = None

    def __post_init__(self) -> None:
        if self.error is not None:  # kept until its batch is answered: as a value
            self.error.as_result()


def read_jsonl(stream: IO[str]) -> Iterator[Line]:
    """Read JSON Lines; blank lines and lines starting with `#` are skipped (but counted)."""
    for number, text in enumerate(stream, start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        try:
            data = load_json(text, what="the line")
        except LedgerError as error:
            yield Line(number, None, None, error)
            continue
        if not isinstance(data, dict):
            yield Line(number, None, None, ValidationFailed(variant="line_not_object"))
            continue
        actor = data.pop("actor", None)
        yield _line(number, data, actor)


def read_csv(stream: IO[str], command_type: str | None = None) -> Iterator[Line]:
    """Read a CSV sheet of one command type: a header row of field names (or their Chinese
    headers), then one command a row; see `read_table`. Line numbers count the header as 1."""
    reader = csv.reader(stream)

    def rows() -> Iterator[tuple[int, Sequence[Any] | LedgerError]]:
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield reader.line_num, ValidationFailed(variant="csv_row", reason=str(exc))
                continue
            yield reader.line_num, values

    return read_table(rows(), command_type)


def read_table(
    rows: Iterable[tuple[int, Sequence[Any] | LedgerError]],
    command_type: str | None = None,
    sheet: str | None = None,
) -> Iterator[Line]:
    """The commands of a table's rows (numbered as the spreadsheet numbers them).

    The header is the first row that names a command field (rows above it are titles). The
    type comes from `command_type` or a `type` column. Empty cells are left out; integer fields
    are read as integers; `*_yuan` columns are converted exactly to `*_fen`; dates may be
    2025-05-01, 2025/5/1, 2025年5月1日 or date cells; a `collateral` cell lists numbers
    separated by `;`. Empty rows, notes (`#`, 示例) and a second header row are skipped.
    """
    columns: list[str | None] | None = None
    for number, values in rows:
        if isinstance(values, LedgerError):
            yield Line(number, None, None, values, sheet)
            continue
        if columns is None:
            if names_a_field(values):
                columns = header_fields(values)
            continue
        if is_not_a_command(values, columns):
            continue
        try:
            data = row_command(columns, values, command_type)
        except LedgerError as error:
            yield Line(number, None, None, error, sheet)
            continue
        yield _line(number, data, data.pop("actor", None), sheet)


def _line(number: int, data: dict[str, Any], actor: Any, sheet: str | None = None) -> Line:
    try:
        fen_data = _yuan_to_fen(data)
        if actor is not None:
            _check_actor(actor)
    except LedgerError as error:
        return Line(number, None, None, error, sheet)
    return Line(number, fen_data, actor or None, sheet=sheet)


def _check_actor(actor: Any) -> None:
    """A line's own `actor` is a user name: text, short, without invisible characters."""
    try:
        check_text(actor)
    except Exception:  # marshmallow's ValidationError: not text, or deceptive characters
        raise ValidationFailed(variant="actor_not_text") from None
    if len(actor) > _ACTOR_MAX_CHARS:
        raise ValidationFailed(variant="actor_too_long", max_chars=_ACTOR_MAX_CHARS)


def _yuan_to_fen(data: dict[str, Any]) -> dict[str, Any]:
    """Replace every `x_yuan` text field by the exact `x_fen` integer."""
    for name in [n for n in data if n.endswith("_yuan")]:
        fen_name = name[: -len("_yuan")] + "_fen"
        value = data.pop(name)
        if fen_name in data:
            raise ValidationFailed(variant="yuan_and_fen", name=name, fen_name=fen_name)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationFailed(variant="yuan_not_text", name=name)
        try:
            text = value if isinstance(value, str) else str(value)
            data[fen_name] = parse_yuan(text, allow_negative=fen_name == "delta_fen")
        except MoneyError as exc:
            raise ValidationFailed(
                variant="yuan_invalid", name=name, reason_en=exc.message_en, reason_zh=exc.message_zh
            ) from None
        except ValueError:  # an amount of thousands of digits
            raise ValidationFailed(variant="yuan_too_many_digits", name=name) from None
    return data


def invalid_input(summary: str) -> LedgerError:
    """A `validation_error` for input that is not even a command, as a caller words it."""
    return ValidationFailed(summary=summary)


def read_lines(stream: IO[str], fmt: str, command_type: str | None = None) -> Iterator[Line]:
    """The lines of a `jsonl` or `csv` stream."""
    if fmt == "csv":
        return read_csv(stream, command_type)
    return read_jsonl(stream)


def import_lines(
    app: SupportLedger,
    lines: Iterator[Line],
    *,
    default_actor: str | None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[ImportReport, float], None] | None = None,
) -> ImportReport:
    """Send the lines to the ledger in batches and report on every line.

    With `dry_run`, every line is checked against the state the lines before it would leave,
    and nothing is saved.
    """
    report = ImportReport()
    started = time.monotonic()
    if dry_run:
        batch_size = 10**9
    batch: list[Line] = []
    carry = AggregateCarry()  # what one batch saved, the next starts from
    for line in lines:
        batch.append(line)
        if len(batch) >= batch_size:
            _send(app, batch, default_actor, dry_run, report, carry)
            batch = []
            if progress:
                progress(report, time.monotonic() - started)
    if batch:
        _send(app, batch, default_actor, dry_run, report, carry)
    if progress:
        progress(report, time.monotonic() - started)
    return report


def _send(
    app: SupportLedger,
    batch: list[Line],
    default_actor: str | None,
    dry_run: bool,
    report: ImportReport,
    carry: AggregateCarry | None = None,
) -> None:
    sendable = [line for line in batch if line.error is None]
    results = app.execute_many(
        [(line.data or {}, line.actor or default_actor or "") for line in sendable],
        dry_run=dry_run,
        carry=carry,
    )
    if len(results) != len(sendable):
        raise AssertionError("the ledger answered a batch with a different number of results")
    answers: Iterator[Outcome | LedgerError] = iter(results)
    for line in batch:  # lines of several sheets may share a number: answered in order
        result = line.error if line.error is not None else next(answers)
        if isinstance(result, LedgerError):
            report.rejected.append(
                Rejection(line.number, result.code, result.message_en, result.message_zh, line.sheet)
            )
        elif result.status == DUPLICATE:
            report.duplicates += 1
        else:
            report.accepted += 1
            if result.position is not None:
                report.last_position = max(report.last_position or 0, result.position)


def open_text(path: str, fmt: str = "jsonl", encoding: str | None = UTF8) -> IO[str]:
    """Open a file for import as text (a UTF-8 byte-order mark is dropped); `-` is stdin.

    `encoding` None reads UTF-8, or GB18030/GBK when the file is not UTF-8 (CSV saved by
    Chinese Excel). The whole file is checked first: a file that is not text in the encoding,
    holds NUL bytes, or is not JSON Lines (no line is an object) or CSV (no header row names a
    command field) at all raises `unreadable_file`, before any line is read. OSError when it
    cannot be opened.
    """
    if path == "-":
        import sys

        buffer: IO[bytes] = io.BytesIO(sys.stdin.buffer.read())
        found = check_file(buffer, fmt, encoding)
        buffer.seek(0)
        return io.TextIOWrapper(buffer, encoding=found, newline="")
    with open(path, "rb") as raw:
        found = check_file(raw, fmt, encoding)
    return open(path, encoding=found, newline="")


def check_file(raw: IO[bytes], fmt: str, encoding: str | None = UTF8) -> str:
    """Raise `unreadable_file` unless the byte stream, as a whole, is text of the format in
    `encoding` (None: UTF-8, else GB18030); return the codec to read it with."""
    if encoding is not None:
        return _check_text(raw, fmt, encoding)
    start = raw.tell()
    try:
        return _check_text(raw, fmt, UTF8)
    except UnreadableFile as error:
        if error.variant != "not_utf8":
            raise
        raw.seek(start)
        try:
            return _check_text(raw, fmt, GB18030)
        except UnreadableFile as again:
            if again.variant != "not_encoding":
                raise
            raise UnreadableFile(variant="not_text", byte=error.fields["byte"]) from None


#: A CSV header row is one of the first lines with content (lines above it are titles).
_HEADER_LINES_MAX = 10


def _check_text(raw: IO[bytes], fmt: str, encoding: str) -> str:
    utf8 = codecs.lookup(encoding).name == UTF8
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    carry = ""
    looked_at = 0  # lines with content looked at, to decide the format
    looks_right = False
    while True:
        chunk = raw.read(_CHUNK_BYTES)
        final = not chunk
        if b"\x00" in chunk:
            raise UnreadableFile(variant="nul", byte=offset + chunk.index(b"\x00"))
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            at = offset + max(exc.start, 0)
            raise UnreadableFile(
                variant="not_utf8" if utf8 else "not_encoding", encoding=encoding, byte=at
            ) from None
        if offset == 0 and utf8:
            text = text.removeprefix("\ufeff")
        offset += len(chunk)
        if not looks_right and looked_at < _HEADER_LINES_MAX:
            lines = (carry + text).split("\n")
            carry = "" if final else lines.pop()
            for line in lines:
                stripped = line.strip()
                if not stripped or (fmt != "csv" and stripped.startswith("#")):
                    continue
                looked_at += 1
                looks_right = _is_csv_header(line) if fmt == "csv" else stripped.startswith("{")
                if looks_right or (fmt == "csv" and looked_at >= _HEADER_LINES_MAX):
                    break
        if final:
            break
    if looked_at and not looks_right:
        raise UnreadableFile(variant="not_csv" if fmt == "csv" else "not_jsonl")
    return "utf-8-sig" if utf8 else encoding


def _is_csv_header(line: str) -> bool:
    try:
        header = next(csv.reader([line]), [])
    except csv.Error:
        return False
    return names_a_field(header)
