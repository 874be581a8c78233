"""The printable payment list (拨付清单): approved payments chosen by date range, measure or
batch (their references), laid out for A4 paper.

Each row shows the enterprise (name and credit code), the award, the voucher, the date and the
amount in figures and in Chinese capitals (`ledger.amount_words`); then the total in both,
who printed the list and when (Beijing time), and signature lines for the maker (经办人) and the
checker (审核人). The page stands alone — no navigation — with its own stylesheet
(static/print_list.css: `@page` A4, page numbers in the page margin); on screen a small form
above the list chooses what it holds and is not printed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Flask, abort, render_template, request
from flask_babel import gettext as _

from ledger.amount_words import capitals
from ledger.shanghai import shanghai_time
from projections.queries import queue as q
from projections.queries import views_position
from web.auth import current_user, ledger, requires
from web.queue import is_reference, item_title

bp = Blueprint("payment_list", __name__)

#: The list's title, as the district heads it.
TITLE_ZH = "上海市松江区质量标准与知识产权扶持资金拨付清单"
TITLE_EN = "Songjiang District, Shanghai: payments of quality, standards and IP support"


def _date_arg(name: str) -> str | None:
    raw = request.args.get(name, "").strip()[:20]
    if not raw:
        return None
    if len(raw) != 10:  # exactly YYYY-MM-DD
        abort(400)
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        abort(400)


def _refs_arg() -> tuple[str, ...]:
    """A batch: references given one by one (`ref=…&ref=…`, exact) or typed in one text
    (`refs`, separated by commas); at most REFERENCES_MAX, else 400."""
    typed = request.args.get("refs", "")[:200_000].replace("，", ",").split(",")
    given = request.args.getlist("ref")[: q.REFERENCES_MAX + 1]
    refs: list[str] = []
    for part in [*given, *typed]:
        ref = part.strip()
        if not ref:
            continue
        if not is_reference(ref):
            abort(400)
        if ref not in refs:
            refs.append(ref)
    if len(refs) > q.REFERENCES_MAX:
        abort(400)
    return tuple(refs)


@bp.route("/payment-list")
@requires("officer")
def payment_list() -> Any:
    """Approved payments by date range, measure or batch, laid out for printing."""
    paid_from, paid_to = _date_arg("from"), _date_arg("to")
    measure = request.args.get("measure", "").strip().upper()[:10] or None
    codes = [m.code for m in ledger().catalogue.measures]
    if measure and measure not in codes:
        abort(400)
    refs = _refs_arg()
    chosen = bool(paid_from or paid_to or measure or refs)
    rows = q.payment_list(ledger(), paid_from, paid_to, measure, refs) if chosen else []
    total_fen = sum(r.amount_fen for r in rows)
    viewer = current_user()
    return render_template(
        "payment_list.html", rows=rows, total_fen=total_fen, chosen=chosen, capitals=capitals,
        paid_from=paid_from or "", paid_to=paid_to or "", measure=measure or "",
        refs=",".join(refs), codes=codes, item_title=item_title, title_zh=TITLE_ZH,
        title_en=TITLE_EN, printed_by=viewer.name if viewer else "",
        printed_at=shanghai_time(datetime.now(UTC)), at=views_position(ledger()),
        choice=_choice_text(paid_from, paid_to, measure, refs),
    )  # fmt: skip


def _choice_text(paid_from: str | None, paid_to: str | None, measure: str | None,
                 refs: tuple[str, ...]) -> str:  # fmt: skip
    """What the list holds, in words."""
    parts = []
    if paid_from or paid_to:
        parts.append(_("paid from %(a)s to %(b)s", a=paid_from or "…", b=paid_to or "…"))
    if measure:
        parts.append(_("measure %(m)s", m=measure))
    if refs:
        shown = ", ".join(refs[:10]) + (" …" if len(refs) > 10 else "")
        parts.append(_("batch of %(n)d: %(refs)s", n=len(refs), refs=shown))
    return "; ".join(parts)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
