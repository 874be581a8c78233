"""Enterprises: the recipients of support, one per unified social credit code."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import CapExceeded
from ledger.ids import ledger_id


class Enterprise(Aggregate):
    """An enterprise in Songjiang, with the support committed to it per fiscal year.

    Invariant: capped support committed in a fiscal year ≤ the annual cap.
    """

    # The events, declared here because their names and fields are stored forever.

    class Registered(Aggregate.Created):
        uscc: str
        name: str
        town_code: str
        industry: str
        actor: str

    class Updated(Aggregate.Event):
        reference: str
        name: str
        town_code: str
        industry: str
        actor: str

    class SupportCommitted(Aggregate.Event):
        award_reference: str
        fiscal_year: int
        amount_fen: int
        cap_fen: int
        actor: str

    class SupportReleased(Aggregate.Event):
        award_reference: str
        fiscal_year: int
        amount_fen: int
        actor: str
    @staticmethod
    def create_id(uscc: str) -> UUID:
        return ledger_id("enterprise", uscc)

    @event(Registered)
    def __init__(self, uscc: str, name: str, town_code: str, industry: str, actor: str) -> None:
        self.uscc = uscc
        self.name = name
        self.town_code = town_code
        self.industry = industry
        self.committed_fen_by_year: dict[int, int] = {}

    def update(self, reference: str, name: str, town_code: str, industry: str, actor: str) -> None:
        self._update(
            reference=reference, name=name, town_code=town_code, industry=industry, actor=actor
        )

    @event(Updated)
    def _update(self, reference: str, name: str, town_code: str, industry: str, actor: str) -> None:
        self.name = name
        self.town_code = town_code
        self.industry = industry

    def committed_fen(self, fiscal_year: int) -> int:
        return self.committed_fen_by_year.get(fiscal_year, 0)

    def check_cap(self, fiscal_year: int, amount_fen: int, cap_fen: int) -> None:
        committed_fen = self.committed_fen(fiscal_year)
        if committed_fen + amount_fen > cap_fen:
            raise CapExceeded(
                uscc=self.uscc,
                fiscal_year=fiscal_year,
                committed_fen=committed_fen,
                amount_fen=amount_fen,
                cap_fen=cap_fen,
            )

    def commit_support(
        self, award_reference: str, fiscal_year: int, amount_fen: int, cap_fen: int, actor: str
    ) -> None:
        self.check_cap(fiscal_year, amount_fen, cap_fen)
        self._commit_support(
            award_reference=award_reference,
            fiscal_year=fiscal_year,
            amount_fen=amount_fen,
            cap_fen=cap_fen,
            actor=actor,
        )

    @event(SupportCommitted)
    def _commit_support(
        self, award_reference: str, fiscal_year: int, amount_fen: int, cap_fen: int, actor: str
    ) -> None:
        self.committed_fen_by_year[fiscal_year] = self.committed_fen(fiscal_year) + amount_fen

    def release_support(
        self, award_reference: str, fiscal_year: int, amount_fen: int, actor: str
    ) -> None:
        assert 0 <= amount_fen <= self.committed_fen(fiscal_year), amount_fen
        self._release_support(
            award_reference=award_reference,
            fiscal_year=fiscal_year,
            amount_fen=amount_fen,
            actor=actor,
        )

    @event(SupportReleased)
    def _release_support(
        self, award_reference: str, fiscal_year: int, amount_fen: int, actor: str
    ) -> None:
        self.committed_fen_by_year[fiscal_year] = self.committed_fen(fiscal_year) - amount_fen
