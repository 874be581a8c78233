"""What each export holds: its title, its columns and where its rows come from (streamed from
one snapshot of the views, every row, in the list's order)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.shanghai import shanghai_time
from projections.exports import columns as c
from projections.queries import awards, disbursements, export_rows
from projections.queries.list_filters import LIST_FILTERS, ListFilter
from projections.queries.snapshot import Snapshot

if TYPE_CHECKING:
    from ledger.application import SupportLedger

Rows = Callable[["SupportLedger", Snapshot, ListFilter], Iterator[Any]]


@dataclass(frozen=True)
class Source:
    """One kind of export."""

    kind: str
    title_zh: str
    title_en: str
    columns: tuple[c.Column, ...]
    rows: Rows
    filters: tuple[str, ...]
    sorts: Mapping[str, str]


ITEM_TITLE = "item_title"


def columns_for(source: Source, app: SupportLedger) -> tuple[c.Column, ...]:
    """The source's columns, the support items' titles taken from this ledger's catalogue."""
    titles = {i.code: i.title_zh for m in app.catalogue.measures for i in m.items}
    return tuple(
        c.text(ITEM_TITLE, lambda row: titles.get(row.item, row.item)) if col.name == ITEM_TITLE
        else col
        for col in source.columns
    )  # fmt: skip


def _item_title() -> c.Column:
    return c.text(ITEM_TITLE)  # replaced by `columns_for`


_AWARD_COLUMNS = (
    c.text("reference"), c.text("uscc"), c.enterprise_name(), c.text("town_code"), c.town(),
    c.text("measure"), c.text("item"), _item_title(), c.count("fiscal_year"),
    c.text("decision_ref"), c.text("granted_on"), c.yes_no("revoked", "revoked"),
    c.yuan("granted_yuan"), c.yuan("revoked_yuan"), c.yuan("paid_yuan"), c.yuan("pending_yuan"),
    c.yuan("reversed_yuan"), c.yuan("clawback_ordered_yuan"), c.yuan("clawback_recovered_yuan"),
    c.yuan("outstanding_yuan"), c.text("first_paid_on"),
)  # fmt: skip
_DISBURSEMENT_COLUMNS = (
    c.text("reference"), c.text("award_reference"), c.text("uscc"), c.enterprise_name(),
    c.text("town_code"), c.town(), c.text("measure"), c.text("item"), _item_title(),
    c.count("fiscal_year"), c.text("decision_ref"), c.yuan("amount_yuan"), c.text("paid_on"),
    c.text("voucher_no"), c.status(),
)  # fmt: skip
_ENTERPRISE_COLUMNS = (
    c.text("uscc"), c.text("name"), c.text("town_code"), c.text("town_name"), c.text("industry"),
    c.count("awards"), c.yuan("granted_yuan"), c.yuan("revoked_yuan"), c.yuan("paid_yuan"),
    c.yuan("pending_yuan"), c.yuan("clawback_ordered_yuan"), c.yuan("clawback_recovered_yuan"),
    c.yuan("outstanding_yuan"),
)  # fmt: skip
_BUDGET_COLUMNS = (
    c.text("measure"), c.count("fiscal_year"), c.yuan("appropriated_yuan"),
    c.yuan("adjusted_yuan"), c.yuan("committed_yuan"), c.yuan("released_yuan"),
    c.yuan("paid_yuan"), c.yuan("pending_yuan"), c.yuan("remaining_yuan"), c.count("awards"),
)  # fmt: skip
_TRANSFER_COLUMNS = (
    c.text("reference"), c.text("uscc"), c.text("name"), c.text("patent_no"),
    c.choice("transferor_kind"), c.choice("mode"), c.yuan("contract_value_yuan"),
    c.text("signed_on"), c.text("recordal_completed_on"), c.text("implemented_on"),
    c.text("recognised_on"), c.text("terminated_on"), c.yuan("revenue_yuan"),
)  # fmt: skip
_FINANCING_COLUMNS = (
    c.text("reference"), c.text("uscc"), c.text("name"), c.choice("instrument"), c.text("lender"),
    c.yuan("principal_yuan"), c.text("registered_on"), c.yuan("drawn_yuan"),
    c.yuan("repaid_yuan"), c.text("defaulted_on"),
)  # fmt: skip
_TRAIL_COLUMNS = (
    c.count("position"), c.text("recorded_at", lambda row: shanghai_time(row["recorded_at"])),
    c.text("actor"), c.text("event_type"),
    c.text("uscc"), c.text("award_reference"), c.text("measure"), c.text("doc_ref"),
    c.text("summary_zh"), c.text("summary_en"),
)  # fmt: skip


def _listed(stream: Callable[[Snapshot, ListFilter], Iterator[Any]]) -> Rows:
    return lambda app, view, chosen: stream(view, chosen)


SOURCES = {
    s.kind: s
    for s in (
        Source("awards", "奖补明细", "Awards", _AWARD_COLUMNS,
               _listed(awards.stream_awards), LIST_FILTERS, awards.AWARD_SORTS),
        Source("disbursements", "拨付明细", "Disbursements", _DISBURSEMENT_COLUMNS,
               _listed(disbursements.stream_disbursements), LIST_FILTERS,
               disbursements.DISBURSEMENT_SORTS),
        Source("enterprises", "企业名录", "Enterprises", _ENTERPRISE_COLUMNS,
               _listed(export_rows.stream_enterprises), export_rows.EXPORT_FILTERS["enterprises"], {}),
        Source("budgets", "预算执行", "Budgets", _BUDGET_COLUMNS,
               _listed(export_rows.stream_budgets), export_rows.EXPORT_FILTERS["budgets"], {}),
        Source("transfers", "专利转移转化", "Patent transfers", _TRANSFER_COLUMNS,
               _listed(export_rows.stream_transfers), export_rows.EXPORT_FILTERS["transfers"], {}),
        Source("financing", "知识产权融资", "IP financing", _FINANCING_COLUMNS,
               _listed(export_rows.stream_financings), export_rows.EXPORT_FILTERS["financing"], {}),
        Source("trail", "审计轨迹", "Audit trail", _TRAIL_COLUMNS,
               lambda app, view, chosen: export_rows.stream_trail(app, view, chosen),
               export_rows.EXPORT_FILTERS["trail"], {}),
    )
}  # fmt: skip
#: The kinds of export, in the order `ledger export --help` lists them.
KINDS = tuple(SOURCES)
