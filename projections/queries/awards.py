"""The awards list: every award with its enterprise's name and town, filtered, sorted, counted
and totalled; a page at a time (`paging`) or streamed whole (`snapshot`) for an export.

Filters (`list_filters.ListFilter`): measure, item, town (the enterprise's current town),
fiscal year, status (awards with a payment in that state), decision number (any part),
voucher number (awards with such a payment), grant date range, credit code (prefix).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projections.queries.balances import amounts
from projections.queries.common import DEFAULT_TIMEOUT_S, Record, ready, town_names
from projections.queries.list_filters import ListFilter, like, order_by
from projections.queries.paging import PAGE_SIZE, Page, fetch_page
from projections.queries.snapshot import Snapshot

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: The columns the awards list may be sorted by (key → SQL), whitelisted.
AWARD_SORTS = {
    "reference": "a.reference",
    "granted_on": "a.granted_on",
    "uscc": "a.uscc",
    "enterprise": "e.name",
    "measure": "a.measure",
    "item": "a.item",
    "fiscal_year": "a.fiscal_year",
    "decision_ref": "a.decision_ref",
    "granted": "a.granted_fen",
    "paid": "(a.approved_fen - a.reversed_fen)",
    "pending": "a.pending_fen",
    "outstanding": "(a.granted_fen - a.revoked_fen - a.approved_fen + a.reversed_fen)",
}

_SELECT = (
    "SELECT a.reference AS reference, a.uscc AS uscc, e.name AS enterprise_name, "
    "e.town_code AS town_code, a.measure AS measure, a.item AS item, "
    "a.fiscal_year AS fiscal_year, a.decision_ref AS decision_ref, a.granted_on AS granted_on, "
    "a.is_revoked AS is_revoked, a.granted_fen AS granted_fen, a.revoked_fen AS revoked_fen, "
    "a.approved_fen AS approved_fen, a.reversed_fen AS reversed_fen, "
    "a.pending_fen AS pending_fen, a.clawback_ordered_fen AS clawback_ordered_fen, "
    "a.clawback_recovered_fen AS clawback_recovered_fen, a.first_paid_on AS first_paid_on "
)
_FROM = "FROM {q}pv_awards a LEFT JOIN {q}pv_enterprises e ON e.uscc = a.uscc WHERE 1 = 1"


@dataclass(frozen=True)
class AwardListRow(Record):
    """An award as the list shows it: its enterprise's name and town beside the figures (fen)."""

    reference: str
    uscc: str
    enterprise_name: str
    town_code: str
    town_name_zh: str
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


@dataclass(frozen=True)
class AwardTotals(Record):
    """How many awards a filter selects and their summed figures (fen)."""

    count: int
    granted_fen: int
    revoked_fen: int
    paid_fen: int
    pending_fen: int
    reversed_fen: int
    clawback_ordered_fen: int
    clawback_recovered_fen: int
    outstanding_fen: int


def award_row(r: dict[str, Any]) -> AwardListRow:
    figures = amounts(r)
    del figures["awards"]
    return AwardListRow(
        reference=r["reference"], uscc=r["uscc"], enterprise_name=r["enterprise_name"] or "",
        town_code=r["town_code"] or "", town_name_zh=town_names(r["town_code"])[0],
        measure=r["measure"], item=r["item"], fiscal_year=int(r["fiscal_year"]),
        decision_ref=r["decision_ref"], granted_on=r["granted_on"],
        revoked=bool(r["is_revoked"]), first_paid_on=r["first_paid_on"], **figures,
    )  # fmt: skip


def _where(chosen: ListFilter) -> tuple[str, list[Any]]:
    sql, params = "", []
    for column, value in (("a.measure", chosen.measure), ("a.item", chosen.item),
                          ("e.town_code", chosen.town), ("a.fiscal_year", chosen.fiscal_year), ("a.reference", chosen.award)):  # fmt: skip
        if value is not None:
            sql += f" AND {column} = %s"
            params.append(value)
    if chosen.decision_ref is not None:
        sql += " AND a.decision_ref LIKE %s ESCAPE '\\'"
        params.append(like(chosen.decision_ref))
    if chosen.uscc is not None:
        sql += " AND a.uscc LIKE %s ESCAPE '\\'"
        params.append(like(chosen.uscc)[1:])
    if chosen.date_from is not None:
        sql += " AND a.granted_on >= %s"
        params.append(chosen.date_from)
    if chosen.date_to is not None:
        sql += " AND a.granted_on <= %s"
        params.append(chosen.date_to)
    payment = ""
    if chosen.status is not None:
        payment += " AND d.status = %s"
        params.append(chosen.status)
    if chosen.voucher_no is not None:
        payment += " AND d.voucher_no LIKE %s ESCAPE '\\'"
        params.append(like(chosen.voucher_no))
    if payment:
        sql += (" AND EXISTS (SELECT 1 FROM {q}pv_disbursements d "
                f"WHERE d.award_reference = a.reference{payment})")  # fmt: skip
    return sql, params


def awards_sql(chosen: ListFilter) -> tuple[str, list[Any]]:
    """The ordered SELECT of the awards a filter selects (without LIMIT), and its values."""
    sql, params = _where(chosen)
    return _SELECT + _FROM + sql + order_by(AWARD_SORTS, chosen, "reference", "a.reference"), params


def award_list(
    app: SupportLedger,
    chosen: ListFilter,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Page[AwardListRow]:
    """One page of the awards a filter selects, in its order."""
    sql, params = awards_sql(chosen)
    return fetch_page(ready(app, min_position, timeout_s), sql, params, offset, limit, award_row)


_TOTALS = (
    "SELECT COUNT(*) AS awards, SUM(a.granted_fen) AS granted_fen, "
    "SUM(a.revoked_fen) AS revoked_fen, SUM(a.approved_fen) AS approved_fen, "
    "SUM(a.reversed_fen) AS reversed_fen, SUM(a.pending_fen) AS pending_fen, "
    "SUM(a.clawback_ordered_fen) AS clawback_ordered_fen, "
    "SUM(a.clawback_recovered_fen) AS clawback_recovered_fen "
)


def totals_from(rows: list[dict[str, Any]]) -> AwardTotals:
    figures = amounts(rows[0])
    return AwardTotals(count=figures.pop("awards"), **figures)


def award_totals(
    app: SupportLedger, chosen: ListFilter, min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> AwardTotals:  # fmt: skip
    """The count and summed figures of every award a filter selects (not just one page)."""
    sql, params = _where(chosen)
    return totals_from(ready(app, min_position, timeout_s).query(_TOTALS + _FROM + sql, params))


def stream_awards(view: Snapshot, chosen: ListFilter) -> Iterator[AwardListRow]:
    """Every award a filter selects, in its order, streamed from one snapshot."""
    sql, params = awards_sql(chosen)
    for batch in view.stream(sql, params):
        yield from map(award_row, batch)

