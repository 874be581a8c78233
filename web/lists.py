"""The awards and disbursements pages: filtered by measure, item, town, fiscal year, status,
decision number, voucher number and date range; sortable columns; the count and totals of the
whole filtered set; the enterprise's name beside every credit code; a download of the whole set
(`web.downloads`). The filters are parsed by `projections.queries.list_filters`, as the API's
and the exports' are: a value not allowed is a 400 page naming `invalid_filter`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template, request, url_for
from flask_babel import gettext as _

from ledger.identifiers import TOWNS
from projections import queries
from projections.exports.columns import STATUS_ZH
from projections.queries import awards, disbursements
from projections.queries.list_filters import (
    LIST_FILTERS,
    STATUSES,
    BadFilter,
    ListFilter,
    parse_filter,
)
from web.auth import ledger, requires
from web.i18n import pick

bp = Blueprint("lists", __name__)

#: How a status reads in English (Chinese: projections.exports.columns.STATUS_ZH).
STATUS_EN = {"pending": "Pending", "approved": "Approved", "rejected": "Rejected",
             "reversed": "Reversed"}  # fmt: skip


def status_name(code: str) -> str:
    """A payment status in the request's language (never the code)."""
    return pick(STATUS_ZH.get(code, code), STATUS_EN.get(code, code))


class FilterRefused(Exception):
    """A page's filter that is not allowed (answered with the 400 page)."""

    def __init__(self, error: BadFilter) -> None:
        super().__init__(error.message_en)
        self.error = error


def _page_number() -> int:
    raw = request.args.get("page", "").strip()
    if not raw:
        return 1
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 100_000):
        raise FilterRefused(BadFilter("page", "must be a page number 1..100000", "须为页码 1..100000"))
    return int(raw)


def parse_page_filter(sorts: dict[str, str]) -> ListFilter:
    try:
        return parse_filter(request.args, sorts, LIST_FILTERS)
    except BadFilter as error:
        raise FilterRefused(error) from None


def _form(chosen: ListFilter, endpoint: str, sorts: dict[str, str]) -> dict[str, Any]:
    """What the filter form, the sort links and the download links need."""
    args = {k: v for k, v in chosen.given().items()}
    sort_args = {"sort": chosen.sort, "order": "desc" if chosen.descending else None}

    def sort_href(key: str) -> str:
        descending = chosen.sort == key and not chosen.descending
        return url_for(endpoint, **args, sort=key, order="desc" if descending else None)

    measures = ledger().catalogue.measures
    return {
        "chosen": chosen, "args": {**args, **{k: v for k, v in sort_args.items() if v}},
        "sort_href": sort_href, "sorts": sorts,
        "measures": measures,
        "items": (items := [(i.code, pick(i.title_zh, i.title_en)) for m in measures for i in m.items]),
        "item_titles": dict(items),
        "towns": sorted(TOWNS.values(), key=lambda t: t.code), "statuses": STATUSES,
        "years": queries.fiscal_years(ledger()), "status_name": status_name,
    }  # fmt: skip


@bp.route("/awards")
@requires("viewer")
def award_list() -> Any:
    """Awards a page at a time, with the count and totals of every award the filters select."""
    chosen = parse_page_filter(awards.AWARD_SORTS)
    page = _page_number()
    size = queries.PAGE_SIZE
    rows = awards.award_list(ledger(), chosen, (page - 1) * size, size)
    totals = awards.award_totals(ledger(), chosen)
    return render_template(
        "awards.html", rows=rows, totals=totals, page=page, has_next=rows.has_more,
        kind="awards", **_form(chosen, "lists.award_list", awards.AWARD_SORTS),
    )  # fmt: skip


@bp.route("/disbursements")
@requires("viewer")
def disbursement_list() -> Any:
    """Payments a page at a time, with the count and totals (by status) of the filtered set."""
    chosen = parse_page_filter(disbursements.DISBURSEMENT_SORTS)
    page = _page_number()
    size = queries.PAGE_SIZE
    rows = disbursements.disbursement_list(ledger(), chosen, (page - 1) * size, size)
    totals = disbursements.disbursement_totals(ledger(), chosen)
    return render_template(
        "disbursements.html", rows=rows, totals=totals, page=page, has_next=rows.has_more,
        kind="disbursements",
        **_form(chosen, "lists.disbursement_list", disbursements.DISBURSEMENT_SORTS),
    )  # fmt: skip


def refused_page(error: BadFilter) -> Any:
    """The 400 page of a filter not allowed: its stable code and what was wrong, bilingual."""
    message = f"[{error.code}] {pick(error.message_zh, error.message_en)}"
    return render_template("error.html", code=400, title=_("Bad Request"), message=message,
                           detail=message), 400


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(FilterRefused, lambda e: refused_page(e.error))
    app.jinja_env.globals.update(status_name=status_name)
