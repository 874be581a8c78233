"""The finance office's lists: payments waiting for approval (待审批), the award a payment is
recorded against, and approved payments for a printed payment list (拨付清单).

Amounts are integer fen; `recorded_at` / `decided_at` are ISO 8601 instants in UTC (as the
trail shows them). The queue is paged by the one rule; `all_pending` and `payment_list` read
every row, page by page, so nothing stops silently at a page size.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projections.queries.balances import AwardBalance, award_balance
from projections.queries.common import DEFAULT_TIMEOUT_S, Record, ready
from projections.queries.paging import PAGE_MAX, PAGE_SIZE, Page, fetch_page
from projections.trail import recorded_text

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: Most references a payment list may be asked for by name (one batch).
REFERENCES_MAX = PAGE_MAX

_SELECT = (
    "SELECT d.reference AS reference, d.award_reference AS award_reference, "
    "d.amount_fen AS amount_fen, d.paid_on AS paid_on, d.voucher_no AS voucher_no, "
    "d.status AS status, d.recorded_by AS recorded_by, d.recorded_at AS recorded_at, "
    "d.decided_by AS decided_by, d.decided_at AS decided_at, a.uscc AS uscc, "
    "e.name AS enterprise_name, a.measure AS measure, a.item AS item, "
    "a.fiscal_year AS fiscal_year, a.decision_ref AS decision_ref "
    "FROM {q}pv_disbursements d JOIN {q}pv_awards a ON a.reference = d.award_reference "
    "LEFT JOIN {q}pv_enterprises e ON e.uscc = a.uscc "
)


@dataclass(frozen=True)
class QueuedPayment(Record):
    """A disbursement with its award and enterprise, who recorded it and when (fen, UTC)."""

    reference: str
    award_reference: str
    uscc: str
    enterprise_name: str
    measure: str
    item: str
    fiscal_year: int
    decision_ref: str
    amount_fen: int
    paid_on: str
    voucher_no: str
    status: str
    recorded_by: str | None
    recorded_at: str | None
    decided_by: str | None
    decided_at: str | None
    age_s: int | None  # seconds since it was recorded, when this list was read


def _payment(now_us: int) -> Any:
    def make(r: dict[str, Any]) -> QueuedPayment:
        recorded_us = r["recorded_at"]
        return QueuedPayment(
            reference=r["reference"], award_reference=r["award_reference"], uscc=r["uscc"],
            enterprise_name=r["enterprise_name"] or "", measure=r["measure"], item=r["item"],
            fiscal_year=int(r["fiscal_year"]), decision_ref=r["decision_ref"],
            amount_fen=int(r["amount_fen"]), paid_on=r["paid_on"], voucher_no=r["voucher_no"],
            status=r["status"], recorded_by=r["recorded_by"],
            recorded_at=recorded_text(recorded_us) if recorded_us else None,
            decided_by=r["decided_by"],
            decided_at=recorded_text(r["decided_at"]) if r["decided_at"] else None,
            age_s=max(0, (now_us - int(recorded_us)) // 1_000_000) if recorded_us else None,
        )  # fmt: skip

    return make


_PENDING = _SELECT + "WHERE d.status = 'pending' ORDER BY d.recorded_at, d.reference"


def pending(
    app: SupportLedger,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Page[QueuedPayment]:
    """Payments waiting for approval, the longest waiting first; paged."""
    views = ready(app, min_position, timeout_s)
    return fetch_page(views, _PENDING, [], offset, limit, _payment(time.time_ns() // 1000))


@dataclass(frozen=True)
class Totals(Record):
    """How many payments a list holds and what they add up to (fen)."""

    count: int
    amount_fen: int


def pending_totals(app: SupportLedger) -> Totals:
    """How many payments wait for approval, and their sum."""
    rows = ready(app, None, 0).query(
        "SELECT COUNT(*) AS n, SUM(amount_fen) AS total FROM {q}pv_disbursements "
        "WHERE status = 'pending'"
    )
    return Totals(int(rows[0]["n"] or 0), int(rows[0]["total"] or 0))


def _every(views: Any, sql: str, params: list[Any]) -> Iterator[QueuedPayment]:
    make = _payment(time.time_ns() // 1000)
    offset = 0
    while True:
        page = fetch_page(views, sql, params, offset, PAGE_MAX, make)
        yield from page
        if page.next_offset is None:
            return
        offset = page.next_offset


def all_pending(app: SupportLedger) -> Iterator[QueuedPayment]:
    """Every payment waiting for approval, the longest waiting first (read page by page)."""
    return _every(ready(app, None, 0), _PENDING, [])


def payment_list(
    app: SupportLedger,
    paid_from: str | None = None,
    paid_to: str | None = None,
    measure: str | None = None,
    references: tuple[str, ...] = (),
) -> list[QueuedPayment]:
    """Approved payments paid from `paid_from` to `paid_to` (ISO dates, both included), of one
    measure, or named by reference (a batch, at most REFERENCES_MAX); by date and reference."""
    assert len(references) <= REFERENCES_MAX, len(references)
    sql = _SELECT + "WHERE d.status = 'approved'"
    params: list[Any] = []
    if paid_from:
        sql += " AND d.paid_on >= %s"
        params.append(paid_from)
    if paid_to:
        sql += " AND d.paid_on <= %s"
        params.append(paid_to)
    if measure:
        sql += " AND a.measure = %s"
        params.append(measure)
    if references:
        sql += f" AND d.reference IN ({', '.join(['%s'] * len(references))})"
        params.extend(references)
    sql += " ORDER BY d.paid_on, d.reference"
    return list(_every(ready(app, None, 0), sql, params))


@dataclass(frozen=True)
class PayableAward(Record):
    """An award a payment may be recorded against: its balance, its enterprise's name and
    what may still be recorded on it (granted − revoked − paid − pending, fen)."""

    award: AwardBalance
    enterprise_name: str
    payable_fen: int


def payable_award(
    app: SupportLedger,
    reference: str,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> PayableAward | None:
    """The award `reference` with what may still be paid on it, or None if the views do not
    know it."""
    views = ready(app, min_position, timeout_s)
    rows = views.query(
        "SELECT a.*, e.name AS enterprise_name FROM {q}pv_awards a "
        "LEFT JOIN {q}pv_enterprises e ON e.uscc = a.uscc WHERE a.reference = %s",
        [reference.strip()],
    )
    if not rows:
        return None
    award = award_balance(rows[0])
    payable_fen = 0 if award.revoked else award.outstanding_fen - award.pending_fen
    return PayableAward(award, rows[0]["enterprise_name"] or "", max(payable_fen, 0))
