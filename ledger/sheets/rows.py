"""A spreadsheet row made into a command: its header row mapped to fields, its cells to values.

The header row may name the fields or give their Chinese headers (`ledger.sheets.headers`); a
second header row of field names (as templates have), rows of notes (first cell beginning with
`#` or 示例) and empty rows are not commands. Pure functions; no I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from marshmallow import fields

from ledger.command_fields import IsoDate
from ledger.commands import SCHEMAS
from ledger.sheets import cells
from ledger.sheets.headers import field_for_header

#: The fields whose cells may give a code by its name (town names, item titles, choices).
CHOICE_FIELDS = frozenset(
    {"measure", "item", "town_code", "transferor_kind", "mode", "outcome", "instrument", "event"}
)
#: A row whose first cell begins with one of these is a note, not a command.
NOTE_PREFIXES = ("#", "示例", "例：", "example")

#: Every field any command has (amounts as their yuan columns), `type` and `actor`.
COMMAND_FIELDS = frozenset(
    {"type", "actor"}
    | {name for schema in SCHEMAS.values() for name in schema._declared_fields}
    | {
        name[: -len("_fen")] + "_yuan"
        for schema in SCHEMAS.values()
        for name in schema._declared_fields
        if name.endswith("_fen")
    }
)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def names_a_field(values: Sequence[Any]) -> bool:
    """Whether a row is a header row: one of its cells names a command field."""
    return any(
        isinstance(value, str) and field_for_header(value) in COMMAND_FIELDS for value in values
    )


def header_fields(values: Sequence[Any]) -> list[str | None]:
    """The field of each column of a header row (None for an empty header). A field named twice
    keeps its first column; the later ones keep their header text, refused as unknown fields."""
    seen: set[str] = set()
    columns: list[str | None] = []
    for value in values:
        if blank(value):
            columns.append(None)
            continue
        name = field_for_header(str(value))
        columns.append(name if name not in seen else str(value).strip())
        seen.add(name)
    return columns


def is_not_a_command(values: Sequence[Any], columns: Sequence[str | None]) -> bool:
    """An empty row, a note, or a second header row of field names (or headers) is skipped."""
    first: Any = None
    for value in values:
        if value is not None and (not isinstance(value, str) or value.strip()):
            first = value
            break
    else:
        return True
    if not isinstance(first, str):  # a number or a date: a command's cell
        return False
    if first.strip().lower().startswith(NOTE_PREFIXES):
        return True
    if field_for_header(first) not in COMMAND_FIELDS:
        return False
    filled = [(i, v) for i, v in enumerate(values) if not blank(v)]
    return all(
        isinstance(v, str) and i < len(columns) and field_for_header(v) == columns[i]
        for i, v in filled
    )


def row_command(
    columns: Sequence[str | None], values: Iterable[Any], command_type: str | None
) -> dict[str, Any]:
    """The command a row gives: its non-empty cells under their fields, made into the values the
    command's schema reads. A `type` cell wins over `command_type`. Raises `validation_error`
    for a cell that cannot be a value of its field (a date that is not one, a number cell of
    more than two decimals in yuan)."""
    data: dict[str, Any] = {}
    for name, value in zip(columns, values, strict=False):
        if name is None or value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
        data[name] = value
    if "type" in data:
        data["type"] = cells.command_type(data["type"])
    elif command_type:
        data["type"] = command_type
    read = _readers(data.get("type"))
    if read is None:
        return data  # not a known type: the ledger says so
    for name, value in data.items():
        reader = read.get(name)
        if reader is not None:
            data[name] = reader(name, value)
    return data


@functools.cache
def _readers(command_type: Any) -> dict[str, Callable[[str, Any], Any]] | None:
    """How each field of a command type is read from a cell (a field not listed: as it is)."""
    schema = SCHEMAS.get(command_type) if isinstance(command_type, str) else None
    if schema is None:
        return None
    readers: dict[str, Callable[[str, Any], Any]] = {"actor": _actor}
    for name, schema_field in schema._declared_fields.items():
        if name.endswith("_fen"):
            readers[name[: -len("_fen")] + "_yuan"] = cells.yuan_text
        if name == "type":
            continue
        if isinstance(schema_field, IsoDate):
            readers[name] = cells.date_text
        elif isinstance(schema_field, fields.Integer):
            readers[name] = _whole_number
        elif name == "collateral":
            readers[name] = _collateral
        elif name in CHOICE_FIELDS:
            readers[name] = _choice
        else:
            readers[name] = cells.text
    return readers


def _actor(name: str, value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _whole_number(name: str, value: Any) -> Any:
    return cells.whole_number(value)


def _collateral(name: str, value: Any) -> list[str]:
    return cells.collateral(cells.text(name, value))


def _choice(name: str, value: Any) -> str:
    return cells.choice(name, cells.text(name, value))
