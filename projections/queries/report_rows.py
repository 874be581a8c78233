"""The rows the execution reports add up: awards of one year by measure, optionally of the
enterprises of one town (by their current registration). Amounts are integer fen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from projections.queries.balances import AWARD_SUMS, amounts
from projections.queries.common import DEFAULT_TIMEOUT_S, Record, ready

if TYPE_CHECKING:
    from ledger.application import SupportLedger


@dataclass(frozen=True)
class MeasureAwards(Record):
    """What the awards of one measure (of a town's enterprises, if chosen) came to in a year."""

    measure: str
    fiscal_year: int
    awards: int
    granted_fen: int
    revoked_fen: int
    paid_fen: int
    pending_fen: int
    reversed_fen: int
    clawback_ordered_fen: int
    clawback_recovered_fen: int
    outstanding_fen: int


def awards_by_measure(
    app: SupportLedger,
    fiscal_year: int,
    town_code: str | None = None,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[MeasureAwards]:
    """Award sums per measure for `fiscal_year`, of the enterprises of `town_code` if given."""
    views = ready(app, min_position, timeout_s)
    sums = AWARD_SUMS.replace("SUM(awards)", "COUNT(*)").replace("SUM(", "SUM(a.")
    join = " JOIN {q}pv_enterprises e ON e.uscc = a.uscc" if town_code else ""
    sql = f"SELECT a.measure AS measure, {sums} FROM {{q}}pv_awards a{join} WHERE a.fiscal_year = %s"
    params: list[object] = [fiscal_year]
    if town_code:
        sql += " AND e.town_code = %s"
        params.append(town_code)
    sql += " GROUP BY a.measure ORDER BY a.measure"
    return [
        MeasureAwards(measure=r["measure"], fiscal_year=fiscal_year, **amounts(r))
        for r in views.query(sql, params)
    ]
