"""The fiscal indicators overseers read, per district, pillar, measure and town, for one year.

Definitions (each with its formula, unit and source events) are in docs/metrics.md, section
"Fiscal indicators", and on the web's 说明 page (from `DEFINITIONS` below). In short, for the
awards and budgets of fiscal year Y:

- 预算执行率 execution rate = net paid ÷ appropriated (appropriations plus adjustments);
- 承诺率 commitment rate = (committed − released) ÷ appropriated;
- 结余率 balance rate = (appropriated − (committed − released)) ÷ appropriated;
- days from grant to the award's first approved payment: median, p90 (nearest rank) and
  按时拨付率, the share of due awards whose first payment came within `on_time_days`;
- clawback recovery rate = recovered ÷ ordered;
- patent conversion rate = transfers implemented ÷ transfers recorded (signed in Y);
- pledge-financing leverage = pledge-loan principal registered in Y ÷ net paid on the interest
  subsidies of those pledge loans;
- interest-subsidy share = net paid on interest-subsidy awards ÷ net paid.

Net paid is approved − reversed. Ratios are rounded to four places, None when the denominator
is zero (or does not exist: a town has no budget of its own).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ledger.shanghai import SHANGHAI
from projections.queries.balances import budget_rows
from projections.queries.common import DEFAULT_TIMEOUT_S, Record, ratio, ready

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: Days within which a first payment counts as on time (按时拨付), unless configured otherwise.
ON_TIME_DAYS_DEFAULT = 30
#: The bounds of a configured on-time threshold (days).
ON_TIME_DAYS_MIN, ON_TIME_DAYS_MAX = 1, 366
#: The scopes, in the order reports show them.
SCOPES = ("district", "pillar", "measure", "town")
#: Transfers and financings are not split by measure: they belong to these by nature.
TRANSFER_KEYS = {"pillar": "ip", "measure": "M12"}
FINANCING_KEYS = {"pillar": "ip", "measure": "M11"}


@dataclass(frozen=True)
class Indicators(Record):
    """The indicators of one scope (district, a pillar, a measure or a town) in one year."""

    scope: str
    key: str  # "" for the district, else the pillar, measure or town code
    fiscal_year: int
    # budget execution (None for a town: budgets belong to measures)
    appropriated_fen: int | None
    committed_fen: int | None  # committed − released
    remaining_fen: int | None  # appropriated − (committed − released)
    paid_fen: int  # approved − reversed
    execution_rate: float | None  # 预算执行率
    commitment_rate: float | None  # 承诺率
    balance_rate: float | None  # 结余率
    # payment timing (days from the grant to the award's first approved payment)
    awards: int
    awards_paid: int
    median_days_to_payment: float | None
    p90_days_to_payment: int | None
    on_time_days: int
    awards_due: int
    awards_paid_on_time: int
    on_time_rate: float | None  # 按时拨付率
    # clawbacks
    clawback_ordered_fen: int
    clawback_recovered_fen: int
    clawback_recovery_rate: float | None
    # patent transfers (district, towns, the IP pillar and M12 only)
    transfers_recorded: int | None
    transfers_implemented: int | None
    conversion_rate: float | None
    # IP financing (district, towns, the IP pillar and M11 only)
    pledge_principal_fen: int | None
    pledge_subsidy_paid_fen: int | None
    leverage: float | None
    interest_subsidy_paid_fen: int
    interest_subsidy_share: float | None


@dataclass(frozen=True)
class MonthPoint(Record):
    """One month of 拨付进度: net paid dated in it, cumulative net paid, and progress."""

    month: str  # YYYY-MM
    paid_fen: int
    cumulative_paid_fen: int
    progress: float | None  # cumulative ÷ appropriated


@dataclass(frozen=True)
class MonthlyProgress(Record):
    """拨付进度 of one scope: twelve months of the fiscal year (payments dated before January
    count in January), and what was paid after the year (so the total is the net paid)."""

    scope: str
    key: str
    fiscal_year: int
    appropriated_fen: int | None
    months: tuple[MonthPoint, ...]
    paid_after_year_fen: int


@dataclass(frozen=True)
class IndicatorReport(Record):
    """Every scope's indicators and monthly progress for one fiscal year."""

    fiscal_year: int
    on_time_days: int
    due_by: str  # ISO date: an unpaid award granted more than on_time_days before it is late
    district: Indicators
    pillars: tuple[Indicators, ...]
    measures: tuple[Indicators, ...]
    towns: tuple[Indicators, ...]
    progress: tuple[MonthlyProgress, ...]  # district, pillars, measures, towns

    def scope(self, scope: str, key: str = "") -> Indicators | None:
        """The indicators of one scope and key, or None."""
        if scope == "district":
            return self.district
        found = {"pillar": self.pillars, "measure": self.measures, "town": self.towns}.get(scope, ())
        return next((i for i in found if i.key == key), None)

    def progress_of(self, scope: str, key: str = "") -> MonthlyProgress | None:
        return next((p for p in self.progress if p.scope == scope and p.key == key), None)


def nearest_rank(values: list[int], share: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least `share` of the values at
    or below it (p90 of 1..10 is 9); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def default_due_by(fiscal_year: int, today: date | None = None) -> date:
    """The day awards are judged due on: the end of the fiscal year, or today if earlier."""
    today = today or datetime.now(SHANGHAI).date()
    return min(today, date(fiscal_year, 12, 31))


def _days(start: str, end: str) -> int:
    return (date.fromisoformat(end) - date.fromisoformat(start)).days


def _paid(row: dict[str, Any]) -> int:
    return int(row["approved_fen"]) - int(row["reversed_fen"])


class _Year:
    """The rows of one fiscal year, read once, and the scope each row belongs to."""

    def __init__(self, app: SupportLedger, views: Any, fiscal_year: int) -> None:
        self.year = fiscal_year
        self.pillar_of = {m.code: m.pillar for m in app.catalogue.measures}
        self.town_of = {
            r["uscc"]: r["town_code"]
            for r in views.query("SELECT uscc, town_code FROM {q}pv_enterprises")
        }
        self.awards = views.query(
            "SELECT * FROM {q}pv_awards WHERE fiscal_year = %s ORDER BY reference", [fiscal_year]
        )
        self.payments = views.query(
            "SELECT d.amount_fen AS amount_fen, d.paid_on AS paid_on, a.measure AS measure, "
            "a.uscc AS uscc FROM {q}pv_disbursements d JOIN {q}pv_awards a "
            "ON a.reference = d.award_reference WHERE a.fiscal_year = %s AND d.status = %s",
            [fiscal_year, "approved"],
        )
        self.budgets = budget_rows(views, None, fiscal_year, order=False)
        pattern = f"{fiscal_year}-%"
        self.transfers = views.query(
            "SELECT uscc, implemented_on FROM {q}pv_transfers WHERE signed_on LIKE %s", [pattern]
        )
        self.pledges = views.query(
            "SELECT reference, uscc, principal_fen FROM {q}pv_financings "
            "WHERE registered_on LIKE %s AND instrument = %s",
            [pattern, "pledge_loan"],
        )
        all_pledges = views.query(
            "SELECT reference FROM {q}pv_financings WHERE instrument = %s", ["pledge_loan"]
        )
        self.pledge_refs = {r["reference"] for r in all_pledges}

    def keys(self, row: dict[str, Any]) -> list[tuple[str, str]]:
        """The scopes an award-like row (with measure and uscc) counts in."""
        measure = row.get("measure")
        out = [("district", "")]
        if measure is not None:
            out += [("pillar", self.pillar_of.get(measure, "")), ("measure", measure)]
        town = self.town_of.get(row["uscc"])
        if town:
            out.append(("town", town))
        return out


def _grouped(rows: Iterable[dict[str, Any]], keys: Callable[[dict[str, Any]], list[Any]]) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        for key in keys(row):
            out[key].append(row)
    return out


def _budget_figures(budgets: list[dict[str, Any]] | None, paid_fen: int) -> dict[str, Any]:
    if budgets is None:
        return dict.fromkeys(("appropriated_fen", "committed_fen", "remaining_fen",
                              "execution_rate", "commitment_rate", "balance_rate"))  # fmt: skip
    total_fen = sum(int(r["appropriated_fen"]) + int(r["adjusted_fen"]) for r in budgets)
    committed_fen = sum(int(r["committed_fen"]) - int(r["released_fen"]) for r in budgets)
    remaining_fen = total_fen - committed_fen
    return {
        "appropriated_fen": total_fen,
        "committed_fen": committed_fen,
        "remaining_fen": remaining_fen,
        "execution_rate": ratio(paid_fen, total_fen),
        "commitment_rate": ratio(committed_fen, total_fen),
        "balance_rate": ratio(remaining_fen, total_fen),
    }


def _timing_figures(awards: list[dict[str, Any]], on_time_days: int, due_by: date) -> dict[str, Any]:
    days = [_days(r["granted_on"], r["first_paid_on"]) for r in awards if r["first_paid_on"]]
    unpaid_late = sum(
        1 for r in awards
        if not r["first_paid_on"] and not r["is_revoked"]
        and (due_by - date.fromisoformat(r["granted_on"])).days > on_time_days
    )  # fmt: skip
    on_time = sum(1 for d in days if d <= on_time_days)
    return {
        "awards": len(awards),
        "awards_paid": len(days),
        "median_days_to_payment": float(statistics.median(days)) if days else None,
        "p90_days_to_payment": nearest_rank(days, 0.9),
        "on_time_days": on_time_days,
        "awards_due": len(days) + unpaid_late,
        "awards_paid_on_time": on_time,
        "on_time_rate": ratio(on_time, len(days) + unpaid_late),
    }


def _indicators(year: _Year, scope: str, key: str, groups: dict[str, Any], on_time_days: int,
                due_by: date) -> Indicators:  # fmt: skip
    awards = groups["awards"].get((scope, key), [])
    paid_fen = sum(_paid(r) for r in awards)
    budgets = None if scope == "town" else groups["budgets"].get((scope, key), [])
    ordered_fen = sum(int(r["clawback_ordered_fen"]) for r in awards)
    recovered_fen = sum(int(r["clawback_recovered_fen"]) for r in awards)
    subsidies = [r for r in awards if r["financing_reference"]]
    subsidy_fen = sum(_paid(r) for r in subsidies)
    figures: dict[str, Any] = {"transfers_recorded": None, "transfers_implemented": None,
                               "conversion_rate": None, "pledge_principal_fen": None,
                               "pledge_subsidy_paid_fen": None, "leverage": None}  # fmt: skip
    if scope in ("district", "town") or TRANSFER_KEYS.get(scope) == key:
        transfers = groups["transfers"].get((scope, key) if scope == "town" else ("district", ""), [])
        implemented = sum(1 for r in transfers if r["implemented_on"] is not None)
        figures.update(transfers_recorded=len(transfers), transfers_implemented=implemented,
                       conversion_rate=ratio(implemented, len(transfers)))  # fmt: skip
    if scope in ("district", "town") or FINANCING_KEYS.get(scope) == key:
        pledges = groups["pledges"].get((scope, key) if scope == "town" else ("district", ""), [])
        principal_fen = sum(int(r["principal_fen"]) for r in pledges)
        pledge_fen = sum(_paid(r) for r in subsidies if r["financing_reference"] in year.pledge_refs)
        figures.update(pledge_principal_fen=principal_fen, pledge_subsidy_paid_fen=pledge_fen,
                       leverage=ratio(principal_fen, pledge_fen))  # fmt: skip
    return Indicators(
        scope=scope, key=key, fiscal_year=year.year, paid_fen=paid_fen,
        **_budget_figures(budgets, paid_fen), **_timing_figures(awards, on_time_days, due_by),
        clawback_ordered_fen=ordered_fen, clawback_recovered_fen=recovered_fen,
        clawback_recovery_rate=ratio(recovered_fen, ordered_fen),
        interest_subsidy_paid_fen=subsidy_fen, interest_subsidy_share=ratio(subsidy_fen, paid_fen),
        **figures,
    )  # fmt: skip


def _progress(year: _Year, scope: str, key: str, payments: list[dict[str, Any]],
              appropriated_fen: int | None) -> MonthlyProgress:  # fmt: skip
    by_month: dict[int, int] = defaultdict(int)
    after_fen = 0
    for p in payments:
        paid_on = date.fromisoformat(p["paid_on"])
        if paid_on.year > year.year:
            after_fen += int(p["amount_fen"])
        else:
            by_month[paid_on.month if paid_on.year == year.year else 1] += int(p["amount_fen"])
    points, cumulative_fen = [], 0
    for month in range(1, 13):
        cumulative_fen += by_month[month]
        points.append(MonthPoint(
            f"{year.year}-{month:02d}", by_month[month], cumulative_fen,
            ratio(cumulative_fen, appropriated_fen or 0),
        ))  # fmt: skip
    return MonthlyProgress(scope, key, year.year, appropriated_fen, tuple(points), after_fen)


def indicators(
    app: SupportLedger,
    fiscal_year: int,
    on_time_days: int = ON_TIME_DAYS_DEFAULT,
    due_by: date | None = None,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> IndicatorReport:
    """The indicators and monthly progress of every scope for `fiscal_year` (docs/metrics.md).

    `due_by` is the day an unpaid award is judged on for 按时拨付率 (default: the end of the
    year, or today if that is earlier, in Beijing time).
    """
    if not ON_TIME_DAYS_MIN <= on_time_days <= ON_TIME_DAYS_MAX:
        raise ValueError(f"on_time_days must be {ON_TIME_DAYS_MIN}..{ON_TIME_DAYS_MAX}")
    due_by = due_by or default_due_by(fiscal_year)
    year = _Year(app, ready(app, min_position, timeout_s), fiscal_year)
    budget_keys = lambda r: year.keys({"measure": r["measure"], "uscc": None})  # noqa: E731
    owner_keys = lambda r: [("district", "")] + ([("town", t)] if (t := year.town_of.get(r["uscc"])) else [])  # noqa: E731
    groups = {
        "awards": _grouped(year.awards, year.keys),
        "budgets": _grouped(year.budgets, budget_keys),
        "transfers": _grouped(year.transfers, owner_keys),
        "pledges": _grouped(year.pledges, owner_keys),
    }
    payments = _grouped(year.payments, year.keys)
    order = ("quality", "standards", "ip")
    pillars = sorted(set(year.pillar_of.values()), key=lambda p: (order.index(p) if p in order else 9, p))
    measures = sorted(year.pillar_of)
    towns = sorted({k for s, k in groups["awards"] if s == "town"})
    chosen = [("district", ""), *[("pillar", p) for p in pillars],
              *[("measure", m) for m in measures], *[("town", t) for t in towns]]  # fmt: skip
    found = {(s, k): _indicators(year, s, k, groups, on_time_days, due_by) for s, k in chosen}
    progress = tuple(
        _progress(year, s, k, payments.get((s, k), []), found[(s, k)].appropriated_fen)
        for s, k in chosen
    )
    return IndicatorReport(
        fiscal_year=fiscal_year, on_time_days=on_time_days, due_by=due_by.isoformat(),
        district=found[("district", "")],
        pillars=tuple(found[("pillar", p)] for p in pillars),
        measures=tuple(found[("measure", m)] for m in measures),
        towns=tuple(found[("town", t)] for t in towns), progress=progress,
    )  # fmt: skip
