"""Patent transfers: patents assigned or licensed to enterprises, and what came of them."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidState
from ledger.ids import ledger_id

TRANSFEROR_KINDS = ("university", "institute", "hospital", "enterprise")
MODES = ("assignment", "exclusive_licence", "sole_licence", "ordinary_licence", "open_licence")
OUTCOMES = (
    "recordal_completed",
    "implemented",
    "revenue_reported",
    "patent_intensive_product_recognised",
    "terminated",
)


class PatentTransfer(Aggregate):
    """A patent assigned or licensed from a transferor to an enterprise (the transferee)."""

    # The events, declared here because their names and fields are stored forever.

    class Recorded(Aggregate.Created):
        reference: str
        patent_no: str
        transferor_name: str
        transferor_kind: str
        transferor_uscc: str | None
        uscc: str
        mode: str
        contract_value_fen: int
        signed_on: date
        actor: str

    class RecordalCompleted(Aggregate.Event):
        on: date
        actor: str

    class Implemented(Aggregate.Event):
        on: date
        actor: str

    class RevenueReported(Aggregate.Event):
        on: date
        amount_fen: int
        actor: str

    class PatentIntensiveProductRecognised(Aggregate.Event):
        on: date
        actor: str

    class Terminated(Aggregate.Event):
        on: date
        actor: str
    @staticmethod
    def create_id(reference: str) -> UUID:
        return ledger_id("transfer", reference)

    @event(Recorded)
    def __init__(
        self,
        reference: str,
        patent_no: str,
        transferor_name: str,
        transferor_kind: str,
        transferor_uscc: str | None,
        uscc: str,
        mode: str,
        contract_value_fen: int,
        signed_on: date,
        actor: str,
    ) -> None:
        self.reference = reference
        self.patent_no = patent_no
        self.transferor_name = transferor_name
        self.transferor_kind = transferor_kind
        self.transferor_uscc = transferor_uscc
        self.uscc = uscc
        self.mode = mode
        self.contract_value_fen = contract_value_fen
        self.signed_on = signed_on
        self.recordal_completed_on: date | None = None
        self.implemented_on: date | None = None
        self.recognised_on: date | None = None
        self.terminated_on: date | None = None
        self.revenue_fen = 0

    def check_outcome(self, outcome: str) -> None:
        assert outcome in OUTCOMES, outcome
        if self.terminated_on is not None:
            raise InvalidState(
                variant="transfer_terminated",
                reference=self.reference,
                terminated_on=self.terminated_on,
            )

    def record_outcome(self, outcome: str, on: date, amount_fen: int | None, actor: str) -> None:
        """Record one outcome; `amount_fen` is the revenue for `revenue_reported`."""
        self.check_outcome(outcome)
        if outcome == "recordal_completed":
            self._complete_recordal(on=on, actor=actor)
        elif outcome == "implemented":
            self._implement(on=on, actor=actor)
        elif outcome == "revenue_reported":
            assert amount_fen is not None and amount_fen >= 0, amount_fen
            self._report_revenue(on=on, amount_fen=amount_fen, actor=actor)
        elif outcome == "patent_intensive_product_recognised":
            self._recognise_product(on=on, actor=actor)
        else:
            self._terminate(on=on, actor=actor)

    @event(RecordalCompleted)
    def _complete_recordal(self, on: date, actor: str) -> None:
        self.recordal_completed_on = on

    @event(Implemented)
    def _implement(self, on: date, actor: str) -> None:
        self.implemented_on = on

    @event(RevenueReported)
    def _report_revenue(self, on: date, amount_fen: int, actor: str) -> None:
        self.revenue_fen += amount_fen

    @event(PatentIntensiveProductRecognised)
    def _recognise_product(self, on: date, actor: str) -> None:
        self.recognised_on = on

    @event(Terminated)
    def _terminate(self, on: date, actor: str) -> None:
        self.terminated_on = on
