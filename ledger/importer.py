"""Bulk import: JSON Lines (or CSV) files of DESIGN §4 commands, each line independent.

Good lines are recorded, bad lines are reported with their line number (counting from 1),
their stable error code and a message; nothing a bad line says is recorded. Lines are sent to
the ledger in batches, each batch saved in one transaction.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from marshmallow import fields

from ledger.application import DUPLICATE, Outcome, SupportLedger
from ledger.commands import SCHEMAS, check_text, load_json
from ledger.errors import LedgerError, UnreadableFile, ValidationFailed
from ledger.money import MoneyError, parse_yuan

DEFAULT_BATCH_SIZE = 500
#: An integer cell: ASCII digits, at most 30 of them (longer text is left as text, and refused).
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")
#: Files are checked for being readable in chunks of this many bytes.
_CHUNK_BYTES = 1 << 20
_ACTOR_MAX_CHARS = 100


@dataclass
class Rejection:
    line: int
    code: str
    message: str
    message_zh: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "code": self.code, "message": self.message}


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
    """Read a CSV sheet of one command type: a header row of field names, then one command a row.

    The type comes from `command_type` or a `type` column. Empty cells are left out; integer
    fields are read as integers; `*_yuan` columns are converted exactly to `*_fen`; a
    `collateral` cell lists numbers separated by `;`. Line numbers count the header as line 1.
    """
    reader = csv.DictReader(stream)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Line(reader.line_num, None, None, ValidationFailed(variant="csv_row", reason=str(exc)))
            continue
        number = reader.line_num
        data: dict[str, Any] = {k.strip(): v.strip() for k, v in row.items() if k and v and v.strip()}
        if command_type:
            data.setdefault("type", command_type)
        actor = data.pop("actor", None)
        schema = SCHEMAS.get(data.get("type", ""))
        if schema is not None:
            for name, value in list(data.items()):
                schema_field = schema._declared_fields.get(name)
                if isinstance(schema_field, fields.Integer) and _INTEGER.fullmatch(value):
                    data[name] = int(value)
                elif name == "collateral":
                    data[name] = [part.strip() for part in value.split(";") if part.strip()]
        yield _line(number, data, actor)


def _line(number: int, data: dict[str, Any], actor: Any) -> Line:
    try:
        fen_data = _yuan_to_fen(data)
        if actor is not None:
            _check_actor(actor)
    except LedgerError as error:
        return Line(number, None, None, error)
    return Line(number, fen_data, actor or None)


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
    for line in lines:
        batch.append(line)
        if len(batch) >= batch_size:
            _send(app, batch, default_actor, dry_run, report)
            batch = []
            if progress:
                progress(report, time.monotonic() - started)
    if batch:
        _send(app, batch, default_actor, dry_run, report)
    if progress:
        progress(report, time.monotonic() - started)
    return report


def _send(
    app: SupportLedger,
    batch: list[Line],
    default_actor: str | None,
    dry_run: bool,
    report: ImportReport,
) -> None:
    sendable = [line for line in batch if line.error is None]
    results = app.execute_many(
        [(line.data or {}, line.actor or default_actor or "") for line in sendable],
        dry_run=dry_run,
    )
    by_number: dict[int, Outcome | LedgerError] = {
        line.number: result for line, result in zip(sendable, results, strict=True)
    }
    for line in batch:
        result = line.error if line.error is not None else by_number[line.number]
        if isinstance(result, LedgerError):
            report.rejected.append(
                Rejection(line.number, result.code, result.message_en, result.message_zh)
            )
        elif result.status == DUPLICATE:
            report.duplicates += 1
        else:
            report.accepted += 1
            if result.position is not None:
                report.last_position = max(report.last_position or 0, result.position)


def open_text(path: str, fmt: str = "jsonl") -> IO[str]:
    """Open a file for import as UTF-8 text (a byte-order mark is dropped); `-` is stdin.

    The whole file is checked first: a file that is not UTF-8 text, holds NUL bytes, or is not
    JSON Lines (no line is an object) or CSV (no column is a command field) at all raises
    `unreadable_file`, before any line is read. OSError when it cannot be opened.
    """
    if path == "-":
        import sys

        buffer: IO[bytes] = io.BytesIO(sys.stdin.buffer.read())
        check_file(buffer, fmt)
        buffer.seek(0)
        return io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
    with open(path, "rb") as raw:
        check_file(raw, fmt)
    return open(path, encoding="utf-8-sig", newline="")


def check_file(raw: IO[bytes], fmt: str) -> None:
    """Raise `unreadable_file` unless the byte stream is UTF-8 text of the format, as a whole."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    head = ""  # the text up to the first line break (after BOM), for a CSV header
    carry = ""
    looks_right = False
    content_seen = False
    while True:
        chunk = raw.read(_CHUNK_BYTES)
        final = not chunk
        if b"\x00" in chunk:
            at = offset + chunk.index(b"\x00")
            raise UnreadableFile(variant="nul", byte=at)
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            at = offset + max(exc.start, 0)
            raise UnreadableFile(variant="not_utf8", byte=at) from None
        offset += len(chunk)
        if offset == len(chunk):
            text = text.removeprefix("\ufeff")
        lines = (carry + text).split("\n")
        carry = "" if final else lines.pop()
        for line in lines:
            stripped = line.strip()
            if not stripped or (fmt != "csv" and stripped.startswith("#")):
                continue
            if not content_seen:
                head = line
            content_seen = True
            looks_right = looks_right or (fmt == "csv" and _is_csv_header(head)) or (
                fmt != "csv" and stripped.startswith("{")
            )
            if fmt == "csv":
                break
        if (fmt == "csv" and content_seen) or looks_right or final:
            break
    if content_seen and not looks_right:
        raise UnreadableFile(variant="not_csv" if fmt == "csv" else "not_jsonl")


def _is_csv_header(line: str) -> bool:
    try:
        header = next(csv.reader([line]), [])
    except csv.Error:
        return False
    return any(name.strip() in _CSV_FIELD_NAMES for name in header)


_CSV_FIELD_NAMES = frozenset(
    {"type", "actor"}
    | {name for schema in SCHEMAS.values() for name in schema._declared_fields}
    | {
        name[: -len("_fen")] + "_yuan"
        for schema in SCHEMAS.values()
        for name in schema._declared_fields
        if name.endswith("_fen")
    }
)

