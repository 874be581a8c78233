"""Budgets: what a measure may spend in a fiscal year."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import BudgetExceeded
from ledger.ids import ledger_id


class Budget(Aggregate):
    """The budget of one measure in one fiscal year.

    Invariant: committed − released ≤ appropriated + adjustments.
    """

    # The events, declared here because their names and fields are stored forever.

    class Opened(Aggregate.Created):
        measure: str
        fiscal_year: int
        actor: str

    class Appropriated(Aggregate.Event):
        reference: str
        amount_fen: int
        decision_ref: str
        actor: str

    class Adjusted(Aggregate.Event):
        reference: str
        delta_fen: int
        decision_ref: str
        reason: str
        actor: str

    class Committed(Aggregate.Event):
        award_reference: str
        amount_fen: int
        actor: str

    class Released(Aggregate.Event):
        award_reference: str
        amount_fen: int
        actor: str
    @staticmethod
    def create_id(measure: str, fiscal_year: int) -> UUID:
        return ledger_id("budget", measure, fiscal_year)

    @event(Opened)
    def __init__(self, measure: str, fiscal_year: int, actor: str) -> None:
        self.measure = measure
        self.fiscal_year = fiscal_year
        self.appropriated_fen = 0
        self.adjusted_fen = 0
        self.committed_fen = 0
        self.released_fen = 0

    @property
    def total_fen(self) -> int:
        """Appropriations plus adjustments."""
        return self.appropriated_fen + self.adjusted_fen

    @property
    def remaining_fen(self) -> int:
        """What may still be committed."""
        return self.total_fen - (self.committed_fen - self.released_fen)

    def appropriate(self, reference: str, amount_fen: int, decision_ref: str, actor: str) -> None:
        assert amount_fen > 0, amount_fen
        self._appropriate(
            reference=reference, amount_fen=amount_fen, decision_ref=decision_ref, actor=actor
        )

    @event(Appropriated)
    def _appropriate(self, reference: str, amount_fen: int, decision_ref: str, actor: str) -> None:
        self.appropriated_fen += amount_fen

    def check_adjust(self, delta_fen: int) -> None:
        if self.remaining_fen + delta_fen < 0:
            raise BudgetExceeded(
                variant="cut",
                cut_fen=-delta_fen,
                measure=self.measure,
                fiscal_year=self.fiscal_year,
                remaining_fen=self.remaining_fen,
            )

    def adjust(
        self, reference: str, delta_fen: int, decision_ref: str, reason: str, actor: str
    ) -> None:
        self.check_adjust(delta_fen)
        self._adjust(
            reference=reference,
            delta_fen=delta_fen,
            decision_ref=decision_ref,
            reason=reason,
            actor=actor,
        )

    @event(Adjusted)
    def _adjust(
        self, reference: str, delta_fen: int, decision_ref: str, reason: str, actor: str
    ) -> None:
        self.adjusted_fen += delta_fen

    def check_commit(self, amount_fen: int) -> None:
        if amount_fen > self.remaining_fen:
            raise BudgetExceeded(
                amount_fen=amount_fen,
                measure=self.measure,
                fiscal_year=self.fiscal_year,
                remaining_fen=self.remaining_fen,
            )

    def commit(self, award_reference: str, amount_fen: int, actor: str) -> None:
        self.check_commit(amount_fen)
        self._commit(award_reference=award_reference, amount_fen=amount_fen, actor=actor)

    @event(Committed)
    def _commit(self, award_reference: str, amount_fen: int, actor: str) -> None:
        self.committed_fen += amount_fen

    def release(self, award_reference: str, amount_fen: int, actor: str) -> None:
        assert 0 <= amount_fen <= self.committed_fen - self.released_fen, amount_fen
        self._release(award_reference=award_reference, amount_fen=amount_fen, actor=actor)

    @event(Released)
    def _release(self, award_reference: str, amount_fen: int, actor: str) -> None:
        self.released_fen += amount_fen
