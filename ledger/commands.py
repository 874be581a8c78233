"""The command vocabulary of DESIGN §4: one frozen dataclass per command type.

Each command class says, once, what it is: its `type` string, the role it needs, the fields of
its idempotency key, the aggregates it names (for preloading) and the command whose receipt it
refers to (a disbursement's approval refers to the disbursement). Its marshmallow schema builds
it (`post_load`). The CLI, the importer and the JSON API all parse commands here, so every
client gets the same answer for the same input: unknown fields are refused, amounts are strict
integers in fen, dates are ISO `YYYY-MM-DD`, identifiers are checked.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from datetime import date
from functools import cached_property
from typing import Any, ClassVar
from uuid import UUID

from marshmallow import ValidationError

from ledger import command_schemas as schemas
from ledger.command_fields import (
    JSON_DEPTH_MAX,
    MEASURE_CODES,
    check_text,
    field_name,
    json_depth,
    load_json,
    refusal_for,
    shown_value,
    too_deep,
)
from ledger.command_schemas import CommandSchema
from ledger.domain import Award, CommandReceipt, Enterprise, Financing, PatentTransfer
from ledger.errors import ValidationFailed

__all__ = [
    "COMMAND_CLASSES", "COMMAND_TYPES", "MEASURE_CODES", "SCHEMAS", "Command", "check_text",
    "load_json", "parse_command",
]  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True)
class Command:
    """A parsed, valid command: its fields as attributes, its type and key on its class."""

    #: The command type every client sends as `type` (the one place it is written).
    type: ClassVar[str]
    #: The role an actor must hold to perform the command.
    role: ClassVar[str] = "officer"
    #: The fields whose values form the idempotency key, after the command type.
    key_fields: ClassVar[tuple[str, ...]] = ("reference",)
    #: The aggregates the command names, loaded ahead in a batch: (aggregate class, field).
    names: ClassVar[tuple[tuple[type, str], ...]] = ()
    #: The command whose receipt this one refers to, and the field that holds its key.
    parent: ClassVar[tuple[type[Command], str] | None] = None
    #: The schema that parses and checks it.
    schema: ClassVar[type[CommandSchema]]

    def __init_subclass__(cls, schema: type[CommandSchema] | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if schema is not None:
            cls.schema = schema
            schema.command_class = cls
            schema.role = cls.role

    @property
    def fields(self) -> dict[str, Any]:
        """The command's fields by name (without its type)."""
        return {name: getattr(self, name) for name in _field_names(type(self))}

    @cached_property
    def key(self) -> str:
        """The idempotency key after the type: e.g. the reference, or reference + outcome."""
        return "\x1f".join(str(getattr(self, name)) for name in self.key_fields)

    def receipt_id(self) -> UUID:
        return CommandReceipt.create_id(self.type, self.key)

    def named_ids(self) -> list[UUID]:
        """The ids of the aggregates this command names (those it refers to by a field)."""
        values = ((cls, getattr(self, name)) for cls, name in self.names)
        return [cls.create_id(value) for cls, value in values if value is not None]

    def parent_receipt_id(self) -> UUID | None:
        """The receipt of the command this one refers to (say, the disbursement approved)."""
        if self.parent is None:
            return None
        parent_class, name = self.parent
        return CommandReceipt.create_id(parent_class.type, getattr(self, name))

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

    def to_dict(self) -> dict[str, Any]:
        """The command as a client sends it: its type and its content."""
        return {"type": self.type, **self._content}

    @cached_property
    def _content_sha256(self) -> str:
        canonical = json.dumps(self._content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def content_sha256(self) -> str:
        """The SHA-256 of the command's canonical JSON content."""
        return self._content_sha256

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]


@functools.cache
def _field_names(command_class: type[Command]) -> tuple[str, ...]:
    """The names of a command class's fields, in order (looked up once per class)."""
    return tuple(f.name for f in dataclasses.fields(command_class))


# -- enterprises and budgets ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class RegisterEnterprise(Command, schema=schemas.RegisterEnterpriseSchema):
    type = "register_enterprise"
    key_fields = ("uscc",)
    names = ((Enterprise, "uscc"),)
    uscc: str
    name: str
    town_code: str
    industry: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class UpdateEnterprise(Command, schema=schemas.UpdateEnterpriseSchema):
    type = "update_enterprise"
    names = ((Enterprise, "uscc"),)
    reference: str
    uscc: str
    name: str
    town_code: str
    industry: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AppropriateBudget(Command, schema=schemas.AppropriateBudgetSchema):
    type = "appropriate_budget"
    reference: str
    measure: str
    fiscal_year: int
    amount_fen: int
    decision_ref: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AdjustBudget(Command, schema=schemas.AdjustBudgetSchema):
    type = "adjust_budget"
    reference: str
    measure: str
    fiscal_year: int
    delta_fen: int
    decision_ref: str
    reason: str


# -- awards and their payments ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class GrantAward(Command, schema=schemas.GrantAwardSchema):
    type = "grant_award"
    names = ((Enterprise, "uscc"), (Financing, "financing_reference"))
    reference: str
    uscc: str
    measure: str
    item: str
    fiscal_year: int
    amount_fen: int
    decision_ref: str
    granted_on: date
    basis: str | None = None
    financing_reference: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordDisbursement(Command, schema=schemas.RecordDisbursementSchema):
    type = "record_disbursement"
    names = ((Award, "award_reference"),)
    reference: str
    award_reference: str
    amount_fen: int
    voucher_no: str
    paid_on: date


@dataclasses.dataclass(frozen=True, kw_only=True)
class ApproveDisbursement(Command, schema=schemas.ApproveDisbursementSchema):
    type = "approve_disbursement"
    role = "approver"
    parent = (RecordDisbursement, "reference")
    reference: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class RejectDisbursement(Command, schema=schemas.RejectDisbursementSchema):
    type = "reject_disbursement"
    role = "approver"
    parent = (RecordDisbursement, "reference")
    reference: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReverseDisbursement(Command, schema=schemas.ReverseDisbursementSchema):
    type = "reverse_disbursement"
    parent = (RecordDisbursement, "reference")
    reference: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class RevokeAward(Command, schema=schemas.RevokeAwardSchema):
    type = "revoke_award"
    key_fields = ("award_reference",)
    names = ((Award, "award_reference"),)
    award_reference: str
    decision_ref: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class OrderClawback(Command, schema=schemas.OrderClawbackSchema):
    type = "order_clawback"
    names = ((Award, "award_reference"),)
    reference: str
    award_reference: str
    amount_fen: int
    decision_ref: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordClawbackRecovery(Command, schema=schemas.RecordClawbackRecoverySchema):
    type = "record_clawback_recovery"
    parent = (OrderClawback, "clawback_reference")
    reference: str
    clawback_reference: str
    amount_fen: int
    voucher_no: str
    recovered_on: date


# -- patent transfers and financings ----------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordPatentTransfer(Command, schema=schemas.RecordPatentTransferSchema):
    type = "record_patent_transfer"
    names = ((Enterprise, "uscc"),)
    reference: str
    patent_no: str
    transferor_name: str
    transferor_kind: str
    transferor_uscc: str | None = None
    uscc: str
    mode: str
    contract_value_fen: int
    signed_on: date


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordTransferOutcome(Command, schema=schemas.RecordTransferOutcomeSchema):
    type = "record_transfer_outcome"
    names = ((PatentTransfer, "reference"),)
    reference: str
    outcome: str
    on: date
    amount_fen: int | None = None

    @property
    def key_fields(self) -> tuple[str, ...]:  # type: ignore[override]
        """Revenue may be reported once per date; every other outcome once."""
        if self.outcome == "revenue_reported":
            return ("reference", "outcome", "on")
        return ("reference", "outcome")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RegisterFinancing(Command, schema=schemas.RegisterFinancingSchema):
    type = "register_financing"
    names = ((Enterprise, "uscc"),)
    reference: str
    uscc: str
    instrument: str
    lender: str
    principal_fen: int
    annual_rate_bp: int
    term_months: int
    collateral: list[str]
    registered_on: date


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordFinancingEvent(Command, schema=schemas.RecordFinancingEventSchema):
    type = "record_financing_event"
    key_fields = ("reference", "event", "on")
    names = ((Financing, "reference"),)
    reference: str
    event: str
    on: date
    amount_fen: int


# -- the vocabulary ---------------------------------------------------------------------------

#: Every command class, in DESIGN §4's order (plus `update_enterprise`).
COMMAND_CLASSES: tuple[type[Command], ...] = (
    RegisterEnterprise, UpdateEnterprise, AppropriateBudget, AdjustBudget, GrantAward,
    RecordDisbursement, ApproveDisbursement, RejectDisbursement, ReverseDisbursement,
    RevokeAward, OrderClawback, RecordClawbackRecovery, RecordPatentTransfer,
    RecordTransferOutcome, RegisterFinancing, RecordFinancingEvent,
)  # fmt: skip
#: Every command class by the `type` it carries.
COMMANDS: dict[str, type[Command]] = {cls.type: cls for cls in COMMAND_CLASSES}
#: Every command schema by the `type` it carries (the API documents these).
SCHEMAS: dict[str, type[CommandSchema]] = {cls.type: cls.schema for cls in COMMAND_CLASSES}
COMMAND_TYPES = tuple(COMMANDS)
_SCHEMA_INSTANCES = {name: cls() for name, cls in SCHEMAS.items()}


def parse_command(data: Any) -> Command:
    """Parse and check one command (an object, or a command built in Python); raise the
    `LedgerError` its first problem calls for.

    A shape problem is `validation_error` (with the fields and their messages); when only
    identifiers are wrong, the identifier's own code (`invalid_uscc`, `invalid_patent_no`,
    `invalid_town`) is reported. Any value at all gives a command or a `LedgerError`, never
    another exception. A command built in Python is checked like any other (its constructor
    checks nothing), and comes back with its identifiers in their canonical form.
    """
    if isinstance(data, Command):
        data = data.to_dict()
    if not isinstance(data, Mapping):
        raise ValidationFailed(variant="not_object", fields={})
    if json_depth(data) > JSON_DEPTH_MAX:
        raise too_deep("the command")
    command_type = data.get("type")
    if not isinstance(command_type, str) or command_type not in SCHEMAS:
        raise ValidationFailed(
            variant="unknown_type",
            shown=shown_value(command_type),
            expected=", ".join(SCHEMAS),
            fields={"type": ["Unknown command type."]},
        )
    schema = _SCHEMA_INSTANCES[command_type]
    try:
        return schema.load({field_name(name): value for name, value in data.items()})
    except ValidationError as exc:
        refusal = refusal_for(schema, exc)
        # marshmallow's error, its traceback's frames and their locals form a reference cycle
        # (freed only by a full collection): broken here, for a bulk import of many bad rows.
        exc.__traceback__ = None
        raise refusal from None
