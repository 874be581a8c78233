"""Awards: one grant decision to one enterprise under one measure item, and its payments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import (
    AwardRevoked,
    ClawbackExceedsPaid,
    InvalidState,
    Overpayment,
    PendingDisbursement,
    RecoveryExceedsClawback,
    SelfApproval,
)
from ledger.ids import ledger_id

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
REVERSED = "reversed"


@dataclass
class Disbursement:
    """One payment on an award: recorded by a maker, approved or rejected by a checker."""

    reference: str
    amount_fen: int
    voucher_no: str
    paid_on: date
    recorded_by: str
    status: str = PENDING
    decided_by: str | None = None


@dataclass
class Clawback:
    """An order to recover money paid on an award, and what was recovered so far."""

    reference: str
    amount_fen: int
    recovered_fen: int = 0


class AwardTotals:
    """What an award's disbursements and clawbacks add up to (read from its state only)."""

    granted_fen: int
    revoked_fen: int
    disbursements: dict[str, Disbursement]
    clawbacks: dict[str, Clawback]

    def _total_fen(self, status: str) -> int:
        return sum(d.amount_fen for d in self.disbursements.values() if d.status == status)

    @property
    def pending_fen(self) -> int:
        return self._total_fen(PENDING)

    @property
    def reversed_fen(self) -> int:
        return self._total_fen(REVERSED)

    @property
    def approved_fen(self) -> int:
        """Everything ever approved, including payments later reversed."""
        return self._total_fen(APPROVED) + self.reversed_fen

    @property
    def paid_fen(self) -> int:
        """Net paid: approved − reversed."""
        return self._total_fen(APPROVED)

    @property
    def payable_fen(self) -> int:
        """What may still be recorded: granted − revoked − paid − pending."""
        return self.granted_fen - self.revoked_fen - self.paid_fen - self.pending_fen

    @property
    def clawback_ordered_fen(self) -> int:
        return sum(c.amount_fen for c in self.clawbacks.values())

    @property
    def clawback_recovered_fen(self) -> int:
        return sum(c.recovered_fen for c in self.clawbacks.values())


class Award(AwardTotals, Aggregate):
    """A grant of support, with its disbursements, revocation and clawbacks.

    Invariants: approved − reversed ≤ granted − revoked; recovered ≤ ordered ≤ paid.
    """

    # The events, declared here because their names and fields are stored forever.

    class Granted(Aggregate.Created):
        reference: str
        uscc: str
        measure: str
        item: str
        fiscal_year: int
        amount_fen: int
        decision_ref: str
        granted_on: date
        basis: str | None
        financing_reference: str | None
        counts_towards_cap: bool
        actor: str

    class DisbursementRecorded(Aggregate.Event):
        reference: str
        amount_fen: int
        voucher_no: str
        paid_on: date
        actor: str

    class DisbursementApproved(Aggregate.Event):
        reference: str
        actor: str

    class DisbursementRejected(Aggregate.Event):
        reference: str
        reason: str
        actor: str

    class DisbursementReversed(Aggregate.Event):
        reference: str
        reason: str
        actor: str

    class Revoked(Aggregate.Event):
        decision_ref: str
        reason: str
        revoked_fen: int
        actor: str

    class ClawbackOrdered(Aggregate.Event):
        reference: str
        amount_fen: int
        decision_ref: str
        reason: str
        actor: str

    class ClawbackRecovered(Aggregate.Event):
        reference: str
        clawback_reference: str
        amount_fen: int
        voucher_no: str
        recovered_on: date
        actor: str

    @staticmethod
    def create_id(reference: str) -> UUID:
        return ledger_id("award", reference)

    @event(Granted)
    def __init__(self, reference: str, uscc: str, measure: str, item: str, fiscal_year: int,
                 amount_fen: int, decision_ref: str, granted_on: date, basis: str | None,
                 financing_reference: str | None, counts_towards_cap: bool,
                 actor: str) -> None:  # fmt: skip
        self.reference = reference
        self.uscc = uscc
        self.measure = measure
        self.item = item
        self.fiscal_year = fiscal_year
        self.granted_fen = amount_fen
        self.decision_ref = decision_ref
        self.granted_on = granted_on
        self.basis = basis
        self.financing_reference = financing_reference
        self.counts_towards_cap = counts_towards_cap
        self.granted_by = actor
        self.revoked_fen = 0
        self.is_revoked = False
        self.disbursements: dict[str, Disbursement] = {}
        self.clawbacks: dict[str, Clawback] = {}

    # -- disbursements ------------------------------------------------------------------------

    def check_not_revoked(self) -> None:
        if self.is_revoked:
            raise AwardRevoked(reference=self.reference)

    def check_disbursement(self, amount_fen: int) -> None:
        self.check_not_revoked()
        if amount_fen > self.payable_fen:
            raise Overpayment(
                amount_fen=amount_fen, reference=self.reference, payable_fen=self.payable_fen
            )

    def record_disbursement(
        self, reference: str, amount_fen: int, voucher_no: str, paid_on: date, actor: str
    ) -> None:
        assert reference not in self.disbursements, reference
        self.check_disbursement(amount_fen)
        self._record_disbursement(reference=reference, amount_fen=amount_fen,
                                  voucher_no=voucher_no, paid_on=paid_on, actor=actor)  # fmt: skip

    @event(DisbursementRecorded)
    def _record_disbursement(self, reference: str, amount_fen: int, voucher_no: str,
                             paid_on: date, actor: str) -> None:  # fmt: skip
        self.disbursements[reference] = Disbursement(reference, amount_fen, voucher_no, paid_on,
                                                     recorded_by=actor)  # fmt: skip

    def _disbursement_in(self, reference: str, status: str) -> Disbursement:
        disbursement = self.disbursements[reference]
        if disbursement.status != status:
            raise InvalidState(
                variant="disbursement_status",
                reference=reference,
                status=disbursement.status,
                expected=status,
            )
        return disbursement

    def check_approval(self, reference: str, actor: str) -> None:
        self.check_not_revoked()
        disbursement = self._disbursement_in(reference, PENDING)
        if disbursement.recorded_by == actor:
            raise SelfApproval(actor=actor, reference=reference)

    def approve_disbursement(self, reference: str, actor: str) -> None:
        self.check_approval(reference, actor)
        self._approve_disbursement(reference=reference, actor=actor)

    @event(DisbursementApproved)
    def _approve_disbursement(self, reference: str, actor: str) -> None:
        self.disbursements[reference].status = APPROVED
        self.disbursements[reference].decided_by = actor

    def reject_disbursement(self, reference: str, reason: str, actor: str) -> None:
        self._disbursement_in(reference, PENDING)
        self._reject_disbursement(reference=reference, reason=reason, actor=actor)

    @event(DisbursementRejected)
    def _reject_disbursement(self, reference: str, reason: str, actor: str) -> None:
        self.disbursements[reference].status = REJECTED
        self.disbursements[reference].decided_by = actor

    def check_reversal(self, reference: str) -> None:
        self.check_not_revoked()
        self._disbursement_in(reference, APPROVED)
        if self.paid_fen - self.disbursements[reference].amount_fen < self.clawback_ordered_fen:
            raise InvalidState(
                variant="reversal_blocked",
                reference=reference,
                clawback_ordered_fen=self.clawback_ordered_fen,
            )

    def reverse_disbursement(self, reference: str, reason: str, actor: str) -> None:
        self.check_reversal(reference)
        self._reverse_disbursement(reference=reference, reason=reason, actor=actor)

    @event(DisbursementReversed)
    def _reverse_disbursement(self, reference: str, reason: str, actor: str) -> None:
        self.disbursements[reference].status = REVERSED

    # -- revocation ---------------------------------------------------------------------------

    def check_revocation(self) -> None:
        if self.is_revoked:
            raise InvalidState(variant="award_revoked", reference=self.reference)
        if self.pending_fen:
            raise PendingDisbursement(reference=self.reference, pending_fen=self.pending_fen)

    def revoke(self, decision_ref: str, reason: str, actor: str) -> int:
        """Revoke the award; returns the unpaid part released back (revoked_fen)."""
        self.check_revocation()
        released_fen = self.granted_fen - self.paid_fen
        self._revoke(decision_ref=decision_ref, reason=reason, revoked_fen=released_fen, actor=actor)
        return released_fen

    @event(Revoked)
    def _revoke(self, decision_ref: str, reason: str, revoked_fen: int, actor: str) -> None:
        self.is_revoked = True
        self.revoked_fen = revoked_fen

    # -- clawbacks ----------------------------------------------------------------------------

    def check_clawback(self, amount_fen: int) -> None:
        claimable_fen = self.paid_fen - self.clawback_ordered_fen
        if amount_fen > claimable_fen:
            raise ClawbackExceedsPaid(
                amount_fen=amount_fen, reference=self.reference, claimable_fen=claimable_fen
            )

    def order_clawback(
        self, reference: str, amount_fen: int, decision_ref: str, reason: str, actor: str
    ) -> None:
        assert reference not in self.clawbacks, reference
        self.check_clawback(amount_fen)
        self._order_clawback(reference=reference, amount_fen=amount_fen,
                             decision_ref=decision_ref, reason=reason, actor=actor)  # fmt: skip

    @event(ClawbackOrdered)
    def _order_clawback(self, reference: str, amount_fen: int, decision_ref: str, reason: str,
                        actor: str) -> None:  # fmt: skip
        self.clawbacks[reference] = Clawback(reference=reference, amount_fen=amount_fen)

    def check_recovery(self, clawback_reference: str, amount_fen: int) -> None:
        clawback = self.clawbacks[clawback_reference]
        outstanding_fen = clawback.amount_fen - clawback.recovered_fen
        if amount_fen > outstanding_fen:
            raise RecoveryExceedsClawback(
                amount_fen=amount_fen,
                clawback_reference=clawback_reference,
                outstanding_fen=outstanding_fen,
            )

    def record_recovery(self, reference: str, clawback_reference: str, amount_fen: int,
                        voucher_no: str, recovered_on: date, actor: str) -> None:  # fmt: skip
        self.check_recovery(clawback_reference, amount_fen)
        self._record_recovery(reference=reference, clawback_reference=clawback_reference,
                              amount_fen=amount_fen, voucher_no=voucher_no,
                              recovered_on=recovered_on, actor=actor)  # fmt: skip

    @event(ClawbackRecovered)
    def _record_recovery(self, reference: str, clawback_reference: str, amount_fen: int,
                         voucher_no: str, recovered_on: date, actor: str) -> None:  # fmt: skip
        self.clawbacks[clawback_reference].recovered_fen += amount_fen
