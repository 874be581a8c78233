"""The marshmallow schemas of the command vocabulary: one per command type.

Each schema checks a command's fields and loads them into its command class
(`ledger.commands`, which binds the two); unknown fields are refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from ledger.command_fields import (
    Collateral,
    Fen,
    FiscalYear,
    IsoDate,
    MeasureCode,
    PatentNo,
    Reference,
    Text,
    TownCode,
    Uscc,
    WholeNumber,
    one_of,
)
from ledger.domain.financing import FINANCING_EVENTS, INSTRUMENTS
from ledger.domain.transfer import MODES, OUTCOMES, TRANSFEROR_KINDS

if TYPE_CHECKING:
    from ledger.commands import Command


class CommandSchema(Schema):
    """The fields every command shares: its `type`. Unknown fields are refused.

    A schema loads into its command class (`command_class`); `role` is that class's, for the
    API's documentation.
    """

    class Meta:
        unknown = RAISE

    command_class: ClassVar[type[Command]]
    role: ClassVar[str]

    type = fields.String(required=True)

    @post_load
    def _build(self, data: dict[str, Any], **kwargs: Any) -> Command:
        del data["type"]
        return self.command_class(**data)


class RegisterEnterpriseSchema(CommandSchema):
    uscc = Uscc(required=True)
    name = Text(required=True)
    town_code = TownCode(required=True)
    industry = Text(required=True, max_length=100)


class UpdateEnterpriseSchema(CommandSchema):
    reference = Reference(required=True)
    uscc = Uscc(required=True)
    name = Text(required=True)
    town_code = TownCode(required=True)
    industry = Text(required=True, max_length=100)


class AppropriateBudgetSchema(CommandSchema):
    reference = Reference(required=True)
    measure = MeasureCode
    fiscal_year = FiscalYear
    amount_fen = Fen(required=True)
    decision_ref = Text(required=True)


class AdjustBudgetSchema(CommandSchema):
    reference = Reference(required=True)
    measure = MeasureCode
    fiscal_year = FiscalYear
    delta_fen = Fen(required=True, signed=True)
    decision_ref = Text(required=True)
    reason = Text(required=True, max_length=500)


class GrantAwardSchema(CommandSchema):
    reference = Reference(required=True)
    uscc = Uscc(required=True)
    measure = MeasureCode
    item = Text(required=True, max_length=80)
    fiscal_year = FiscalYear
    amount_fen = Fen(required=True)
    decision_ref = Text(required=True)
    granted_on = IsoDate(required=True)
    basis = Text(load_default=None, allow_none=True, max_length=200)
    financing_reference = Reference(load_default=None, allow_none=True)


class RecordDisbursementSchema(CommandSchema):
    reference = Reference(required=True)
    award_reference = Reference(required=True)
    amount_fen = Fen(required=True)
    voucher_no = Text(required=True, max_length=80)
    paid_on = IsoDate(required=True)


class ApproveDisbursementSchema(CommandSchema):
    reference = Reference(required=True)


class RejectDisbursementSchema(CommandSchema):
    reference = Reference(required=True)
    reason = Text(required=True, max_length=500)


class ReverseDisbursementSchema(CommandSchema):
    reference = Reference(required=True)
    reason = Text(required=True, max_length=500)


class RevokeAwardSchema(CommandSchema):
    award_reference = Reference(required=True)
    decision_ref = Text(required=True)
    reason = Text(required=True, max_length=500)


class OrderClawbackSchema(CommandSchema):
    reference = Reference(required=True)
    award_reference = Reference(required=True)
    amount_fen = Fen(required=True)
    decision_ref = Text(required=True)
    reason = Text(required=True, max_length=500)


class RecordClawbackRecoverySchema(CommandSchema):
    reference = Reference(required=True)
    clawback_reference = Reference(required=True)
    amount_fen = Fen(required=True)
    voucher_no = Text(required=True, max_length=80)
    recovered_on = IsoDate(required=True)


class RecordPatentTransferSchema(CommandSchema):
    reference = Reference(required=True)
    patent_no = PatentNo(required=True)
    transferor_name = Text(required=True)
    transferor_kind = one_of(TRANSFEROR_KINDS)
    transferor_uscc = Uscc(load_default=None, allow_none=True)
    uscc = Uscc(required=True)
    mode = one_of(MODES)
    contract_value_fen = Fen(required=True, allow_zero=True)
    signed_on = IsoDate(required=True)


class RecordTransferOutcomeSchema(CommandSchema):
    """An outcome of a transfer. Revenue may be reported once per date, the rest once."""

    reference = Reference(required=True)
    outcome = one_of(OUTCOMES)
    on = IsoDate(required=True)
    amount_fen = Fen(load_default=None, allow_none=True, allow_zero=True)

    @validates_schema
    def _amount_only_for_revenue(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("outcome") == "revenue_reported" and data.get("amount_fen") is None:
            raise ValidationError("Revenue needs an amount.", "amount_fen")
        if data.get("outcome") != "revenue_reported" and data.get("amount_fen") is not None:
            raise ValidationError("Only revenue_reported carries an amount.", "amount_fen")


class RegisterFinancingSchema(CommandSchema):
    reference = Reference(required=True)
    uscc = Uscc(required=True)
    instrument = one_of(INSTRUMENTS)
    lender = Text(required=True)
    principal_fen = Fen(required=True)
    annual_rate_bp = WholeNumber(0, 10000, required=True)
    term_months = WholeNumber(1, 600, required=True)
    collateral = fields.List(Collateral(), required=True, validate=validate.Length(min=1, max=100))
    registered_on = IsoDate(required=True)


class RecordFinancingEventSchema(CommandSchema):
    reference = Reference(required=True)
    event = one_of(FINANCING_EVENTS)
    on = IsoDate(required=True)
    amount_fen = Fen(required=True, allow_zero=True)
