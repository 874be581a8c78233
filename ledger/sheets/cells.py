"""One spreadsheet cell made into a command field's value: dates, yuan amounts, whole numbers,
text, coded choices given by their Chinese names.

A cell is text (CSV, or a text cell of a workbook) or a typed value of a workbook cell: int,
float, `datetime`/`date`, bool. Amounts never pass through float arithmetic: a number cell is
read from its shortest exact decimal form (`repr`, which is how the workbook wrote it) and is
refused when that has more than two decimal places. Pure functions; no I/O.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.errors import ValidationFailed
from ledger.identifiers import InvalidIdentifier, resolve_town
from ledger.sheets.headers import code_for_choice, header_zh, type_for_name

#: 2025/5/1, 2025-5-1, 2025.5.1, 2025年5月1日 (one or two digits for month and day).
_DATE_TEXT = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?")
#: A date cell read with a midnight time, as workbooks store dates: 2025-05-01 00:00:00.
_MIDNIGHT = time(0, 0)
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")
_MEASURE = re.compile(r"(M[0-9]{2})(?:\s.*)?", re.DOTALL)
#: Separators of the numbers in a `collateral` cell: ; ； 、 , ， and line breaks.
_LIST_SEPARATORS = re.compile(r"[;；、,，\n]+")


def column_name(field: str) -> dict[str, str]:
    """How a message names a column: by its Chinese header, and in English by its field."""
    return {"name": field, "name_zh": header_zh(field)}


def date_text(field: str, value: Any) -> str:
    """An ISO `YYYY-MM-DD` text for a date cell, or text such as 2025/5/1 or 2025年5月1日.

    The text is only reshaped, never judged: whether the day exists, and its year's range, are
    the command schema's to check. A date-time cell with a time of day is refused.
    """
    if isinstance(value, datetime):
        if value.time() != _MIDNIGHT:
            raise ValidationFailed(variant="date_with_time", **column_name(field), value=str(value))
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValidationFailed(variant="date_invalid", **column_name(field), value=_shown(value))
    folded = unicodedata.normalize("NFKC", value).strip()
    match = _DATE_TEXT.fullmatch(folded)
    if match is None:
        raise ValidationFailed(variant="date_invalid", **column_name(field), value=value)
    year, month, day = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def yuan_text(field: str, value: Any) -> str:
    """Yuan text for an amount cell: text as it is (parsed exactly later), a number cell as its
    exact decimal form with two decimals; a number cell of more than two decimals is refused."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationFailed(variant="cell_not_value", **column_name(field), value=_shown(value))
    try:
        amount = Decimal(repr(value))
    except InvalidOperation:
        raise ValidationFailed(
            variant="cell_not_value", **column_name(field), value=_shown(value)
        ) from None
    if not amount.is_finite():
        raise ValidationFailed(variant="cell_not_value", **column_name(field), value=_shown(value))
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValidationFailed(
            variant="yuan_cell_too_precise", **column_name(field), value=repr(value)
        )
    return f"{amount:.2f}"


def whole_number(value: Any) -> Any:
    """An integer for a whole-number field: an int cell, integer text, or an integral number
    cell (2025.0); anything else is left for the schema to refuse."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return value


def text(field: str, value: Any) -> str:
    """Text for a text field: a number cell as its digits (12345, not 12345.0)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | datetime | date | time):
        raise ValidationFailed(variant="cell_not_value", **column_name(field), value=_shown(value))
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    raise ValidationFailed(variant="cell_not_value", **column_name(field), value=_shown(value))


def command_type(value: Any) -> Any:
    """The command type a `type` cell names, by its code or Chinese name."""
    if isinstance(value, str):
        return type_for_name(value) or value
    return value


def choice(field: str, value: str) -> str:
    """The code of a coded choice, a measure, a town or an item, given by its code or name."""
    if field == "measure":
        match = _MEASURE.fullmatch(value.strip())
        return match.group(1) if match else value
    if field == "town_code":
        try:
            return resolve_town(value).code
        except InvalidIdentifier:
            return value
    if field == "item":
        return _item_codes().get(value.strip(), value)
    return code_for_choice(field, value)


def collateral(value: str) -> list[str]:
    """The pledged patent or trademark numbers of a `collateral` cell."""
    return [part.strip() for part in _LIST_SEPARATORS.split(value) if part.strip()]


@functools.cache
def _item_codes() -> dict[str, str]:
    """Support item code by its Chinese title (titles are unique in the catalogue)."""
    from ledger.catalogue import load_catalogue

    return {item.title_zh: item.code for m in load_catalogue().measures for item in m.items}


def _shown(value: Any) -> str:
    return f"<{type(value).__name__}>" if not isinstance(value, int | float | date) else str(value)
