"""A spreadsheet row made into a command: its header row mapped to fields, its cells to values.

The header row may name the fields or give their Chinese headers (`ledger.sheets.headers`); a
second header row of field names (as templates have), rows of notes (first cell beginning with
`#` or 示例) and empty rows are not commands. Pure functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    filled = [(i, v) for i, v in enumerate(values) if not blank(v)]
    if not filled:
        return True
    first = filled[0][1]
    if isinstance(first, str) and first.strip().lower().startswith(NOTE_PREFIXES):
        return True
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
        if name is None or blank(value):
            continue
        data[name] = value.strip() if isinstance(value, str) else value
    if "type" in data:
        data["type"] = cells.command_type(data["type"])
    elif command_type:
        data["type"] = command_type
    schema = SCHEMAS.get(data.get("type", "")) if isinstance(data.get("type"), str) else None
    if schema is None:
        return data  # not a known type: the ledger says so
    for name, value in list(data.items()):
        if name != "type":
            data[name] = _value(schema._declared_fields.get(name), name, value)
    return data


def _value(schema_field: fields.Field | None, name: str, value: Any) -> Any:
    if name.endswith("_yuan"):
        return cells.yuan_text(name, value)
    if schema_field is None:  # actor, or a field the command does not have (refused later)
        return value if name != "actor" or not isinstance(value, int | float) else str(value)
    if isinstance(schema_field, IsoDate):
        return cells.date_text(name, value)
    if isinstance(schema_field, fields.Integer):
        return cells.whole_number(value)
    if name == "collateral":
        return cells.collateral(cells.text(name, value))
    text = cells.text(name, value)
    return cells.choice(name, text) if name in CHOICE_FIELDS else text
