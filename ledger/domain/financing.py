"""IP-backed financings: pledge loans, IP insurance and securitisations of enterprises."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidState, Overpayment
from ledger.ids import ledger_id

INSTRUMENTS = ("pledge_loan", "ip_insurance", "securitisation")
FINANCING_EVENTS = ("drawn", "repaid", "defaulted")


class Financing(Aggregate):
    """A financing of an enterprise secured on its patents or trademarks.

    Invariants: drawn ≤ principal; repaid ≤ drawn; nothing after a default.
    """

    # The events, declared here because their names and fields are stored forever.

    class Registered(Aggregate.Created):
        reference: str
        uscc: str
        instrument: str
        lender: str
        principal_fen: int
        annual_rate_bp: int
        term_months: int
        collateral: list[str]
        registered_on: date
        actor: str

    class Drawn(Aggregate.Event):
        on: date
        amount_fen: int
        actor: str

    class Repaid(Aggregate.Event):
        on: date
        amount_fen: int
        actor: str

    class Defaulted(Aggregate.Event):
        on: date
        amount_fen: int
        actor: str
    @staticmethod
    def create_id(reference: str) -> UUID:
        return ledger_id("financing", reference)

    @event(Registered)
    def __init__(
        self,
        reference: str,
        uscc: str,
        instrument: str,
        lender: str,
        principal_fen: int,
        annual_rate_bp: int,
        term_months: int,
        collateral: list[str],
        registered_on: date,
        actor: str,
    ) -> None:
        self.reference = reference
        self.uscc = uscc
        self.instrument = instrument
        self.lender = lender
        self.principal_fen = principal_fen
        self.annual_rate_bp = annual_rate_bp
        self.term_months = term_months
        self.collateral = list(collateral)
        self.registered_on = registered_on
        self.drawn_fen = 0
        self.repaid_fen = 0
        self.defaulted_on: date | None = None

    def check_event(self, financing_event: str, amount_fen: int) -> None:
        if self.defaulted_on is not None:
            raise InvalidState(
                variant="financing_defaulted",
                reference=self.reference,
                defaulted_on=self.defaulted_on,
            )
        if financing_event == "drawn" and self.drawn_fen + amount_fen > self.principal_fen:
            raise Overpayment(
                variant="drawing",
                amount_fen=amount_fen,
                reference=self.reference,
                undrawn_fen=self.principal_fen - self.drawn_fen,
            )
        if financing_event == "repaid" and self.repaid_fen + amount_fen > self.drawn_fen:
            raise Overpayment(
                variant="repaying",
                amount_fen=amount_fen,
                reference=self.reference,
                outstanding_fen=self.drawn_fen - self.repaid_fen,
            )

    def record_event(self, financing_event: str, on: date, amount_fen: int, actor: str) -> None:
        self.check_event(financing_event, amount_fen)
        if financing_event == "drawn":
            self._draw(on=on, amount_fen=amount_fen, actor=actor)
        elif financing_event == "repaid":
            self._repay(on=on, amount_fen=amount_fen, actor=actor)
        else:
            assert financing_event == "defaulted", financing_event
            self._default(on=on, amount_fen=amount_fen, actor=actor)

    @event(Drawn)
    def _draw(self, on: date, amount_fen: int, actor: str) -> None:
        self.drawn_fen += amount_fen

    @event(Repaid)
    def _repay(self, on: date, amount_fen: int, actor: str) -> None:
        self.repaid_fen += amount_fen

    @event(Defaulted)
    def _default(self, on: date, amount_fen: int, actor: str) -> None:
        self.defaulted_on = on
