"""Things the views list: enterprises, an enterprise's awards with their payments, patent
transfers and IP-backed financings. Lists are paged by the one rule (`paging`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projections.queries.balances import (
    AWARD_SUMS,
    AwardBalance,
    EnterpriseBalance,
    amounts,
    award_balance,
    enterprise_balance_rows,
)
from projections.queries.common import DEFAULT_TIMEOUT_S, Record, like_escape, ready, town_names
from projections.queries.paging import PAGE_SIZE, Page, fetch_page

if TYPE_CHECKING:
    from ledger.application import SupportLedger


@dataclass(frozen=True)
class Enterprise(Record):
    """A registered enterprise with its balances by fiscal year."""

    uscc: str
    name: str
    town_code: str
    town_name_zh: str
    town_name_en: str
    industry: str
    balances: tuple[EnterpriseBalance, ...]


def enterprise(
    app: SupportLedger,
    uscc: str,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Enterprise | None:
    """An enterprise with its balances by fiscal year, or None if the views do not know it."""
    views = ready(app, min_position, timeout_s)
    uscc = uscc.strip().upper()
    rows = views.query("SELECT * FROM {q}pv_enterprises WHERE uscc = %s", [uscc])
    if not rows:
        return None
    row = rows[0]
    name_zh, name_en = town_names(row["town_code"])
    return Enterprise(
        uscc=row["uscc"], name=row["name"], town_code=row["town_code"], town_name_zh=name_zh,
        town_name_en=name_en, industry=row["industry"],
        balances=tuple(enterprise_balance_rows(views, uscc)),
    )  # fmt: skip


@dataclass(frozen=True)
class EnterpriseSummary(Record):
    """An enterprise with its totals over every fiscal year (fen)."""

    uscc: str
    name: str
    town_code: str
    town_name_zh: str
    industry: str
    awards: int
    granted_fen: int
    paid_fen: int
    outstanding_fen: int


def _summary(r: dict[str, Any]) -> EnterpriseSummary:
    figures = amounts(r)
    return EnterpriseSummary(
        uscc=r["uscc"], name=r["name"], town_code=r["town_code"],
        town_name_zh=town_names(r["town_code"])[0], industry=r["industry"],
        awards=figures["awards"], granted_fen=figures["granted_fen"],
        paid_fen=figures["paid_fen"], outstanding_fen=figures["outstanding_fen"],
    )  # fmt: skip


def enterprises(
    app: SupportLedger,
    search: str | None = None,
    town_code: str | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Page[EnterpriseSummary]:
    """Registered enterprises by credit code, filtered by name/code text and town; paged."""
    views = ready(app, min_position, timeout_s)
    sql = (
        "SELECT e.uscc AS uscc, e.name AS name, e.town_code AS town_code, "
        f"e.industry AS industry, {AWARD_SUMS} "
        "FROM {q}pv_enterprises e LEFT JOIN {q}pv_enterprise_balances b ON b.uscc = e.uscc "
        "WHERE 1 = 1"
    )
    params: list[Any] = []
    if search:
        # `%` and `_` typed in a search match themselves (the same ESCAPE on both stores)
        sql += " AND (LOWER(e.name) LIKE %s ESCAPE '\\' OR e.uscc LIKE %s ESCAPE '\\')"
        text = like_escape(search.strip())
        params += [f"%{text.lower()}%", f"{text.upper()}%"]
    if town_code:
        sql += " AND e.town_code = %s"
        params.append(town_code.strip())
    sql += " GROUP BY e.uscc, e.name, e.town_code, e.industry ORDER BY e.uscc"
    return fetch_page(views, sql, params, offset, limit, _summary)


@dataclass(frozen=True)
class Disbursement(Record):
    """One payment on an award: amount (fen), date, voucher and status."""

    reference: str
    award_reference: str
    amount_fen: int
    paid_on: str
    voucher_no: str
    status: str


@dataclass(frozen=True)
class AwardPayments(Record):
    """An award with its payments in date order."""

    award: AwardBalance
    disbursements: tuple[Disbursement, ...]


def awards_of(
    app: SupportLedger, uscc: str, offset: int = 0, limit: int = PAGE_SIZE
) -> Page[AwardPayments]:
    """An enterprise's awards, newest first, each with its disbursements; paged."""
    views = ready(app, None, 0)
    sql = "SELECT * FROM {q}pv_awards WHERE uscc = %s ORDER BY granted_on DESC, reference"
    awards = fetch_page(views, sql, [uscc.strip().upper()], offset, limit, award_balance)
    by_award: dict[str, list[Disbursement]] = {a.reference: [] for a in awards}
    if by_award:
        marks = ", ".join(["%s"] * len(by_award))
        for r in views.query(
            f"SELECT * FROM {{q}}pv_disbursements WHERE award_reference IN ({marks}) "
            "ORDER BY paid_on, reference",
            list(by_award),
        ):
            by_award[r["award_reference"]].append(Disbursement(
                r["reference"], r["award_reference"], int(r["amount_fen"]), r["paid_on"],
                r["voucher_no"], r["status"],
            ))  # fmt: skip
    items = tuple(AwardPayments(a, tuple(by_award[a.reference])) for a in awards)
    return Page(items, awards.offset, awards.limit, awards.has_more)


@dataclass(frozen=True)
class Transfer(Record):
    """A patent transfer or licence and its outcome (fen, ISO dates)."""

    reference: str
    uscc: str
    patent_no: str
    transferor_kind: str
    mode: str
    contract_value_fen: int
    signed_on: str
    recordal_completed_on: str | None
    implemented_on: str | None
    recognised_on: str | None
    terminated_on: str | None
    revenue_fen: int
    enterprise_name: str = ""


@dataclass(frozen=True)
class Financing(Record):
    """An IP-backed financing (pledge loan, insurance, securitisation) (fen, ISO dates)."""

    reference: str
    uscc: str
    instrument: str
    lender: str
    principal_fen: int
    registered_on: str
    drawn_fen: int
    repaid_fen: int
    defaulted_on: str | None
    enterprise_name: str = ""


def _of(kind: type[Any]) -> Any:
    names = kind.__dataclass_fields__
    return lambda row: kind(**{name: row[name] for name in names})


def _newest(app: SupportLedger, table: str, date_column: str, make: Any, uscc: str | None,
            offset: int, limit: int) -> Page[Any]:  # fmt: skip
    # the enterprise's name beside its credit code (a transfer may name one not registered)
    sql = (f"SELECT x.*, COALESCE(e.name, '') AS enterprise_name FROM {{q}}{table} x "
           "LEFT JOIN {q}pv_enterprises e ON e.uscc = x.uscc WHERE 1 = 1")  # fmt: skip
    params: list[Any] = []
    if uscc:
        sql += " AND x.uscc = %s"
        params.append(uscc.strip().upper())
    sql += f" ORDER BY x.{date_column} DESC, x.reference"
    return fetch_page(ready(app, None, 0), sql, params, offset, limit, make)


def transfers(
    app: SupportLedger, uscc: str | None = None, offset: int = 0, limit: int = PAGE_SIZE
) -> Page[Transfer]:
    """Patent transfers, newest signed first (of one enterprise if `uscc` is given); paged."""
    return _newest(app, "pv_transfers", "signed_on", _of(Transfer), uscc, offset, limit)


def financings(
    app: SupportLedger, uscc: str | None = None, offset: int = 0, limit: int = PAGE_SIZE
) -> Page[Financing]:
    """IP-backed financings, newest registered first (of one enterprise if given); paged."""
    return _newest(app, "pv_financings", "registered_on", _of(Financing), uscc, offset, limit)
