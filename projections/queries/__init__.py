"""The read side's questions: all SQL over the view tables, answered as frozen records.

Amounts are integer fen. Every query that takes `min_position` (a position a command returned)
first waits, at most `timeout_s` seconds, until the views have reached it, so a caller sees its
own writes; it raises `ViewsBehind` if they do not get there in time. Lists follow one paging
rule (`paging`: `PAGE_SIZE`, `PAGE_MAX`, `Page`). Metric definitions are in docs/metrics.md.

The CLI (`projections.cli`), the web pages and the JSON API all read through this package;
nothing else holds SQL over the view tables.
"""

from __future__ import annotations

from projections.queries.balances import (
    AwardBalance,
    EnterpriseBalance,
    MeasureBalance,
    TownBalance,
    award_balances,
    enterprise_balances,
    fiscal_years,
    measure_balances,
    town_balances,
)
from projections.queries.common import DEFAULT_TIMEOUT_S, Record, like_escape
from projections.queries.log_trail import TrailEntry, ViewsPosition, trail, views_at, views_position
from projections.queries.metrics import (
    Breakdown,
    Metrics,
    MonthlyPayments,
    metrics,
    payments_by_month,
)
from projections.queries.paging import PAGE_MAX, PAGE_SIZE, Page, page_limit
from projections.queries.registry import (
    AwardPayments,
    Disbursement,
    Enterprise,
    EnterpriseSummary,
    Financing,
    Transfer,
    awards_of,
    enterprise,
    enterprises,
    financings,
    transfers,
)
from projections.recorder import shared_reads
from projections.runner import ViewsBehind

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "PAGE_MAX",
    "PAGE_SIZE",
    "AwardBalance",
    "AwardPayments",
    "Breakdown",
    "Disbursement",
    "Enterprise",
    "EnterpriseBalance",
    "EnterpriseSummary",
    "Financing",
    "MeasureBalance",
    "Metrics",
    "MonthlyPayments",
    "Page",
    "Record",
    "TownBalance",
    "TrailEntry",
    "Transfer",
    "ViewsBehind",
    "ViewsPosition",
    "award_balances",
    "awards_of",
    "enterprise",
    "enterprise_balances",
    "enterprises",
    "financings",
    "fiscal_years",
    "like_escape",
    "measure_balances",
    "metrics",
    "page_limit",
    "payments_by_month",
    "shared_reads",
    "town_balances",
    "trail",
    "transfers",
    "views_at",
    "views_position",
]
