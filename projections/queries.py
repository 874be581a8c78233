"""Questions the views answer, as frozen records with amounts in fen.

Every query takes `min_position` (a position a command returned) and then waits, at most
`timeout_s` seconds, until the views have reached it, so a caller sees its own writes; it
raises `ViewsBehind` if they do not get there in time. Ratios are floats rounded to four
places (they are not money), or None when their denominator is zero. Metric definitions are in
docs/metrics.md.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from ledger.identifiers import TOWNS
from projections.recorder import open_views
from projections.runner import ViewsBehind, wait_for_position
from projections.trail import recorded_text, recorded_us, render

if TYPE_CHECKING:
    from ledger.application import SupportLedger

__all__ = [
    "AwardBalance",
    "Breakdown",
    "EnterpriseBalance",
    "EnterpriseSummary",
    "MeasureBalance",
    "Metrics",
    "TownBalance",
    "TrailEntry",
    "ViewsBehind",
    "ViewsPosition",
    "award_balances",
    "enterprise_balances",
    "enterprises",
    "measure_balances",
    "metrics",
    "town_balances",
    "trail",
    "views_position",
]

MAX_LIMIT = 1_000
DEFAULT_TIMEOUT_S = 5.0


class _Record:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


def _ratio(numerator: int | float, denominator: int | float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def like_escape(text: str) -> str:
    """`text` for a LIKE pattern with ``ESCAPE '\\'``: its `%`, `_` and `\\` match literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ready(app: SupportLedger, min_position: int | None, timeout_s: float) -> Any:
    if min_position is not None:
        wait_for_position(app, min_position, timeout_s)
    return open_views(app)


# -- balances ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnterpriseBalance(_Record):
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


_AWARD_SUMS = (
    "SUM(granted_fen) AS granted_fen, SUM(revoked_fen) AS revoked_fen, "
    "SUM(approved_fen) AS approved_fen, SUM(reversed_fen) AS reversed_fen, "
    "SUM(pending_fen) AS pending_fen, SUM(clawback_ordered_fen) AS clawback_ordered_fen, "
    "SUM(clawback_recovered_fen) AS clawback_recovered_fen, SUM(awards) AS awards"
)


def _amounts(row: dict[str, Any]) -> dict[str, int]:
    """Balance amounts from summed rows: paid = approved − reversed; outstanding likewise."""
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
        "awards": int(row["awards"] or 0),
    }


def enterprise_balances(
    app: SupportLedger,
    uscc: str,
    fiscal_year: int | None = None,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[EnterpriseBalance]:
    """An enterprise's balances, one record per fiscal year (only `fiscal_year` if given)."""
    views = _ready(app, min_position, timeout_s)
    sql = "SELECT * FROM {q}pv_enterprise_balances WHERE uscc = %s"
    params: list[Any] = [uscc.strip().upper()]
    if fiscal_year is not None:
        sql += " AND fiscal_year = %s"
        params.append(fiscal_year)
    rows = views.query(sql + " ORDER BY fiscal_year", params)
    return [
        EnterpriseBalance(uscc=r["uscc"], fiscal_year=int(r["fiscal_year"]), **_amounts(r))
        for r in rows
    ]


@dataclass(frozen=True)
class AwardBalance(_Record):
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


def award_balances(
    app: SupportLedger,
    reference: str | None = None,
    uscc: str | None = None,
    fiscal_year: int | None = None,
    offset: int = 0,
    limit: int = MAX_LIMIT,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[AwardBalance]:
    """Awards by reference, optionally only one, or those of an enterprise or a year; paged."""
    views = _ready(app, min_position, timeout_s)
    sql = "SELECT * FROM {q}pv_awards WHERE 1 = 1"
    params: list[Any] = []
    for column, value in (("reference", reference), ("uscc", uscc), ("fiscal_year", fiscal_year)):
        if value is not None:
            sql += f" AND {column} = %s"
            params.append(value)
    limit = max(1, min(int(limit), MAX_LIMIT))
    sql += f" ORDER BY reference LIMIT {limit} OFFSET {max(0, int(offset))}"
    out = []
    for r in views.query(sql, params):
        amounts = _amounts({**r, "awards": 1})
        del amounts["awards"]
        out.append(
            AwardBalance(
                reference=r["reference"],
                uscc=r["uscc"],
                measure=r["measure"],
                item=r["item"],
                fiscal_year=int(r["fiscal_year"]),
                decision_ref=r["decision_ref"],
                granted_on=r["granted_on"],
                revoked=bool(r["is_revoked"]),
                first_paid_on=r["first_paid_on"],
                **amounts,
            )
        )
    return out


@dataclass(frozen=True)
class MeasureBalance(_Record):
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


def measure_balances(
    app: SupportLedger,
    code: str | None = None,
    fiscal_year: int | None = None,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[MeasureBalance]:
    """Measure × year balances, optionally of one measure and/or one year."""
    views = _ready(app, min_position, timeout_s)
    sql = "SELECT * FROM {q}pv_measure_balances WHERE 1 = 1"
    params: list[Any] = []
    if code is not None:
        sql += " AND measure = %s"
        params.append(code.strip().upper())
    if fiscal_year is not None:
        sql += " AND fiscal_year = %s"
        params.append(fiscal_year)
    out = []
    for r in views.query(sql + " ORDER BY measure, fiscal_year", params):
        total_fen = int(r["appropriated_fen"]) + int(r["adjusted_fen"])
        net_committed_fen = int(r["committed_fen"]) - int(r["released_fen"])
        out.append(
            MeasureBalance(
                measure=r["measure"],
                fiscal_year=int(r["fiscal_year"]),
                appropriated_fen=total_fen,
                adjusted_fen=int(r["adjusted_fen"]),
                committed_fen=int(r["committed_fen"]),
                released_fen=int(r["released_fen"]),
                paid_fen=int(r["approved_fen"]) - int(r["reversed_fen"]),
                remaining_fen=total_fen - net_committed_fen,
                utilisation=_ratio(net_committed_fen, total_fen),
                awards=int(r["awards"]),
            )
        )
    return out


@dataclass(frozen=True)
class TownBalance(_Record):
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
    views = _ready(app, min_position, timeout_s)
    sql = (
        f"SELECT e.town_code AS town_code, b.fiscal_year AS fiscal_year, "
        f"COUNT(*) AS enterprises, {_AWARD_SUMS} "
        "FROM {q}pv_enterprise_balances b JOIN {q}pv_enterprises e ON e.uscc = b.uscc "
        "WHERE 1 = 1"
    )
    params: list[Any] = []
    if town_code is not None:
        sql += " AND e.town_code = %s"
        params.append(town_code.strip())
    if fiscal_year is not None:
        sql += " AND b.fiscal_year = %s"
        params.append(fiscal_year)
    sql += " GROUP BY e.town_code, b.fiscal_year ORDER BY e.town_code, b.fiscal_year"
    out = []
    for r in views.query(sql, params):
        town = TOWNS.get(r["town_code"])
        out.append(
            TownBalance(
                town_code=r["town_code"],
                town_name_zh=town.name_zh if town else "",
                town_name_en=town.name_en if town else "",
                fiscal_year=int(r["fiscal_year"]),
                enterprises=int(r["enterprises"]),
                **_amounts(r),
            )
        )
    return out


# -- enterprises listing -----------------------------------------------------------------------


@dataclass(frozen=True)
class EnterpriseSummary(_Record):
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


def enterprises(
    app: SupportLedger,
    search: str | None = None,
    town_code: str | None = None,
    offset: int = 0,
    limit: int = 50,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[EnterpriseSummary]:
    """Registered enterprises by credit code, filtered by name/code text and town; paged."""
    views = _ready(app, min_position, timeout_s)
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    sql = (
        "SELECT e.uscc AS uscc, e.name AS name, e.town_code AS town_code, "
        f"e.industry AS industry, {_AWARD_SUMS} "
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
    sql += (
        " GROUP BY e.uscc, e.name, e.town_code, e.industry ORDER BY e.uscc "
        f"LIMIT {limit} OFFSET {offset}"
    )
    out = []
    for r in views.query(sql, params):
        amounts = _amounts(r)
        town = TOWNS.get(r["town_code"])
        out.append(
            EnterpriseSummary(
                uscc=r["uscc"],
                name=r["name"],
                town_code=r["town_code"],
                town_name_zh=town.name_zh if town else "",
                industry=r["industry"],
                awards=amounts["awards"],
                granted_fen=amounts["granted_fen"],
                paid_fen=amounts["paid_fen"],
                outstanding_fen=amounts["outstanding_fen"],
            )
        )
    return out


# -- conversion metrics ------------------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown(_Record):
    """Transfers of one transferor kind or mode: recorded, implemented, and their ratio."""

    key: str
    recorded: int
    implemented: int
    conversion_rate: float | None


@dataclass(frozen=True)
class Metrics(_Record):
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


def _breakdown(rows: list[dict[str, Any]], column: str) -> tuple[Breakdown, ...]:
    keys = sorted({r[column] for r in rows})
    out = []
    for key in keys:
        mine = [r for r in rows if r[column] == key]
        implemented = sum(1 for r in mine if r["implemented_on"] is not None)
        out.append(Breakdown(key, len(mine), implemented, _ratio(implemented, len(mine))))
    return tuple(out)


def metrics(
    app: SupportLedger,
    fiscal_year: int | None = None,
    measure: str | None = None,
    town_code: str | None = None,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Metrics:
    """The conversion metrics of docs/metrics.md for a year, measure and/or town."""
    views = _ready(app, min_position, timeout_s)
    measure = measure.strip().upper() if measure else None
    town_join = " JOIN {q}pv_enterprises e ON e.uscc = x.uscc" if town_code else ""
    town_where = " AND e.town_code = %s" if town_code else ""
    town_params = [town_code] if town_code else []

    def select(table: str, year_sql: str | None, extra: str = "", extra_params=()) -> list:  # type: ignore[no-untyped-def]
        sql = f"SELECT x.* FROM {{q}}{table} x{town_join} WHERE 1 = 1{town_where}{extra}"
        params = [*town_params, *extra_params]
        if fiscal_year is not None and year_sql is not None:
            sql += f" AND {year_sql}"
            params.append(fiscal_year if "fiscal_year" in year_sql else f"{fiscal_year}-%")
        return views.query(sql, params)

    transfers = select("pv_transfers", "x.signed_on LIKE %s")
    financings = select("pv_financings", "x.registered_on LIKE %s")
    awards = select(
        "pv_awards",
        "x.fiscal_year = %s",
        " AND x.measure = %s" if measure else "",
        [measure] if measure else [],
    )
    all_awards = awards if not measure else select("pv_awards", "x.fiscal_year = %s")

    def paid(row: dict[str, Any]) -> int:
        return int(row["approved_fen"]) - int(row["reversed_fen"])

    implemented = [r for r in transfers if r["implemented_on"] is not None]
    contract_value_fen = sum(int(r["contract_value_fen"]) for r in transfers)
    transfer_subsidy_fen = sum(paid(r) for r in all_awards if r["measure"] == "M12")
    principal_fen = sum(int(r["principal_fen"]) for r in financings)
    interest_subsidy_fen = sum(paid(r) for r in all_awards if r["financing_reference"])
    defaulted = sum(1 for r in financings if r["defaulted_on"] is not None)

    payable_fen = sum(int(r["granted_fen"]) - int(r["revoked_fen"]) for r in awards)
    paid_fen = sum(paid(r) for r in awards)
    first_paid = [r for r in awards if r["first_paid_on"] is not None]
    ordered_fen = sum(int(r["clawback_ordered_fen"]) for r in awards)

    budget_total = budget_committed = None
    if not town_code:
        sql = "SELECT * FROM {q}pv_measure_balances WHERE 1 = 1"
        params: list[Any] = []
        if measure:
            sql += " AND measure = %s"
            params.append(measure)
        if fiscal_year is not None:
            sql += " AND fiscal_year = %s"
            params.append(fiscal_year)
        budgets = views.query(sql, params)
        budget_total = sum(int(r["appropriated_fen"]) + int(r["adjusted_fen"]) for r in budgets)
        budget_committed = sum(int(r["committed_fen"]) - int(r["released_fen"]) for r in budgets)

    notes = []
    if measure:
        notes.append("transfer and financing figures are not split by measure")
    return Metrics(
        fiscal_year=fiscal_year,
        measure=measure,
        town_code=town_code,
        transfers_recorded=len(transfers),
        transfers_implemented=len(implemented),
        conversion_rate=_ratio(len(implemented), len(transfers)),
        by_transferor_kind=_breakdown(transfers, "transferor_kind"),
        by_mode=_breakdown(transfers, "mode"),
        median_days_to_implementation=_median(
            [_days(r["signed_on"], r["implemented_on"]) for r in implemented]
        ),
        revenue_reported_fen=sum(int(r["revenue_fen"]) for r in transfers),
        contract_value_fen=contract_value_fen,
        transfer_subsidy_paid_fen=transfer_subsidy_fen,
        contract_value_per_subsidy_yuan=_ratio(contract_value_fen, transfer_subsidy_fen),
        financings=len(financings),
        financing_principal_fen=principal_fen,
        interest_subsidy_paid_fen=interest_subsidy_fen,
        leverage=_ratio(principal_fen, interest_subsidy_fen),
        financings_defaulted=defaulted,
        default_rate=_ratio(defaulted, len(financings)),
        awards=len(awards),
        payable_fen=payable_fen,
        paid_fen=paid_fen,
        payment_rate=_ratio(paid_fen, payable_fen),
        awards_paid=len(first_paid),
        median_days_grant_to_first_payment=_median(
            [_days(r["granted_on"], r["first_paid_on"]) for r in first_paid]
        ),
        clawback_ordered_fen=ordered_fen,
        clawback_recovered_fen=sum(int(r["clawback_recovered_fen"]) for r in awards),
        clawback_rate=_ratio(ordered_fen, paid_fen),
        budget_appropriated_fen=budget_total,
        budget_committed_fen=budget_committed,
        budget_utilisation=_ratio(budget_committed or 0, budget_total or 0),
        notes=tuple(notes),
    )


# -- audit trail -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrailEntry(_Record):
    """One event in the audit trail."""

    position: int
    recorded_at: str
    actor: str | None
    aggregate_type: str
    aggregate_id: str
    event_type: str
    summary_en: str
    summary_zh: str
    uscc: str | None
    award_reference: str | None
    measure: str | None
    doc_ref: str | None


def _instant(value: datetime | str) -> int:
    """An instant as the trail stores it (naive instants are taken as UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return recorded_us(value)


def trail(
    app: SupportLedger,
    *,
    uscc: str | None = None,
    award_reference: str | None = None,
    actor: str | None = None,
    measure: str | None = None,
    from_at: datetime | str | None = None,
    to_at: datetime | str | None = None,
    after_position: int | None = None,
    limit: int = 100,
    newest_first: bool = False,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[TrailEntry]:
    """Trail entries matching every filter given, in log order (or newest first).

    `from_at` is inclusive and `to_at` exclusive (naive instants are taken as UTC); page on with
    `after_position` (in log order) — at most 1,000 entries per call.
    """
    views = _ready(app, min_position, timeout_s)
    limit = max(1, min(int(limit), MAX_LIMIT))
    sql = "SELECT * FROM {q}pv_trail WHERE 1 = 1"
    params: list[Any] = []
    for column, value in (
        ("uscc", uscc.strip().upper() if uscc else None),
        ("award_reference", award_reference),
        ("actor", actor),
        ("measure", measure.strip().upper() if measure else None),
    ):
        if value:
            sql += f" AND {column} = %s"
            params.append(value)
    if from_at is not None:
        sql += " AND recorded_at >= %s"
        params.append(_instant(from_at))
    if to_at is not None:
        sql += " AND recorded_at < %s"
        params.append(_instant(to_at))
    if after_position is not None:
        sql += " AND position > %s" if not newest_first else " AND position < %s"
        params.append(after_position)
    sql += f" ORDER BY position {'DESC' if newest_first else 'ASC'} LIMIT {limit}"
    rows = views.query(sql, params)
    return [
        TrailEntry(
            position=int(r["position"]),
            recorded_at=recorded_text(r["recorded_at"]),
            actor=r["actor"],
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            event_type=event_type,
            summary_en=en,
            summary_zh=zh,
            uscc=r["uscc"],
            award_reference=r["award_reference"],
            measure=r["measure"],
            doc_ref=r["doc_ref"],
        )
        for r, (aggregate_type, aggregate_id, event_type, en, zh) in zip(
            rows, render(app, views.query, rows), strict=True
        )
    ]


# -- position ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewsPosition(_Record):
    """How far the views have got: their position, that event's recorded time, the log's end."""

    position: int
    recorded_at: str | None
    log_position: int

    @property
    def lag(self) -> int:
        """Positions between the views and the end of the log (an upper bound on events)."""
        return max(0, self.log_position - self.position)


def views_position(app: SupportLedger) -> ViewsPosition:
    """The position every view has reached, when that event was recorded, and the log's end."""
    views = open_views(app)
    position = views.position()
    rows = views.query("SELECT recorded_at FROM {q}pv_trail WHERE position = %s", [position])
    return ViewsPosition(
        position=position,
        recorded_at=recorded_text(rows[0]["recorded_at"]) if rows else None,
        log_position=app.recorder.max_notification_id() or 0,
    )
