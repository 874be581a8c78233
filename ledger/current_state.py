"""The current state of single aggregates, as plain dicts with amounts in fen (`ledger show`).

These read the event store directly (by reference), so they are always current; the views (the
read models in `projections/`) answer the questions that span many aggregates. "State" here is
an aggregate's current state, as in docs/glossary.md.
"""

from __future__ import annotations

from typing import Any

from ledger.application import SupportLedger
from ledger.domain import Award, Budget, Enterprise, Financing, PatentTransfer


def award_state(app: SupportLedger, reference: str) -> dict[str, Any] | None:
    award = app.find(Award, reference)
    if award is None:
        return None
    return {
        "reference": award.reference,
        "uscc": award.uscc,
        "measure": award.measure,
        "item": award.item,
        "fiscal_year": award.fiscal_year,
        "decision_ref": award.decision_ref,
        "granted_on": award.granted_on.isoformat(),
        "revoked": award.is_revoked,
        "granted_fen": award.granted_fen,
        "revoked_fen": award.revoked_fen,
        "paid_fen": award.paid_fen,
        "pending_fen": award.pending_fen,
        "reversed_fen": award.reversed_fen,
        "clawback_ordered_fen": award.clawback_ordered_fen,
        "clawback_recovered_fen": award.clawback_recovered_fen,
    }


def budget_state(app: SupportLedger, measure: str, fiscal_year: int) -> dict[str, Any] | None:
    budget = app.find(Budget, measure, fiscal_year)
    if budget is None:
        return None
    return {
        "measure": budget.measure,
        "fiscal_year": budget.fiscal_year,
        "appropriated_fen": budget.appropriated_fen,
        "adjusted_fen": budget.adjusted_fen,
        "committed_fen": budget.committed_fen,
        "released_fen": budget.released_fen,
        "remaining_fen": budget.remaining_fen,
    }


def enterprise_state(app: SupportLedger, uscc: str) -> dict[str, Any] | None:
    enterprise = app.find(Enterprise, uscc.strip().upper())
    if enterprise is None:
        return None
    return {
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "town_code": enterprise.town_code,
        "industry": enterprise.industry,
        "committed_fen_by_year": {
            str(year): fen for year, fen in sorted(enterprise.committed_fen_by_year.items())
        },
    }


def transfer_state(app: SupportLedger, reference: str) -> dict[str, Any] | None:
    transfer = app.find(PatentTransfer, reference)
    if transfer is None:
        return None

    def iso(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "reference": transfer.reference,
        "patent_no": transfer.patent_no,
        "transferor_name": transfer.transferor_name,
        "transferor_kind": transfer.transferor_kind,
        "uscc": transfer.uscc,
        "mode": transfer.mode,
        "contract_value_fen": transfer.contract_value_fen,
        "signed_on": iso(transfer.signed_on),
        "recordal_completed_on": iso(transfer.recordal_completed_on),
        "implemented_on": iso(transfer.implemented_on),
        "patent_intensive_product_recognised_on": iso(transfer.recognised_on),
        "terminated_on": iso(transfer.terminated_on),
        "revenue_fen": transfer.revenue_fen,
    }


def financing_state(app: SupportLedger, reference: str) -> dict[str, Any] | None:
    financing = app.find(Financing, reference)
    if financing is None:
        return None
    return {
        "reference": financing.reference,
        "uscc": financing.uscc,
        "instrument": financing.instrument,
        "lender": financing.lender,
        "principal_fen": financing.principal_fen,
        "annual_rate_bp": financing.annual_rate_bp,
        "term_months": financing.term_months,
        "collateral": financing.collateral,
        "registered_on": financing.registered_on.isoformat(),
        "drawn_fen": financing.drawn_fen,
        "repaid_fen": financing.repaid_fen,
        "defaulted_on": None if financing.defaulted_on is None else financing.defaulted_on.isoformat(),
    }
