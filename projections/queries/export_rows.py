"""Whole lists streamed from one snapshot, for the exports: enterprises (with their totals),
budgets (measure × year), patent transfers, financings and the audit trail, each with the
enterprise's name beside its credit code. Awards and disbursements stream from their own
modules (`awards.stream_awards`, `disbursements.stream_disbursements`).

Each takes a `list_filters.ListFilter` and uses only the filters its list has
(`EXPORT_FILTERS`); the caller refuses the others before it starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from projections.queries.balances import AWARD_SUMS, amounts, budget_rows
from projections.queries.common import town_names
from projections.queries.list_filters import ListFilter
from projections.queries.log_trail import _instant
from projections.queries.snapshot import Snapshot
from projections.trail import recorded_text, render

#: The filters each streamed list has.
EXPORT_FILTERS = {
    "enterprises": ("town", "uscc"),
    "budgets": ("measure", "fiscal_year"),
    "transfers": ("uscc", "date_from", "date_to"),
    "financing": ("uscc", "date_from", "date_to"),
    "trail": ("uscc", "measure", "award", "actor", "date_from", "date_to"),
}


def stream_enterprises(view: Snapshot, chosen: ListFilter) -> Iterator[dict[str, Any]]:
    """Every enterprise by credit code, with its award count and totals over every year (fen)."""
    sql = (
        "SELECT e.uscc AS uscc, e.name AS name, e.town_code AS town_code, "
        f"e.industry AS industry, {AWARD_SUMS} "
        "FROM {q}pv_enterprises e LEFT JOIN {q}pv_enterprise_balances b ON b.uscc = e.uscc "
        "WHERE 1 = 1"
    )
    params: list[Any] = []
    if chosen.town is not None:
        sql += " AND e.town_code = %s"
        params.append(chosen.town)
    if chosen.uscc is not None:
        sql += " AND e.uscc LIKE %s"
        params.append(chosen.uscc + "%")
    sql += " GROUP BY e.uscc, e.name, e.town_code, e.industry ORDER BY e.uscc"
    for batch in view.stream(sql, params):
        for r in batch:
            yield {"uscc": r["uscc"], "name": r["name"], "town_code": r["town_code"],
                   "town_name": town_names(r["town_code"])[0], "industry": r["industry"],
                   **amounts(r)}  # fmt: skip


def stream_budgets(view: Snapshot, chosen: ListFilter) -> Iterator[dict[str, Any]]:
    """Every measure × year budget with its spending (fen), by measure and year."""
    for r in budget_rows(view, chosen.measure, chosen.fiscal_year):
        total_fen = int(r["appropriated_fen"]) + int(r["adjusted_fen"])
        committed_fen = int(r["committed_fen"]) - int(r["released_fen"])
        yield {
            "measure": r["measure"], "fiscal_year": int(r["fiscal_year"]),
            "appropriated_fen": total_fen, "adjusted_fen": int(r["adjusted_fen"]),
            "committed_fen": int(r["committed_fen"]), "released_fen": int(r["released_fen"]),
            "paid_fen": int(r["approved_fen"]) - int(r["reversed_fen"]),
            "pending_fen": int(r["pending_fen"]), "remaining_fen": total_fen - committed_fen,
            "awards": int(r["awards"]),
        }  # fmt: skip


def _of_enterprises(view: Snapshot, table: str, date_column: str, chosen: ListFilter) -> Iterator[dict[str, Any]]:
    sql = (f"SELECT x.*, e.name AS name FROM {{q}}{table} x "
           "LEFT JOIN {q}pv_enterprises e ON e.uscc = x.uscc WHERE 1 = 1")  # fmt: skip
    params: list[Any] = []
    for condition, value in (("x.uscc LIKE %s", chosen.uscc and chosen.uscc + "%"),
                             (f"x.{date_column} >= %s", chosen.date_from),
                             (f"x.{date_column} <= %s", chosen.date_to)):  # fmt: skip
        if value is not None:
            sql += f" AND {condition}"
            params.append(value)
    for batch in view.stream(sql + f" ORDER BY x.{date_column} DESC, x.reference", params):
        for r in batch:
            r["name"] = r["name"] or ""
            yield r


def stream_transfers(view: Snapshot, chosen: ListFilter) -> Iterator[dict[str, Any]]:
    """Every patent transfer, newest signed first (signing date range)."""
    return _of_enterprises(view, "pv_transfers", "signed_on", chosen)


def stream_financings(view: Snapshot, chosen: ListFilter) -> Iterator[dict[str, Any]]:
    """Every IP-backed financing, newest registered first (registration date range)."""
    return _of_enterprises(view, "pv_financings", "registered_on", chosen)


def stream_trail(app: Any, view: Snapshot, chosen: ListFilter) -> Iterator[dict[str, Any]]:
    """Every trail entry in log order, with its summaries; `date_from`/`date_to` bound the
    recorded time by Asia/Shanghai dates (both inclusive)."""
    sql = "SELECT * FROM {q}pv_trail WHERE 1 = 1"
    params: list[Any] = []
    for column, value in (("uscc", chosen.uscc), ("measure", chosen.measure),
                          ("award_reference", chosen.award), ("actor", chosen.actor)):  # fmt: skip
        if value is not None:
            sql += f" AND {column} = %s"
            params.append(value)
    if chosen.date_from is not None:
        sql += " AND recorded_at >= %s"
        params.append(_instant(chosen.date_from + "T00:00:00+08:00"))
    if chosen.date_to is not None:
        sql += " AND recorded_at <= %s"
        params.append(_instant(chosen.date_to + "T23:59:59.999999+08:00"))
    for batch in view.stream(sql + " ORDER BY position", params, batch_size=500):
        for r, (_, _, event_type, en, zh) in zip(batch, render(app, view.query, batch), strict=True):
            yield {"position": int(r["position"]), "recorded_at": recorded_text(r["recorded_at"]),
                   "actor": r["actor"], "event_type": event_type, "uscc": r["uscc"],
                   "award_reference": r["award_reference"], "measure": r["measure"],
                   "doc_ref": r["doc_ref"], "summary_zh": zh, "summary_en": en}  # fmt: skip
