"""The disbursements list: every payment with its award's measure, item and decision number and
its enterprise's name and town, filtered, sorted, counted and totalled (by status); a page at a
time (`paging`) or streamed whole (`snapshot`) for an export.

Filters (`list_filters.ListFilter`): measure, item, town, fiscal year (the award's), status,
decision number (any part), voucher number (any part), payment date range, credit code (prefix).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projections.queries.common import DEFAULT_TIMEOUT_S, Record, ready, town_names
from projections.queries.list_filters import STATUSES, ListFilter, like, order_by
from projections.queries.paging import PAGE_SIZE, Page, fetch_page
from projections.queries.snapshot import Snapshot

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: The columns the disbursements list may be sorted by (key → SQL), whitelisted.
DISBURSEMENT_SORTS = {
    "reference": "d.reference",
    "paid_on": "d.paid_on",
    "amount": "d.amount_fen",
    "status": "d.status",
    "voucher_no": "d.voucher_no",
    "award": "d.award_reference",
    "uscc": "a.uscc",
    "enterprise": "e.name",
    "measure": "a.measure",
    "fiscal_year": "a.fiscal_year",
}

_SELECT = (
    "SELECT d.reference AS reference, d.award_reference AS award_reference, "
    "d.amount_fen AS amount_fen, d.paid_on AS paid_on, d.voucher_no AS voucher_no, "
    "d.status AS status, a.uscc AS uscc, e.name AS enterprise_name, e.town_code AS town_code, "
    "a.measure AS measure, a.item AS item, a.fiscal_year AS fiscal_year, "
    "a.decision_ref AS decision_ref "
)
_FROM = (
    "FROM {q}pv_disbursements d JOIN {q}pv_awards a ON a.reference = d.award_reference "
    "LEFT JOIN {q}pv_enterprises e ON e.uscc = a.uscc WHERE 1 = 1"
)


@dataclass(frozen=True)
class DisbursementListRow(Record):
    """A payment as the list shows it, with its award and enterprise (fen, ISO dates)."""

    reference: str
    award_reference: str
    amount_fen: int
    paid_on: str
    voucher_no: str
    status: str
    uscc: str
    enterprise_name: str
    town_code: str
    town_name_zh: str
    measure: str
    item: str
    fiscal_year: int
    decision_ref: str


@dataclass(frozen=True)
class DisbursementTotals(Record):
    """How many payments a filter selects, their sum, and the sum in each status (fen)."""

    count: int
    amount_fen: int
    pending_fen: int
    approved_fen: int
    rejected_fen: int
    reversed_fen: int


def disbursement_row(r: dict[str, Any]) -> DisbursementListRow:
    return DisbursementListRow(
        reference=r["reference"], award_reference=r["award_reference"],
        amount_fen=int(r["amount_fen"]), paid_on=r["paid_on"], voucher_no=r["voucher_no"] or "",
        status=r["status"], uscc=r["uscc"], enterprise_name=r["enterprise_name"] or "",
        town_code=r["town_code"] or "", town_name_zh=town_names(r["town_code"])[0],
        measure=r["measure"], item=r["item"], fiscal_year=int(r["fiscal_year"]),
        decision_ref=r["decision_ref"],
    )  # fmt: skip


def _where(chosen: ListFilter) -> tuple[str, list[Any]]:
    sql, params = "", []
    for column, value in (("a.measure", chosen.measure), ("a.item", chosen.item),
                          ("e.town_code", chosen.town), ("a.fiscal_year", chosen.fiscal_year), ("d.award_reference", chosen.award),
                          ("d.status", chosen.status)):  # fmt: skip
        if value is not None:
            sql += f" AND {column} = %s"
            params.append(value)
    for column, value in (("a.decision_ref", chosen.decision_ref),
                          ("d.voucher_no", chosen.voucher_no)):  # fmt: skip
        if value is not None:
            sql += f" AND {column} LIKE %s ESCAPE '\\'"
            params.append(like(value))
    if chosen.uscc is not None:
        sql += " AND a.uscc LIKE %s ESCAPE '\\'"
        params.append(like(chosen.uscc)[1:])
    if chosen.date_from is not None:
        sql += " AND d.paid_on >= %s"
        params.append(chosen.date_from)
    if chosen.date_to is not None:
        sql += " AND d.paid_on <= %s"
        params.append(chosen.date_to)
    return sql, params


def disbursements_sql(chosen: ListFilter) -> tuple[str, list[Any]]:
    """The ordered SELECT of the payments a filter selects (without LIMIT), and its values."""
    sql, params = _where(chosen)
    ordered = order_by(DISBURSEMENT_SORTS, chosen, "reference", "d.reference")
    return _SELECT + _FROM + sql + ordered, params


def disbursement_list(
    app: SupportLedger,
    chosen: ListFilter,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Page[DisbursementListRow]:
    """One page of the payments a filter selects, in its order."""
    sql, params = disbursements_sql(chosen)
    views = ready(app, min_position, timeout_s)
    return fetch_page(views, sql, params, offset, limit, disbursement_row)


_TOTALS = "SELECT COUNT(*) AS n, SUM(d.amount_fen) AS amount_fen, " + ", ".join(
    f"SUM(CASE WHEN d.status = '{s}' THEN d.amount_fen ELSE 0 END) AS {s}_fen" for s in STATUSES
)


def disbursement_totals(
    app: SupportLedger, chosen: ListFilter, min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> DisbursementTotals:  # fmt: skip
    """The count, sum and sum by status of every payment a filter selects (not one page)."""
    sql, params = _where(chosen)
    row = ready(app, min_position, timeout_s).query(f"{_TOTALS} {_FROM}{sql}", params)[0]
    return DisbursementTotals(
        count=int(row["n"] or 0), amount_fen=int(row["amount_fen"] or 0),
        **{f"{s}_fen": int(row[f"{s}_fen"] or 0) for s in STATUSES},
    )  # fmt: skip


def stream_disbursements(view: Snapshot, chosen: ListFilter) -> Iterator[DisbursementListRow]:
    """Every payment a filter selects, in its order, streamed from one snapshot."""
    sql, params = disbursements_sql(chosen)
    for batch in view.stream(sql, params):
        yield from map(disbursement_row, batch)
