"""What public disclosure (政务公开) lists: the awards made, with their approved payments.

An award is disclosed with the amount that stands (granted less revoked) and, when anything
stands; its payments are the approved ones — a reversed payment is not counted, a pending or
rejected one was never paid. Nothing personal is read: no actor, no voucher number, no
transferor. Pages follow the paging rule; `iter_public_awards` streams every award in bounded
batches for the exports (no cap).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from projections.queries.common import DEFAULT_TIMEOUT_S, Record, ready, where
from projections.queries.paging import PAGE_SIZE, Page, fetch_page

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: Awards read per query while an export streams.
STREAM_BATCH = 500

_SELECT = (
    "SELECT a.reference AS reference, a.uscc AS uscc, e.name AS enterprise_name, "
    "e.town_code AS town_code, a.measure AS measure, a.item AS item, "
    "a.fiscal_year AS fiscal_year, a.decision_ref AS decision_ref, a.granted_on AS granted_on, "
    "a.granted_fen - a.revoked_fen AS awarded_fen, a.is_revoked AS is_revoked, "
    "a.approved_fen - a.reversed_fen AS disbursed_fen "
    "FROM {q}pv_awards a LEFT JOIN {q}pv_enterprises e ON e.uscc = a.uscc "
    "WHERE a.granted_fen - a.revoked_fen > 0"
)


@dataclass(frozen=True)
class PublicPayment(Record):
    """An approved payment of a disclosed award (fen, ISO date)."""

    reference: str
    amount_fen: int
    paid_on: str


@dataclass(frozen=True)
class PublicAward(Record):
    """An award as disclosed: who received what, under which measure and decision (fen)."""

    reference: str
    uscc: str
    enterprise_name: str
    town_code: str
    measure: str
    item: str
    fiscal_year: int
    decision_ref: str
    granted_on: str
    awarded_fen: int
    partly_revoked: bool
    disbursed_fen: int
    payments: tuple[PublicPayment, ...] = ()


@dataclass(frozen=True)
class PublicTotals(Record):
    """How many awards a disclosure lists and what they add up to (fen)."""

    awards: int
    awarded_fen: int
    disbursed_fen: int


def _award(row: dict[str, Any]) -> PublicAward:
    return PublicAward(
        reference=row["reference"], uscc=row["uscc"], enterprise_name=row["enterprise_name"] or "",
        town_code=row["town_code"] or "", measure=row["measure"], item=row["item"],
        fiscal_year=int(row["fiscal_year"]), decision_ref=row["decision_ref"],
        granted_on=row["granted_on"], awarded_fen=int(row["awarded_fen"]),
        partly_revoked=bool(row["is_revoked"]), disbursed_fen=int(row["disbursed_fen"]),
    )  # fmt: skip


def _filters(fiscal_year: int | None, measure: str | None) -> tuple[str, list[Any]]:
    return where([("a.fiscal_year", fiscal_year), ("a.measure", measure)])


def public_awards(
    app: SupportLedger,
    fiscal_year: int | None = None,
    measure: str | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Page[PublicAward]:
    """One page of the disclosed awards, newest decision first."""
    views = ready(app, min_position, timeout_s)
    sql, params = _filters(fiscal_year, measure)
    order = " ORDER BY a.granted_on DESC, a.reference"
    return fetch_page(views, _SELECT + sql + order, params, offset, limit, _award)


def public_totals(
    app: SupportLedger, fiscal_year: int | None = None, measure: str | None = None
) -> PublicTotals:
    """The count and sums of the disclosed awards under the same filters."""
    views = ready(app, None, 0)
    sql, params = _filters(fiscal_year, measure)
    row = views.query(
        "SELECT COUNT(*) AS n, COALESCE(SUM(a.granted_fen - a.revoked_fen), 0) AS awarded, "
        "COALESCE(SUM(a.approved_fen - a.reversed_fen), 0) AS disbursed "
        "FROM {q}pv_awards a WHERE a.granted_fen - a.revoked_fen > 0" + sql,
        params,
    )[0]
    return PublicTotals(int(row["n"]), int(row["awarded"]), int(row["disbursed"]))


def iter_public_awards(
    app: SupportLedger, fiscal_year: int | None = None, measure: str | None = None
) -> Iterator[PublicAward]:
    """Every disclosed award in reference order, each with its approved payments, read in
    batches of `STREAM_BATCH` (memory stays bounded however many there are)."""
    views = ready(app, None, 0)
    sql, params = _filters(fiscal_year, measure)
    after = ""
    while True:
        rows = views.query(
            _SELECT + sql + " AND a.reference > %s ORDER BY a.reference LIMIT %s",
            [*params, after, STREAM_BATCH],
        )
        if not rows:
            return
        awards = [_award(row) for row in rows]
        payments = _approved_payments(views, [a.reference for a in awards])
        for award in awards:
            yield replace(award, payments=tuple(payments.get(award.reference, ())))
        after = rows[-1]["reference"]



def _approved_payments(views: Any, references: list[str]) -> dict[str, list[PublicPayment]]:
    marks = ", ".join(["%s"] * len(references))
    found: dict[str, list[PublicPayment]] = {}
    for r in views.query(
        f"SELECT reference, award_reference, amount_fen, paid_on FROM {{q}}pv_disbursements "
        f"WHERE status = 'approved' AND award_reference IN ({marks}) ORDER BY paid_on, reference",
        references,
    ):
        found.setdefault(r["award_reference"], []).append(
            PublicPayment(r["reference"], int(r["amount_fen"]), r["paid_on"])
        )
    return found
