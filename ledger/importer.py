"""Bulk import: JSON Lines (or CSV) files of DESIGN §4 commands, each line independent.

Good lines are recorded, bad lines are reported with their line number (counting from 1),
their stable error code and a message; nothing a bad line says is recorded. Lines are sent to
the ledger in batches, each batch saved in one transaction.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from marshmallow import fields

from ledger.application import DUPLICATE, Outcome, SupportLedger
from ledger.commands import SCHEMAS
from ledger.errors import LedgerError, ValidationFailed
from ledger.money import MoneyError, parse_yuan

DEFAULT_BATCH_SIZE = 500
_INTEGER = re.compile(r"^[+-]?\d+$")


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
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Line(number, None, None, invalid_input(f"not valid JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(data, dict):
            yield Line(number, None, None, invalid_input("a line must be one JSON object"))
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
    for row in reader:
        number = reader.line_num
        data: dict[str, Any] = {k.strip(): v.strip() for k, v in row.items() if k and v and v.strip()}
        if command_type:
            data.setdefault("type", command_type)
        actor = data.pop("actor", None)
        schema = SCHEMAS.get(data.get("type", ""))
        if schema is not None:
            for name, value in list(data.items()):
                schema_field = schema._declared_fields.get(name)
                if isinstance(schema_field, fields.Integer) and _INTEGER.match(value):
                    data[name] = int(value)
                elif name == "collateral":
                    data[name] = [part.strip() for part in value.split(";") if part.strip()]
        yield _line(number, data, actor)


def _line(number: int, data: dict[str, Any], actor: Any) -> Line:
    try:
        fen_data = _yuan_to_fen(data)
    except LedgerError as error:
        return Line(number, None, None, error)
    return Line(number, fen_data, actor if isinstance(actor, str) else None)


def _yuan_to_fen(data: dict[str, Any]) -> dict[str, Any]:
    """Replace every `x_yuan` text field by the exact `x_fen` integer."""
    for name in [n for n in data if n.endswith("_yuan")]:
        fen_name = name[: -len("_yuan")] + "_fen"
        value = data.pop(name)
        if fen_name in data:
            raise invalid_input(f"give either {name} or {fen_name}, not both")
        try:
            data[fen_name] = parse_yuan(str(value), allow_negative=fen_name == "delta_fen")
        except MoneyError as exc:
            raise invalid_input(f"{name}: {exc}") from None
    return data


def invalid_input(message: str) -> LedgerError:
    """A `validation_error` for input that is not even a command (bad JSON, bad yuan text)."""
    return ValidationFailed(message, message_zh=f"输入无效：{message}")


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


def open_text(path: str) -> IO[str]:
    """Open a file for import as UTF-8 text (a byte-order mark is dropped); `-` is stdin."""
    if path == "-":
        import sys

        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig", newline="")
