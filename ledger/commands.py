"""The command vocabulary of DESIGN §4: one marshmallow schema per command type.

The CLI, the importer and the JSON API all parse commands here, so every client gets the same
answer for the same input: unknown fields are refused, amounts are strict integers in fen,
dates are ISO `YYYY-MM-DD`, identifiers are checked (credit codes, patent numbers, towns).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ledger.domain.financing import FINANCING_EVENTS, INSTRUMENTS
from ledger.domain.transfer import MODES, OUTCOMES, TRANSFEROR_KINDS
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
            raise _invalid(
                f"{what} is not valid UTF-8 (byte {exc.start})",
                f"{_zh(what)}不是有效的 UTF-8 编码（第 {exc.start} 字节）",
            ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _invalid(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            f"{_zh(what)}不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列（{exc.msg}）",
        ) from None
    except ValueError:
        # Python refuses to read integers of more than 4,300 digits.
        raise _invalid(
            f"{what} holds a number with too many digits", f"{_zh(what)}中的数字位数过多"
        ) from None
    except RecursionError:
        raise _too_deep(what) from None
    if json_depth(data) > JSON_DEPTH_MAX:
        raise _too_deep(what)
    return data


def json_depth(data: Any) -> int:
    """How deeply lists and objects nest in `data` (a scalar is 0), counted without recursion."""
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


def _zh(what: str) -> str:
    return {"the input": "输入", "the body": "请求正文", "the line": "此行", "the command": "命令"}.get(what, what)


def _invalid(message_en: str, message_zh: str) -> LedgerError:
    return ValidationFailed(message_en, message_zh=f"输入无效：{message_zh}")


def _too_deep(what: str) -> LedgerError:
    return _invalid(
        f"{what} nests lists or objects more than {JSON_DEPTH_MAX} levels deep",
        f"{_zh(what)}的列表或对象嵌套超过 {JSON_DEPTH_MAX} 层",
    )


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


def _one_of(choices: tuple[str, ...]) -> fields.String:
    return fields.String(required=True, validate=validate.OneOf(choices))


FiscalYear = WholeNumber(YEAR_MIN, YEAR_MAX, required=True)
Measure = fields.String(required=True, validate=validate.OneOf(MEASURE_CODES))


# -- schemas ----------------------------------------------------------------------------------


class CommandSchema(Schema):
    """The fields every command shares: its `type`. Unknown fields are refused."""

    class Meta:
        unknown = RAISE

    #: The role an actor must hold to perform the command.
    role: ClassVar[str] = "officer"
    #: The fields whose values form the idempotency key, after the command type.
    key_fields: ClassVar[tuple[str, ...]] = ("reference",)

    type = fields.String(required=True)


class RegisterEnterprise(CommandSchema):
    key_fields = ("uscc",)
    uscc = Uscc(required=True)
    name = Text(required=True)
    town_code = TownCode(required=True)
    industry = Text(required=True, max_length=100)


class UpdateEnterprise(CommandSchema):
    reference = Reference(required=True)
    uscc = Uscc(required=True)
    name = Text(required=True)
    town_code = TownCode(required=True)
    industry = Text(required=True, max_length=100)


class AppropriateBudget(CommandSchema):
    reference = Reference(required=True)
    measure = Measure
    fiscal_year = FiscalYear
    amount_fen = Fen(required=True)
    decision_ref = Text(required=True)


class AdjustBudget(CommandSchema):
    reference = Reference(required=True)
    measure = Measure
    fiscal_year = FiscalYear
    delta_fen = Fen(required=True, signed=True)
    decision_ref = Text(required=True)
    reason = Text(required=True, max_length=500)


class GrantAward(CommandSchema):
    reference = Reference(required=True)
    uscc = Uscc(required=True)
    measure = Measure
    item = Text(required=True, max_length=80)
    fiscal_year = FiscalYear
    amount_fen = Fen(required=True)
    decision_ref = Text(required=True)
    granted_on = IsoDate(required=True)
    basis = Text(load_default=None, allow_none=True, max_length=200)
    financing_reference = Reference(load_default=None, allow_none=True)


class RecordDisbursement(CommandSchema):
    reference = Reference(required=True)
    award_reference = Reference(required=True)
    amount_fen = Fen(required=True)
    voucher_no = Text(required=True, max_length=80)
    paid_on = IsoDate(required=True)


class ApproveDisbursement(CommandSchema):
    role = "approver"
    reference = Reference(required=True)


class RejectDisbursement(CommandSchema):
    role = "approver"
    reference = Reference(required=True)
    reason = Text(required=True, max_length=500)


class ReverseDisbursement(CommandSchema):
    reference = Reference(required=True)
    reason = Text(required=True, max_length=500)


class RevokeAward(CommandSchema):
    key_fields = ("award_reference",)
    award_reference = Reference(required=True)
    decision_ref = Text(required=True)
    reason = Text(required=True, max_length=500)


class OrderClawback(CommandSchema):
    reference = Reference(required=True)
    award_reference = Reference(required=True)
    amount_fen = Fen(required=True)
    decision_ref = Text(required=True)
    reason = Text(required=True, max_length=500)


class RecordClawbackRecovery(CommandSchema):
    reference = Reference(required=True)
    clawback_reference = Reference(required=True)
    amount_fen = Fen(required=True)
    voucher_no = Text(required=True, max_length=80)
    recovered_on = IsoDate(required=True)


class RecordPatentTransfer(CommandSchema):
    reference = Reference(required=True)
    patent_no = PatentNo(required=True)
    transferor_name = Text(required=True)
    transferor_kind = _one_of(TRANSFEROR_KINDS)
    transferor_uscc = Uscc(load_default=None, allow_none=True)
    uscc = Uscc(required=True)
    mode = _one_of(MODES)
    contract_value_fen = Fen(required=True, allow_zero=True)
    signed_on = IsoDate(required=True)


class RecordTransferOutcome(CommandSchema):
    """An outcome of a transfer. Revenue may be reported once per date, the rest once."""

    key_fields = ("reference", "outcome")
    reference = Reference(required=True)
    outcome = _one_of(OUTCOMES)
    on = IsoDate(required=True)
    amount_fen = Fen(load_default=None, allow_none=True, allow_zero=True)

    @validates_schema
    def _amount_only_for_revenue(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("outcome") == "revenue_reported" and data.get("amount_fen") is None:
            raise ValidationError("Revenue needs an amount.", "amount_fen")
        if data.get("outcome") != "revenue_reported" and data.get("amount_fen") is not None:
            raise ValidationError("Only revenue_reported carries an amount.", "amount_fen")


class RegisterFinancing(CommandSchema):
    reference = Reference(required=True)
    uscc = Uscc(required=True)
    instrument = _one_of(INSTRUMENTS)
    lender = Text(required=True)
    principal_fen = Fen(required=True)
    annual_rate_bp = WholeNumber(0, 10000, required=True)
    term_months = WholeNumber(1, 600, required=True)
    collateral = fields.List(
        Collateral(), required=True, validate=validate.Length(min=1, max=100)
    )
    registered_on = IsoDate(required=True)


class RecordFinancingEvent(CommandSchema):
    key_fields = ("reference", "event", "on")
    reference = Reference(required=True)
    event = _one_of(FINANCING_EVENTS)
    on = IsoDate(required=True)
    amount_fen = Fen(required=True, allow_zero=True)


#: Every command type, by the `type` it carries (DESIGN §4 plus `update_enterprise`).
SCHEMAS: dict[str, type[CommandSchema]] = {
    "register_enterprise": RegisterEnterprise,
    "update_enterprise": UpdateEnterprise,
    "appropriate_budget": AppropriateBudget,
    "adjust_budget": AdjustBudget,
    "grant_award": GrantAward,
    "record_disbursement": RecordDisbursement,
    "approve_disbursement": ApproveDisbursement,
    "reject_disbursement": RejectDisbursement,
    "reverse_disbursement": ReverseDisbursement,
    "revoke_award": RevokeAward,
    "order_clawback": OrderClawback,
    "record_clawback_recovery": RecordClawbackRecovery,
    "record_patent_transfer": RecordPatentTransfer,
    "record_transfer_outcome": RecordTransferOutcome,
    "register_financing": RegisterFinancing,
    "record_financing_event": RecordFinancingEvent,
}
COMMAND_TYPES = tuple(SCHEMAS)
_SCHEMA_INSTANCES = {name: cls() for name, cls in SCHEMAS.items()}


@dataclass(frozen=True)
class Command:
    """A parsed, valid command: its type, its fields and its idempotency key."""

    type: str
    fields: Mapping[str, Any]

    @property
    def schema(self) -> type[CommandSchema]:
        return SCHEMAS[self.type]

    @property
    def role(self) -> str:
        return self.schema.role

    @cached_property
    def key(self) -> str:
        """The idempotency key after the type: e.g. the reference, or reference + outcome."""
        key_fields = self.schema.key_fields
        if self.type == "record_transfer_outcome" and self.fields["outcome"] == "revenue_reported":
            key_fields = (*key_fields, "on")
        return "\x1f".join(str(self.fields[name]) for name in key_fields)

    @cached_property
    def _content(self) -> dict[str, Any]:
        # The parsed fields are str, int, bool, None, date or lists of str: dates become ISO text.
        return {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in self.fields.items()
        }

    def content(self) -> dict[str, Any]:
        """The command as JSON-ready data: what a repeat of it is compared with."""
        return dict(self._content)

    @cached_property
    def _content_sha256(self) -> str:
        canonical = json.dumps(self._content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def content_sha256(self) -> str:
        """The SHA-256 of the command's canonical JSON content."""
        return self._content_sha256

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]


def parse_command(data: Any) -> Command:
    """Parse and check one command object; raise the `LedgerError` its first problem calls for.

    A shape problem is `validation_error` (with the fields and their messages); when only
    identifiers are wrong, the identifier's own code (`invalid_uscc`, `invalid_patent_no`,
    `invalid_town`) is reported. Any value at all gives a command or a `LedgerError`, never
    another exception.
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            "a command must be a JSON object", message_zh="命令必须是 JSON 对象", fields={}
        )
    if json_depth(data) > JSON_DEPTH_MAX:
        raise _too_deep("the command")
    command_type = data.get("type")
    if not isinstance(command_type, str) or command_type not in SCHEMAS:
        shown = _shown_value(command_type)
        raise ValidationFailed(
            f"unknown command type {shown}; expected one of {', '.join(SCHEMAS)}",
            message_zh=f"未知命令类型 {shown}",
            fields={"type": ["Unknown command type."]},
        )
    schema = _SCHEMA_INSTANCES[command_type]
    try:
        loaded = schema.load({_field_name(name): value for name, value in data.items()})
    except ValidationError as exc:
        raise _error_for(schema, exc) from None
    del loaded["type"]
    return Command(type=command_type, fields=loaded)


#: At most this many fields are named in an error.
_FIELDS_SHOWN = 20


def _field_name(name: Any) -> str:
    """A field name as text (JSON names are text; a caller in Python may pass anything)."""
    return name if isinstance(name, str) else f"<{type(name).__name__}>"


def _shown_value(value: Any) -> str:
    """A short, safe rendering of a value that a message names."""
    if isinstance(value, str):
        return repr(printable(value, 60))
    if value is None or isinstance(value, bool | float):
        return repr(value)
    return f"<a {type(value).__name__}, not text>"


def _error_for(schema: CommandSchema, exc: ValidationError) -> LedgerError:
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
        return error_class(summary, message_zh=f"{error_class.title_zh}：{summary}", fields=messages)
    return ValidationFailed(summary, message_zh=f"输入无效：{summary}", fields=messages)


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
