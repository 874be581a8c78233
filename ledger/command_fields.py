"""The fields commands are made of, and the JSON text they arrive in.

Amounts are strict integers in fen, dates are exactly ISO `YYYY-MM-DD`, text is one line
without invisible or direction-changing characters, identifiers are checked (credit codes,
patent numbers, towns) and fail with their own stable code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, validate

from ledger.errors import (
    InvalidPatentNo,
    InvalidTown,
    InvalidUscc,
    LedgerError,
    ValidationFailed,
    printable,
)
from ledger.identifiers import (
    InvalidIdentifier,
    validate_patent_no,
    validate_town_code,
    validate_trademark_no,
    validate_uscc,
)
from ledger.messages import subject_zh

#: The largest amount any field accepts: 100 亿元, far above any real award or loan.
AMOUNT_FEN_MAX = 10**12
MEASURE_CODES = tuple(f"M{n:02d}" for n in range(1, 14))
#: Business dates and fiscal years lie in these years.
YEAR_MIN, YEAR_MAX = 2000, 2100
#: A command is an object, a list of them, and lists of text inside: never deeper than this.
JSON_DEPTH_MAX = 32
#: Identifiers are short: longer text is refused before it is looked at.
IDENTIFIER_MAX_CHARS = 64
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Characters no text field carries: unpaired surrogates, bidirectional embeddings, overrides
#: and isolates (U+202A–U+202E, U+2066–U+2069), zero-width characters (U+200B–U+200D, U+2060,
#: U+FEFF) and line/paragraph separators (U+2028, U+2029). They can make a name display as
#: something it is not, or break the encoders and terminals that show it.
_DECEPTIVE_CHARACTER = re.compile(
    "[\ud800-\udfff\u200b-\u200d\u2028-\u202e\u2060\u2066-\u2069\ufeff]"
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NOT_TEXT = "Not a valid string."


# -- JSON text --------------------------------------------------------------------------------


def load_json(text: str | bytes, *, what: str = "the input") -> Any:
    """Parse JSON text (or UTF-8 bytes) into Python values; raise `validation_error` on anything
    that is not plain JSON: invalid UTF-8, bad syntax, a number of thousands of digits, or
    nesting deeper than `JSON_DEPTH_MAX`.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(variant="not_utf8", byte=exc.start, **_subject(what)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            variant="not_json", reason=exc.msg, line=exc.lineno, column=exc.colno, **_subject(what)
        ) from None
    except ValueError:
        # Python refuses to read integers of more than 4,300 digits.
        raise ValidationFailed(variant="too_many_digits", **_subject(what)) from None
    except RecursionError:
        raise too_deep(what) from None
    if json_depth(data) > JSON_DEPTH_MAX:
        raise too_deep(what)
    return data


#: Values that nest nothing (exactly these types: a subclass takes the general way).
_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_depth(data: Any) -> int:
    """How deeply lists and objects nest in `data` (a scalar is 0), counted without recursion."""
    if type(data) is dict:  # the usual command: an object of scalars (and lists of them)
        deepest = 1
        for value in data.values():
            kind = type(value)
            if kind is list and all(type(item) in _SCALARS for item in value):
                deepest = 2
            elif kind not in _SCALARS:
                break
        else:
            return deepest
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if depth > JSON_DEPTH_MAX:
            return depth
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _subject(what: str) -> dict[str, str]:
    """The fields naming the text a message is about, in English and Chinese."""
    return {"what": what, "what_zh": subject_zh(what)}


def too_deep(what: str) -> LedgerError:
    """The `validation_error` for data nested more than `JSON_DEPTH_MAX` levels deep."""
    return ValidationFailed(variant="too_deep", depth_max=JSON_DEPTH_MAX, **_subject(what))


# -- fields -----------------------------------------------------------------------------------


def check_text(value: Any) -> str:
    """Text without the characters no field carries (see `_DECEPTIVE_CHARACTER`)."""
    if not isinstance(value, str):
        raise ValidationError(_NOT_TEXT)
    found = _DECEPTIVE_CHARACTER.search(value)
    if found:
        raise ValidationError(
            f"Must not contain the invisible or direction-changing character "
            f"U+{ord(found.group()):04X} (at {found.start() + 1})."
        )
    return value


class Text(fields.String):
    """A non-empty single-line text, stripped of surrounding space, without invisible or
    direction-changing characters."""

    def __init__(self, *, max_length: int = 200, **kwargs: Any):
        super().__init__(validate=validate.Length(min=1, max=max_length), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(check_text(value), attr, data, **kwargs).strip()
        if _CONTROL_CHARACTER.search(text):
            raise ValidationError("Must be a single line without control characters.")
        return text


class Reference(Text):
    """A caller-chosen reference: the idempotency key of a command."""

    def __init__(self, **kwargs: Any):
        super().__init__(max_length=100, **kwargs)


class WholeNumber(fields.Integer):
    """A strict JSON integer: never a bool, a float or a string; bounded by its range."""

    def __init__(self, low: int, high: int, **kwargs: Any):
        super().__init__(strict=True, validate=validate.Range(low, high), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


class Fen(WholeNumber):
    """An amount in fen: a strict integer (1 yuan = 100 fen), never a float or a string."""

    def __init__(self, *, signed: bool = False, allow_zero: bool = False, **kwargs: Any):
        low = -AMOUNT_FEN_MAX if signed else (0 if allow_zero else 1)
        super().__init__(low, AMOUNT_FEN_MAX, **kwargs)
        self.signed = signed

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        amount_fen = super()._deserialize(value, attr, data, **kwargs)
        if self.signed and amount_fen == 0:
            raise ValidationError("Must not be zero.")
        return amount_fen


class IsoDate(fields.Date):
    """A business date as exactly `YYYY-MM-DD` (Asia/Shanghai calendar day), 2000–2100.

    Stricter than `date.fromisoformat`, which also reads `20250203` and `2025-W05-1`.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if isinstance(value, datetime) or not isinstance(value, str | date):
            raise ValidationError("Not a valid date: give it as YYYY-MM-DD.")
        if isinstance(value, str):
            if not _ISO_DATE.fullmatch(value):
                raise ValidationError("Not a valid date: give it as YYYY-MM-DD.")
            try:
                value = date.fromisoformat(value)
            except ValueError:
                raise ValidationError("Not a valid date: no such day.") from None
        if not YEAR_MIN <= value.year <= YEAR_MAX:
            raise ValidationError(f"The year must be between {YEAR_MIN} and {YEAR_MAX}.")
        return value


class Identifier(fields.String):
    """A checked identifier; its failure is reported with its own stable code."""

    error_class: ClassVar[type[LedgerError]]

    @staticmethod
    def check(text: str) -> str:
        raise NotImplementedError

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        # Not text at all is a shape problem (validation_error), not a wrong identifier.
        if not isinstance(value, str):
            raise ValidationError(_NOT_TEXT)
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > IDENTIFIER_MAX_CHARS:
            raise ValidationError(f"Longer than {IDENTIFIER_MAX_CHARS} characters.")
        try:
            return type(self).check(text)
        except InvalidIdentifier as exc:
            raise ValidationError(str(exc)) from None


class Uscc(Identifier):
    error_class = InvalidUscc
    check = staticmethod(validate_uscc)


class PatentNo(Identifier):
    error_class = InvalidPatentNo
    check = staticmethod(validate_patent_no)


class TownCode(Identifier):
    error_class = InvalidTown
    check = staticmethod(validate_town_code)


class Collateral(Identifier):
    """A pledged patent application number, or a trademark registration number."""

    error_class = InvalidPatentNo

    @staticmethod
    def check(text: str) -> str:
        try:
            return validate_patent_no(text)
        except InvalidIdentifier:
            return validate_trademark_no(text)


def one_of(choices: tuple[str, ...]) -> fields.String:
    return fields.String(required=True, validate=validate.OneOf(choices))


FiscalYear = WholeNumber(YEAR_MIN, YEAR_MAX, required=True)
MeasureCode = fields.String(required=True, validate=validate.OneOf(MEASURE_CODES))


# -- what a schema found wrong ---------------------------------------------------------------


#: At most this many fields are named in an error.
_FIELDS_SHOWN = 20


def field_name(name: Any) -> str:
    """A field name as text (JSON names are text; a caller in Python may pass anything)."""
    return name if isinstance(name, str) else f"<{type(name).__name__}>"


def shown_value(value: Any) -> str:
    """A short, safe rendering of a value that a message names."""
    if isinstance(value, str):
        return repr(printable(value, 60))
    if value is None or isinstance(value, bool | float):
        return repr(value)
    return f"<a {type(value).__name__}, not text>"


def refusal_for(schema: Schema, exc: ValidationError) -> LedgerError:
    """The `LedgerError` for what a schema found wrong: an identifier's own code, if only
    identifiers are wrong, else `validation_error`; the fields and their messages as details."""
    raw = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    names = sorted(raw, key=str)
    messages = {printable(str(name), 60): raw[name] for name in names[:_FIELDS_SHOWN]}
    more = len(names) - len(messages)
    summary = "; ".join(f"{name}: {_flatten(msgs)}" for name, msgs in messages.items())
    if more:
        summary += f"; and {more} more fields"
    identifier_classes = {
        type(schema.fields[name]).error_class
        if isinstance(schema.fields.get(name), Identifier) and _NOT_TEXT not in str(raw[name])
        else _list_identifier_class(schema.fields.get(name), raw[name])
        for name in names
    }
    if len(identifier_classes) == 1 and None not in identifier_classes:
        (error_class,) = identifier_classes
        return error_class(summary=summary, fields=messages)
    return ValidationFailed(summary=summary, fields=messages)


def _list_identifier_class(field: fields.Field | None, messages: Any) -> type[LedgerError] | None:
    if (
        isinstance(field, fields.List)
        and isinstance(field.inner, Identifier)
        and isinstance(messages, dict)  # the list itself was fine, some of its items not
        and _NOT_TEXT not in str(messages)
    ):
        return type(field.inner).error_class
    return None


def _flatten(messages: Any) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in messages.items())
    if isinstance(messages, list):
        return " ".join(_flatten(m) for m in messages)
    return printable(str(messages), 200)
