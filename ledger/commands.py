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
from datetime import date
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
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


# -- fields -----------------------------------------------------------------------------------


class Text(fields.String):
    """A non-empty single-line text, stripped of surrounding space."""

    def __init__(self, *, max_length: int = 200, **kwargs: Any):
        super().__init__(validate=validate.Length(min=1, max=max_length), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if _CONTROL_CHARACTER.search(text):
            raise ValidationError("Must be a single line without control characters.")
        return text


class Reference(Text):
    """A caller-chosen reference: the idempotency key of a command."""

    def __init__(self, **kwargs: Any):
        super().__init__(max_length=100, **kwargs)


class Fen(fields.Integer):
    """An amount in fen: a strict integer (1 yuan = 100 fen), never a float or a string."""

    def __init__(self, *, signed: bool = False, allow_zero: bool = False, **kwargs: Any):
        low = -AMOUNT_FEN_MAX if signed else (0 if allow_zero else 1)
        super().__init__(strict=True, validate=validate.Range(low, AMOUNT_FEN_MAX), **kwargs)
        self.signed = signed

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        amount_fen = super()._deserialize(value, attr, data, **kwargs)
        if self.signed and amount_fen == 0:
            raise ValidationError("Must not be zero.")
        return amount_fen


class IsoDate(fields.Date):
    """A business date as ISO `YYYY-MM-DD` (Asia/Shanghai calendar day)."""

    def __init__(self, **kwargs: Any):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str | date):
            raise ValidationError("Not a valid date.")
        if isinstance(value, date):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class Identifier(fields.String):
    """A checked identifier; its failure is reported with its own stable code."""

    error_class: ClassVar[type[LedgerError]]

    @staticmethod
    def check(text: str) -> str:
        raise NotImplementedError

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
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


FiscalYear = fields.Integer(strict=True, required=True, validate=validate.Range(2000, 2100))
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
    annual_rate_bp = fields.Integer(strict=True, required=True, validate=validate.Range(0, 10000))
    term_months = fields.Integer(strict=True, required=True, validate=validate.Range(1, 600))
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
    `invalid_town`) is reported.
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            "a command must be a JSON object", message_zh="命令必须是 JSON 对象", fields={}
        )
    command_type = data.get("type")
    if command_type not in SCHEMAS:
        raise ValidationFailed(
            f"unknown command type {command_type!r}; expected one of {', '.join(SCHEMAS)}",
            message_zh=f"未知命令类型 {command_type!r}",
            fields={"type": ["Unknown command type."]},
        )
    schema = _SCHEMA_INSTANCES[command_type]
    try:
        loaded = schema.load(dict(data))
    except ValidationError as exc:
        raise _error_for(schema, exc) from None
    del loaded["type"]
    return Command(type=command_type, fields=loaded)


def _error_for(schema: CommandSchema, exc: ValidationError) -> LedgerError:
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    summary = "; ".join(f"{name}: {_flatten(msgs)}" for name, msgs in sorted(messages.items()))
    identifier_classes = {
        type(schema.fields[name]).error_class
        if isinstance(schema.fields.get(name), Identifier)
        else _list_identifier_class(schema.fields.get(name))
        for name in messages
    }
    if len(identifier_classes) == 1 and None not in identifier_classes:
        (error_class,) = identifier_classes
        return error_class(summary, message_zh=f"{error_class.title_zh}：{summary}", fields=messages)
    return ValidationFailed(summary, message_zh=f"输入无效：{summary}", fields=messages)


def _list_identifier_class(field: fields.Field | None) -> type[LedgerError] | None:
    if isinstance(field, fields.List) and isinstance(field.inner, Identifier):
        return type(field.inner).error_class
    return None


def _flatten(messages: Any) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in messages.items())
    if isinstance(messages, list):
        return " ".join(_flatten(m) for m in messages)
    return str(messages)
