"""One handler per command class: check every rule (in DESIGN §4's order), then record.

A handler reads through the unit of work, raises the `LedgerError` of the first rule the
command breaks before anything is triggered, and otherwise triggers the command's events on
the aggregates it changes. The receipt and the saving are the unit of work's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ledger import commands as c
from ledger.domain import (
    Award,
    Budget,
    CommandReceipt,
    Enterprise,
    Financing,
    Measure,
    PatentTransfer,
)
from ledger.errors import (
    AboveItemMaximum,
    LedgerError,
    NoBudget,
    UnknownAward,
    UnknownDisbursement,
    UnknownEnterprise,
    UnknownFinancing,
    UnknownMeasure,
    UnknownTransfer,
)

if TYPE_CHECKING:
    from ledger.unit_of_work import UnitOfWork

A = TypeVar("A")
C = TypeVar("C", bound=c.Command)

Handler = Callable[["UnitOfWork", Any, str], None]
#: The handler of every command class.
HANDLERS: dict[type[c.Command], Handler] = {}


def handles(command_class: type[C]) -> Callable[[Callable[[UnitOfWork, C, str], None]], Handler]:
    def register(handler: Callable[[UnitOfWork, C, str], None]) -> Handler:
        HANDLERS[command_class] = handler
        return handler

    return register


# -- lookups that raise the ledger's own errors ---------------------------------------------

#: What an aggregate that is not there is refused with, and the field its message names.
_MISSING: dict[type, tuple[type[LedgerError], str]] = {
    Enterprise: (UnknownEnterprise, "uscc"),
    Measure: (UnknownMeasure, "measure"),
    Award: (UnknownAward, "reference"),
    PatentTransfer: (UnknownTransfer, "reference"),
    Financing: (UnknownFinancing, "reference"),
}


def require(uow: UnitOfWork, cls: type[A], name: str) -> A:
    """The aggregate of this class with this name (credit code, code or reference), or the
    aggregate's own "unknown" error."""
    found = uow.get(cls, cls.create_id(name))  # type: ignore[attr-defined]
    if found is None:
        error_class, field = _MISSING[cls]
        raise error_class(**{field: name})
    return found


def _budget(uow: UnitOfWork, measure: str, fiscal_year: int) -> Budget:
    require(uow, Measure, measure)
    budget = uow.get(Budget, Budget.create_id(measure, fiscal_year))
    if budget is None:
        raise NoBudget(measure=measure, fiscal_year=fiscal_year)
    return budget


def _parent_award(uow: UnitOfWork, cmd: c.Command, error: LedgerError) -> Award:
    """The award of the disbursement or clawback (another command's receipt) `cmd` names."""
    receipt_id = cmd.parent_receipt_id()
    receipt = None if receipt_id is None else uow.get(CommandReceipt, receipt_id)
    if receipt is None:
        raise error
    return require(uow, Award, receipt.content["award_reference"])


# -- enterprises and budgets ---------------------------------------------------------------


@handles(c.RegisterEnterprise)
def register_enterprise(uow: UnitOfWork, cmd: c.RegisterEnterprise, actor: str) -> None:
    uow.add(Enterprise(**cmd.fields, actor=actor))


@handles(c.UpdateEnterprise)
def update_enterprise(uow: UnitOfWork, cmd: c.UpdateEnterprise, actor: str) -> None:
    enterprise = require(uow, Enterprise, cmd.uscc)
    enterprise.update(
        reference=cmd.reference,
        name=cmd.name,
        town_code=cmd.town_code,
        industry=cmd.industry,
        actor=actor,
    )


@handles(c.AppropriateBudget)
def appropriate_budget(uow: UnitOfWork, cmd: c.AppropriateBudget, actor: str) -> None:
    require(uow, Measure, cmd.measure)
    budget = uow.get(Budget, Budget.create_id(cmd.measure, cmd.fiscal_year))
    if budget is None:
        budget = Budget(measure=cmd.measure, fiscal_year=cmd.fiscal_year, actor=actor)
        uow.add(budget)
    budget.appropriate(cmd.reference, cmd.amount_fen, cmd.decision_ref, actor=actor)


@handles(c.AdjustBudget)
def adjust_budget(uow: UnitOfWork, cmd: c.AdjustBudget, actor: str) -> None:
    budget = _budget(uow, cmd.measure, cmd.fiscal_year)
    budget.adjust(cmd.reference, cmd.delta_fen, cmd.decision_ref, cmd.reason, actor=actor)


# -- awards and their payments -------------------------------------------------------------


@handles(c.GrantAward)
def grant_award(uow: UnitOfWork, cmd: c.GrantAward, actor: str) -> None:
    enterprise = require(uow, Enterprise, cmd.uscc)
    item = require(uow, Measure, cmd.measure).item(cmd.item)
    if cmd.financing_reference is not None:
        require(uow, Financing, cmd.financing_reference)
    budget = _budget(uow, cmd.measure, cmd.fiscal_year)
    if item["max_fen"] is not None and cmd.amount_fen > item["max_fen"]:
        raise AboveItemMaximum(
            amount_fen=cmd.amount_fen, max_fen=item["max_fen"], measure=cmd.measure, item=cmd.item
        )
    counts = bool(item["counts_towards_cap"])
    cap_fen = uow.app.catalogue.annual_cap_fen
    if counts:
        enterprise.check_cap(cmd.fiscal_year, cmd.amount_fen, cap_fen)
    budget.check_commit(cmd.amount_fen)
    # Every rule holds: record.
    uow.add(Award(**cmd.fields, counts_towards_cap=counts, actor=actor))
    if counts:
        enterprise.commit_support(
            cmd.reference, cmd.fiscal_year, cmd.amount_fen, cap_fen, actor=actor
        )
    budget.commit(cmd.reference, cmd.amount_fen, actor=actor)


@handles(c.RecordDisbursement)
def record_disbursement(uow: UnitOfWork, cmd: c.RecordDisbursement, actor: str) -> None:
    award = require(uow, Award, cmd.award_reference)
    award.record_disbursement(
        cmd.reference, cmd.amount_fen, cmd.voucher_no, cmd.paid_on, actor=actor
    )


def _disbursement_award(uow: UnitOfWork, cmd: c.Command) -> Award:
    return _parent_award(uow, cmd, UnknownDisbursement(reference=cmd.reference))


@handles(c.ApproveDisbursement)
def approve_disbursement(uow: UnitOfWork, cmd: c.ApproveDisbursement, actor: str) -> None:
    _disbursement_award(uow, cmd).approve_disbursement(cmd.reference, actor=actor)


@handles(c.RejectDisbursement)
def reject_disbursement(uow: UnitOfWork, cmd: c.RejectDisbursement, actor: str) -> None:
    _disbursement_award(uow, cmd).reject_disbursement(cmd.reference, cmd.reason, actor=actor)


@handles(c.ReverseDisbursement)
def reverse_disbursement(uow: UnitOfWork, cmd: c.ReverseDisbursement, actor: str) -> None:
    _disbursement_award(uow, cmd).reverse_disbursement(cmd.reference, cmd.reason, actor=actor)


@handles(c.RevokeAward)
def revoke_award(uow: UnitOfWork, cmd: c.RevokeAward, actor: str) -> None:
    award = require(uow, Award, cmd.award_reference)
    award.check_revocation()
    budget = _budget(uow, award.measure, award.fiscal_year)
    enterprise = require(uow, Enterprise, award.uscc)
    released_fen = award.revoke(cmd.decision_ref, cmd.reason, actor=actor)
    if released_fen:
        budget.release(award.reference, released_fen, actor=actor)
        if award.counts_towards_cap:
            enterprise.release_support(
                award.reference, award.fiscal_year, released_fen, actor=actor
            )


@handles(c.OrderClawback)
def order_clawback(uow: UnitOfWork, cmd: c.OrderClawback, actor: str) -> None:
    award = require(uow, Award, cmd.award_reference)
    award.order_clawback(
        cmd.reference, cmd.amount_fen, cmd.decision_ref, cmd.reason, actor=actor
    )


@handles(c.RecordClawbackRecovery)
def record_clawback_recovery(uow: UnitOfWork, cmd: c.RecordClawbackRecovery, actor: str) -> None:
    unknown = UnknownAward(
        variant="clawback", reference=cmd.clawback_reference, field="clawback_reference"
    )
    award = _parent_award(uow, cmd, unknown)
    award.record_recovery(
        cmd.reference,
        cmd.clawback_reference,
        cmd.amount_fen,
        cmd.voucher_no,
        cmd.recovered_on,
        actor=actor,
    )


# -- patent transfers and financings -------------------------------------------------------


@handles(c.RecordPatentTransfer)
def record_patent_transfer(uow: UnitOfWork, cmd: c.RecordPatentTransfer, actor: str) -> None:
    require(uow, Enterprise, cmd.uscc)
    uow.add(PatentTransfer(**cmd.fields, actor=actor))


@handles(c.RecordTransferOutcome)
def record_transfer_outcome(uow: UnitOfWork, cmd: c.RecordTransferOutcome, actor: str) -> None:
    transfer = require(uow, PatentTransfer, cmd.reference)
    transfer.record_outcome(cmd.outcome, cmd.on, cmd.amount_fen, actor=actor)


@handles(c.RegisterFinancing)
def register_financing(uow: UnitOfWork, cmd: c.RegisterFinancing, actor: str) -> None:
    require(uow, Enterprise, cmd.uscc)
    uow.add(Financing(**cmd.fields, actor=actor))


@handles(c.RecordFinancingEvent)
def record_financing_event(uow: UnitOfWork, cmd: c.RecordFinancingEvent, actor: str) -> None:
    financing = require(uow, Financing, cmd.reference)
    financing.record_event(cmd.event, cmd.on, cmd.amount_fen, actor=actor)


assert set(HANDLERS) == set(c.COMMAND_CLASSES), "every command class has its handler"
