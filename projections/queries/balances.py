"""Balances from the views: per enterprise × year, per award, per measure × year, per town × year.

Amounts are integer fen. Paid = approved − reversed; outstanding = granted − revoked − paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projections.queries.common import DEFAULT_TIMEOUT_S, Record, ratio, ready, town_names, where
from projections.queries.paging import PAGE_SIZE, Page, fetch_page

if TYPE_CHECKING:
    from ledger.application import SupportLedger


@dataclass(frozen=True)
class EnterpriseBalance(Record):
    """What one enterprise was granted and paid in one fiscal year (fen)."""

    uscc: str
    fiscal_year: int
    granted_fen: int
    revoked_fen: int
    paid_fen: int
    pending_fen: int
    reversed_fen: int
    clawback_ordered_fen: int
    clawback_recovered_fen: int
    outstanding_fen: int
    awards: int


#: The summed amount columns of award rows (for totals over enterprises or towns).
AWARD_SUMS = (
    "SUM(granted_fen) AS granted_fen, SUM(revoked_fen) AS revoked_fen, "
    "SUM(approved_fen) AS approved_fen, SUM(reversed_fen) AS reversed_fen, "
    "SUM(pending_fen) AS pending_fen, SUM(clawback_ordered_fen) AS clawback_ordered_fen, "
    "SUM(clawback_recovered_fen) AS clawback_recovered_fen, SUM(awards) AS awards"
)


def amounts(row: dict[str, Any]) -> dict[str, int]:
    """Balance amounts from (summed) award rows: paid = approved − reversed; outstanding too."""
    paid_fen = int(row["approved_fen"] or 0) - int(row["reversed_fen"] or 0)
    granted_fen = int(row["granted_fen"] or 0)
    revoked_fen = int(row["revoked_fen"] or 0)
    return {
        "granted_fen": granted_fen,
        "revoked_fen": revoked_fen,
        "paid_fen": paid_fen,
        "pending_fen": int(row["pending_fen"] or 0),
        "reversed_fen": int(row["reversed_fen"] or 0),
        "clawback_ordered_fen": int(row["clawback_ordered_fen"] or 0),
        "clawback_recovered_fen": int(row["clawback_recovered_fen"] or 0),
        "outstanding_fen": granted_fen - revoked_fen - paid_fen,
        "awards": int(row.get("awards") or 0),
    }


def enterprise_balance_rows(
    views: Any, uscc: str, fiscal_year: int | None = None
) -> list[EnterpriseBalance]:
    """An enterprise's balances from open views, one record per fiscal year."""
    sql = "SELECT * FROM {q}pv_enterprise_balances WHERE uscc = %s"
    extra, params = where([("fiscal_year", fiscal_year)])
    rows = views.query(sql + extra + " ORDER BY fiscal_year", [uscc.strip().upper(), *params])
    return [
        EnterpriseBalance(uscc=r["uscc"], fiscal_year=int(r["fiscal_year"]), **amounts(r))
        for r in rows
    ]


def enterprise_balances(
    app: SupportLedger,
    uscc: str,
    fiscal_year: int | None = None,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[EnterpriseBalance]:
    """An enterprise's balances, one record per fiscal year (only `fiscal_year` if given)."""
    return enterprise_balance_rows(ready(app, min_position, timeout_s), uscc, fiscal_year)


@dataclass(frozen=True)
class AwardBalance(Record):
    """One award: what was granted, revoked, paid, pending and clawed back (fen)."""

    reference: str
    uscc: str
    measure: str
    item: str
    fiscal_year: int
    decision_ref: str
    granted_on: str
    revoked: bool
    granted_fen: int
    revoked_fen: int
    paid_fen: int
    pending_fen: int
    reversed_fen: int
    clawback_ordered_fen: int
    clawback_recovered_fen: int
    outstanding_fen: int
    first_paid_on: str | None


def award_balance(row: dict[str, Any]) -> AwardBalance:
    """The record of one row of the awards view."""
    figures = amounts(row)
    del figures["awards"]
    return AwardBalance(
        reference=row["reference"],
        uscc=row["uscc"],
        measure=row["measure"],
        item=row["item"],
        fiscal_year=int(row["fiscal_year"]),
        decision_ref=row["decision_ref"],
        granted_on=row["granted_on"],
        revoked=bool(row["is_revoked"]),
        first_paid_on=row["first_paid_on"],
        **figures,
    )


def award_balances(
    app: SupportLedger,
    reference: str | None = None,
    uscc: str | None = None,
    fiscal_year: int | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Page[AwardBalance]:
    """Awards by reference, optionally only one, or those of an enterprise or a year; paged."""
    views = ready(app, min_position, timeout_s)
    extra, params = where([("reference", reference), ("uscc", uscc), ("fiscal_year", fiscal_year)])
    sql = "SELECT * FROM {q}pv_awards WHERE 1 = 1" + extra + " ORDER BY reference"
    return fetch_page(views, sql, params, offset, limit, award_balance)


@dataclass(frozen=True)
class MeasureBalance(Record):
    """A measure's budget and spending in one fiscal year (fen).

    `appropriated_fen` includes adjustments (`adjusted_fen` shows them apart); utilisation =
    (committed − released) / appropriated.
    """

    measure: str
    fiscal_year: int
    appropriated_fen: int
    adjusted_fen: int
    committed_fen: int
    released_fen: int
    paid_fen: int
    remaining_fen: int
    utilisation: float | None
    awards: int


def budget_rows(
    views: Any, code: str | None, fiscal_year: int | None, order: bool = True
) -> list[dict[str, Any]]:
    """Rows of the measure balances view, of one measure and/or one year if given."""
    extra, params = where([("measure", code), ("fiscal_year", fiscal_year)])
    sql = "SELECT * FROM {q}pv_measure_balances WHERE 1 = 1" + extra
    return views.query(sql + (" ORDER BY measure, fiscal_year" if order else ""), params)


def _measure_balance(r: dict[str, Any]) -> MeasureBalance:
    total_fen = int(r["appropriated_fen"]) + int(r["adjusted_fen"])
    net_committed_fen = int(r["committed_fen"]) - int(r["released_fen"])
    return MeasureBalance(
        measure=r["measure"],
        fiscal_year=int(r["fiscal_year"]),
        appropriated_fen=total_fen,
        adjusted_fen=int(r["adjusted_fen"]),
        committed_fen=int(r["committed_fen"]),
        released_fen=int(r["released_fen"]),
        paid_fen=int(r["approved_fen"]) - int(r["reversed_fen"]),
        remaining_fen=total_fen - net_committed_fen,
        utilisation=ratio(net_committed_fen, total_fen),
        awards=int(r["awards"]),
    )


def measure_balances(
    app: SupportLedger,
    code: str | None = None,
    fiscal_year: int | None = None,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[MeasureBalance]:
    """Measure × year balances, optionally of one measure and/or one year."""
    views = ready(app, min_position, timeout_s)
    code = code.strip().upper() if code is not None else None
    return [_measure_balance(r) for r in budget_rows(views, code, fiscal_year)]


def fiscal_years(app: SupportLedger) -> list[int]:
    """The fiscal years any budget was opened for, newest first."""
    rows = ready(app, None, 0).query(
        "SELECT DISTINCT fiscal_year FROM {q}pv_measure_balances ORDER BY fiscal_year DESC"
    )
    return [int(r["fiscal_year"]) for r in rows]


@dataclass(frozen=True)
class TownBalance(Record):
    """What the enterprises of one town (by its current registration) received in a year."""

    town_code: str
    town_name_zh: str
    town_name_en: str
    fiscal_year: int
    enterprises: int
    granted_fen: int
    revoked_fen: int
    paid_fen: int
    pending_fen: int
    reversed_fen: int
    clawback_ordered_fen: int
    clawback_recovered_fen: int
    outstanding_fen: int
    awards: int


def town_balances(
    app: SupportLedger,
    town_code: str | None = None,
    fiscal_year: int | None = None,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[TownBalance]:
    """Town × year totals of the enterprise balances, by each enterprise's current town."""
    views = ready(app, min_position, timeout_s)
    town_code = town_code.strip() if town_code is not None else None
    extra, params = where([("e.town_code", town_code), ("b.fiscal_year", fiscal_year)])
    sql = (
        f"SELECT e.town_code AS town_code, b.fiscal_year AS fiscal_year, "
        f"COUNT(*) AS enterprises, {AWARD_SUMS} "
        "FROM {q}pv_enterprise_balances b JOIN {q}pv_enterprises e ON e.uscc = b.uscc "
        f"WHERE 1 = 1{extra} "
        "GROUP BY e.town_code, b.fiscal_year ORDER BY e.town_code, b.fiscal_year"
    )
    out = []
    for r in views.query(sql, params):
        name_zh, name_en = town_names(r["town_code"])
        out.append(TownBalance(
            town_code=r["town_code"], town_name_zh=name_zh, town_name_en=name_en,
            fiscal_year=int(r["fiscal_year"]), enterprises=int(r["enterprises"]), **amounts(r),
        ))  # fmt: skip
    return out
