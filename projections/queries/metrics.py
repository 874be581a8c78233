"""Conversion metrics (definitions: docs/metrics.md) and payments per month, from the views.

Ratios are floats rounded to four places (they are not money), or None when their denominator
is zero.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from projections.queries.balances import budget_rows
from projections.queries.common import DEFAULT_TIMEOUT_S, Record, ratio, ready

if TYPE_CHECKING:
    from ledger.application import SupportLedger


@dataclass(frozen=True)
class Breakdown(Record):
    """Transfers of one transferor kind or mode: recorded, implemented, and their ratio."""

    key: str
    recorded: int
    implemented: int
    conversion_rate: float | None


@dataclass(frozen=True)
class Metrics(Record):
    """Conversion metrics for a year / measure / town selection (definitions: docs/metrics.md)."""

    fiscal_year: int | None
    measure: str | None
    town_code: str | None
    # patent transfers (by year signed; not split by measure)
    transfers_recorded: int
    transfers_implemented: int
    conversion_rate: float | None
    by_transferor_kind: tuple[Breakdown, ...]
    by_mode: tuple[Breakdown, ...]
    median_days_to_implementation: float | None
    revenue_reported_fen: int
    contract_value_fen: int
    transfer_subsidy_paid_fen: int
    contract_value_per_subsidy_yuan: float | None
    # IP financing (by year registered; not split by measure)
    financings: int
    financing_principal_fen: int
    interest_subsidy_paid_fen: int
    leverage: float | None
    financings_defaulted: int
    default_rate: float | None
    # awards (by fiscal year)
    awards: int
    payable_fen: int
    paid_fen: int
    payment_rate: float | None
    awards_paid: int
    median_days_grant_to_first_payment: float | None
    clawback_ordered_fen: int
    clawback_recovered_fen: int
    clawback_rate: float | None
    # budgets (by fiscal year; none when a town is chosen)
    budget_appropriated_fen: int | None
    budget_committed_fen: int | None
    budget_utilisation: float | None
    notes: tuple[str, ...] = field(default=())


def _days(start: str, end: str) -> int:
    return (date.fromisoformat(end) - date.fromisoformat(start)).days


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def _paid(row: dict[str, Any]) -> int:
    return int(row["approved_fen"]) - int(row["reversed_fen"])


def _breakdown(rows: list[dict[str, Any]], column: str) -> tuple[Breakdown, ...]:
    out = []
    for key in sorted({r[column] for r in rows}):
        mine = [r for r in rows if r[column] == key]
        implemented = sum(1 for r in mine if r["implemented_on"] is not None)
        out.append(Breakdown(key, len(mine), implemented, ratio(implemented, len(mine))))
    return tuple(out)


class _Selection:
    """Rows of one view for the chosen year and town (joined to the enterprises for a town)."""

    def __init__(self, views: Any, fiscal_year: int | None, town_code: str | None) -> None:
        self.views, self.fiscal_year, self.town_code = views, fiscal_year, town_code

    def rows(self, table: str, year_sql: str, measure: str | None = None) -> list[dict[str, Any]]:
        join = " JOIN {q}pv_enterprises e ON e.uscc = x.uscc" if self.town_code else ""
        sql = f"SELECT x.* FROM {{q}}{table} x{join} WHERE 1 = 1"
        params: list[Any] = []
        if self.town_code:
            sql += " AND e.town_code = %s"
            params.append(self.town_code)
        if measure:
            sql += " AND x.measure = %s"
            params.append(measure)
        if self.fiscal_year is not None:
            sql += f" AND {year_sql}"
            year = self.fiscal_year
            params.append(year if "fiscal_year" in year_sql else f"{year}-%")
        return self.views.query(sql, params)


def _transfer_figures(
    transfers: list[dict[str, Any]], all_awards: list[dict[str, Any]]
) -> dict[str, Any]:
    implemented = [r for r in transfers if r["implemented_on"] is not None]
    contract_value_fen = sum(int(r["contract_value_fen"]) for r in transfers)
    subsidy_fen = sum(_paid(r) for r in all_awards if r["measure"] == "M12")
    return {
        "transfers_recorded": len(transfers),
        "transfers_implemented": len(implemented),
        "conversion_rate": ratio(len(implemented), len(transfers)),
        "by_transferor_kind": _breakdown(transfers, "transferor_kind"),
        "by_mode": _breakdown(transfers, "mode"),
        "median_days_to_implementation": _median(
            [_days(r["signed_on"], r["implemented_on"]) for r in implemented]
        ),
        "revenue_reported_fen": sum(int(r["revenue_fen"]) for r in transfers),
        "contract_value_fen": contract_value_fen,
        "transfer_subsidy_paid_fen": subsidy_fen,
        "contract_value_per_subsidy_yuan": ratio(contract_value_fen, subsidy_fen),
    }


def _financing_figures(
    financings: list[dict[str, Any]], all_awards: list[dict[str, Any]]
) -> dict[str, Any]:
    principal_fen = sum(int(r["principal_fen"]) for r in financings)
    subsidy_fen = sum(_paid(r) for r in all_awards if r["financing_reference"])
    defaulted = sum(1 for r in financings if r["defaulted_on"] is not None)
    return {
        "financings": len(financings),
        "financing_principal_fen": principal_fen,
        "interest_subsidy_paid_fen": subsidy_fen,
        "leverage": ratio(principal_fen, subsidy_fen),
        "financings_defaulted": defaulted,
        "default_rate": ratio(defaulted, len(financings)),
    }


def _award_figures(awards: list[dict[str, Any]]) -> dict[str, Any]:
    payable_fen = sum(int(r["granted_fen"]) - int(r["revoked_fen"]) for r in awards)
    paid_fen = sum(_paid(r) for r in awards)
    first_paid = [r for r in awards if r["first_paid_on"] is not None]
    ordered_fen = sum(int(r["clawback_ordered_fen"]) for r in awards)
    return {
        "awards": len(awards),
        "payable_fen": payable_fen,
        "paid_fen": paid_fen,
        "payment_rate": ratio(paid_fen, payable_fen),
        "awards_paid": len(first_paid),
        "median_days_grant_to_first_payment": _median(
            [_days(r["granted_on"], r["first_paid_on"]) for r in first_paid]
        ),
        "clawback_ordered_fen": ordered_fen,
        "clawback_recovered_fen": sum(int(r["clawback_recovered_fen"]) for r in awards),
        "clawback_rate": ratio(ordered_fen, paid_fen),
    }


def _budget_figures(views: Any, measure: str | None, fiscal_year: int | None) -> dict[str, Any]:
    budgets = budget_rows(views, measure, fiscal_year, order=False)
    total_fen = sum(int(r["appropriated_fen"]) + int(r["adjusted_fen"]) for r in budgets)
    committed_fen = sum(int(r["committed_fen"]) - int(r["released_fen"]) for r in budgets)
    return {
        "budget_appropriated_fen": total_fen,
        "budget_committed_fen": committed_fen,
        "budget_utilisation": ratio(committed_fen, total_fen),
    }


_NO_BUDGET = {
    "budget_appropriated_fen": None,
    "budget_committed_fen": None,
    "budget_utilisation": None,
}


def metrics(
    app: SupportLedger,
    fiscal_year: int | None = None,
    measure: str | None = None,
    town_code: str | None = None,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Metrics:
    """The conversion metrics of docs/metrics.md for a year, measure and/or town."""
    views = ready(app, min_position, timeout_s)
    measure = measure.strip().upper() if measure else None
    chosen = _Selection(views, fiscal_year, town_code)
    awards = chosen.rows("pv_awards", "x.fiscal_year = %s", measure)
    all_awards = awards if not measure else chosen.rows("pv_awards", "x.fiscal_year = %s")
    transfers = chosen.rows("pv_transfers", "x.signed_on LIKE %s")
    financings = chosen.rows("pv_financings", "x.registered_on LIKE %s")
    notes = ("transfer and financing figures are not split by measure",) if measure else ()
    return Metrics(
        fiscal_year=fiscal_year, measure=measure, town_code=town_code,
        **_transfer_figures(transfers, all_awards), **_financing_figures(financings, all_awards),
        **_award_figures(awards),
        **(_NO_BUDGET if town_code else _budget_figures(views, measure, fiscal_year)),
        notes=notes,
    )  # fmt: skip


@dataclass(frozen=True)
class MonthlyPayments(Record):
    """Approved payments in one month of the payment date (YYYY-MM): their sum and count."""

    month: str
    amount_fen: int
    payments: int


def payments_by_month(app: SupportLedger, fiscal_year: int | None = None) -> list[MonthlyPayments]:
    """Approved payments (fen, count) per month of the payment date, in date order."""
    sql = (
        "SELECT SUBSTR(paid_on, 1, 7) AS month, SUM(amount_fen) AS amount_fen, COUNT(*) AS payments "
        "FROM {q}pv_disbursements WHERE status = %s"
    )
    params: list[Any] = ["approved"]
    if fiscal_year is not None:
        sql += " AND paid_on LIKE %s"
        params.append(f"{fiscal_year}-%")
    sql += " GROUP BY SUBSTR(paid_on, 1, 7) ORDER BY month"
    return [
        MonthlyPayments(r["month"], int(r["amount_fen"] or 0), int(r["payments"]))
        for r in ready(app, None, 0).query(sql, params)
    ]
