"""The read-only pages for overseers: dashboard, enterprises, measures, transfers, financing,
audit and single events. Each view parses its query, asks `projections.queries` (the views)
or `web.reads` (the log, the audit) and renders the records it gets.

Every page shows how current it is: the views' position, when that event was recorded, and the
end of the log.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

from flask import Blueprint, Flask, Response, abort, g, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ledger.csvsafe import SafeDictWriter
from ledger.identifiers import TOWNS
from projections import queries
from projections.queries import AwardPayments, TrailEntry
from web import audit_files, charts, display, reads
from web.auth import ledger, requires
from web.cache import cached
from web.display import event_kind, item_name, lab
from web.i18n import is_english, pick, shanghai_time, texts, town_name, yuan
from web.schemas import NOT_QUERY_TEXT, REQUEST_MAX

bp = Blueprint("pages", __name__)

PAGE_SIZE = queries.PAGE_SIZE
#: Trail entries on an enterprise page, newest first; older ones are a link away.
TRAIL_PAGE_SIZE = 10
#: Awards (each with its payments) on an enterprise page, newest first; older ones are a link away.
AWARDS_PAGE_SIZE = 10


def _int_arg(name: str, default: int | None = None, low: int = 0, high: int = 10**12) -> int | None:
    """An integer query argument, or 400 if it is not one."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400)
    if not low <= value <= high:
        abort(400)
    return value


def _text_arg(name: str, max_length: int = 100) -> str:
    """A text query argument (stripped, at most `max_length` characters), or 400 if it holds a
    control character (NUL included, which PostgreSQL cannot compare) or invalid UTF-8."""
    text = request.args.get(name, "").strip()[:max_length]
    if NOT_QUERY_TEXT.search(text):
        abort(400)
    return text


def freshness() -> dict[str, Any]:
    """How current the views are, read once per request."""
    if "freshness" not in g:
        g.freshness = reads.status(ledger())
    return g.freshness


def _measures() -> dict[str, Any]:
    return {m.code: m for m in ledger().catalogue.measures}


def _measure_title(code: str) -> str:
    spec = _measures().get(code)
    return pick(spec.title_zh, spec.title_en) if spec else code


def _fiscal_year() -> int | None:
    years = queries.fiscal_years(ledger())
    year = _int_arg("year", None, 2000, 2100)
    if year is None:
        return years[0] if years else None
    return year


@bp.route("/")
@requires("viewer")
def dashboard() -> Any:
    """Budget use per measure and pillar, payments per month, conversion metrics."""
    year = _int_arg("year", None, 2000, 2100)
    body = cached("dashboard", year, lambda: _dashboard_body(year))
    return render_template("_frame.html", title=_("Dashboard"), body=body)


def _dashboard_body(year_asked: int | None) -> Markup:
    """The dashboard's content (metrics over every row: kept per views position, see web.cache)."""
    app = ledger()
    years = queries.fiscal_years(app)
    year = year_asked if year_asked is not None else (years[0] if years else None)
    balances = queries.measure_balances(app, fiscal_year=year)
    months = queries.payments_by_month(app, year)
    metrics = queries.metrics(app, fiscal_year=year)
    yuan_wan = 1_000_000  # fen per 万元
    budget_chart = charts.bars(
        _("Budget use per measure (10,000 yuan)"),
        [b.measure for b in balances],
        [
            (_("Appropriated"), [b.appropriated_fen / yuan_wan for b in balances]),
            (_("Committed"), [(b.committed_fen - b.released_fen) / yuan_wan for b in balances]),
            (_("Paid"), [b.paid_fen / yuan_wan for b in balances]),
        ],
    )
    pillar_fen: dict[str, int] = defaultdict(int)
    specs = _measures()
    for b in balances:
        spec = specs.get(b.measure)
        pillar_fen[spec.pillar if spec else "?"] += b.paid_fen
    pillars = [
        {"pillar": p, "name": lab("pillar", p), "paid_fen": fen}
        for p, fen in sorted(pillar_fen.items())
    ]
    pillar_chart = charts.pie(
        _("Paid per pillar (10,000 yuan)"), [(p["name"], p["paid_fen"] / yuan_wan) for p in pillars]
    )
    month_chart = charts.line(
        _("Payments per month (10,000 yuan)"),
        [m.month for m in months],
        [(_("Paid"), [m.amount_fen / yuan_wan for m in months])],
    )
    kinds = metrics.by_transferor_kind
    transfer_chart = charts.bars(
        _("Patent transfers by transferor"),
        [lab("transferor_kind", k.key) for k in kinds],
        [
            (_("Recorded"), [k.recorded for k in kinds]),
            (_("Put into production"), [k.implemented for k in kinds]),
        ],
    )
    return Markup(render_template(
        "_dashboard_body.html", year=year, years=years, balances=balances,
        months=months, metrics=metrics, pillars=pillars, budget_chart=budget_chart,
        pillar_chart=pillar_chart, month_chart=month_chart, transfer_chart=transfer_chart,
        measure_title=_measure_title,
    ))  # fmt: skip


@bp.route("/enterprises")
@requires("viewer")
def enterprises() -> Any:
    """Enterprises by name, credit code or town, a page at a time."""
    search = _text_arg("q")
    town = _text_arg("town", 20)
    if town and town not in TOWNS:
        town = ""
    page = _int_arg("page", 1, 1, 100_000) or 1
    rows = queries.enterprises(
        ledger(), search=search or None, town_code=town or None, offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )  # fmt: skip
    return render_template(
        "enterprises.html", rows=rows, has_next=rows.has_more, page=page,
        q=search, town=town, towns=sorted(TOWNS.values(), key=lambda t: t.code),
        town_name=town_name,
    )  # fmt: skip


@bp.route("/enterprises/<uscc>")
@requires("viewer")
def enterprise(uscc: str) -> Any:
    """One enterprise: balances by year, awards with payments, transfers, financing, trail.

    The awards and the trail are shown a page at a time (`awards=<page>`, `before=<position>`).
    """
    uscc = uscc[:40].strip().upper()
    before = _int_arg("before", None, 1)
    awards_page = _int_arg("awards", 1, 1, 100_000) or 1
    found = cached("enterprise", (uscc, before, awards_page),
                   lambda: _enterprise_body(uscc, before, awards_page))  # fmt: skip
    if found is None:
        abort(404)
    title, body = found
    return render_template("_frame.html", title=title, body=body)


class TrailRow(NamedTuple):
    """A trail entry as a page shows it."""

    position: int
    href: str
    recorded_at: str
    actor: str
    event_type: str
    doc_ref: str
    summary: str


def trail_rows(entries: Sequence[TrailEntry]) -> list[TrailRow]:
    """Trail entries with their display texts made once (links, Beijing time, language)."""
    if not entries:
        return []
    base = url_for("pages.event", position=1)[:-1]  # ".../events/": one url_for, not one per row
    english = is_english()
    return [
        TrailRow(
            r.position, f"{base}{r.position}", shanghai_time(r.recorded_at),
            r.actor or "—", event_kind(r.aggregate_type, r.event_type), r.doc_ref or "—",
            (r.summary_en or r.summary_zh) if english else r.summary_zh,
        )
        for r in entries
    ]  # fmt: skip


class AwardRow(NamedTuple):
    """An award as an enterprise page shows it, with its payments (date, yuan, voucher, status,
    the link to the payment's receipt)."""

    reference: str
    is_revoked: bool
    measure: str
    measure_href: str
    measure_title: str
    item: str
    decision_ref: str
    granted_on: str
    granted: str
    paid: str
    payments: list[tuple[str, str, str, str, str, str]]


def _award_rows(awards: Sequence[AwardPayments]) -> list[AwardRow]:
    links: dict[str, tuple[str, str]] = {}
    rows = []
    for found in awards:
        a = found.award
        if a.measure not in links:
            links[a.measure] = (url_for("pages.measure", code=a.measure), _measure_title(a.measure))
        href, title = links[a.measure]
        rows.append(AwardRow(
            a.reference, a.revoked, a.measure, href, title, item_name(a.item, a.measure),
            a.decision_ref, a.granted_on, yuan(a.granted_fen), yuan(a.paid_fen),
            [(d.paid_on, yuan(d.amount_fen), d.voucher_no, d.status,
              lab("disbursement_status", d.status),
              url_for("tlog.receipt", reference=d.reference)) for d in found.disbursements],
        ))  # fmt: skip
    return rows


_BALANCE_COLUMNS = ("granted_fen", "revoked_fen", "paid_fen", "pending_fen", "reversed_fen",
                    "clawback_ordered_fen", "clawback_recovered_fen", "outstanding_fen")  # fmt: skip


def _enterprise_body(uscc: str, before: int | None, awards_page: int) -> tuple[str, Markup] | None:
    """An enterprise page's title and content, or None if the views do not know it.

    Every display text (yuan, Beijing time, links, labels) is made here or looked up once per
    language, so the template only places strings: a page nobody asked for yet is cheap too.
    """
    app = ledger()
    found = queries.enterprise(app, uscc)
    if found is None:
        return None
    uscc = found.uscc
    awards = queries.awards_of(
        app, uscc, offset=(awards_page - 1) * AWARDS_PAGE_SIZE, limit=AWARDS_PAGE_SIZE
    )
    trail = queries.trail(app, uscc=uscc, newest_first=True, after_position=before, limit=TRAIL_PAGE_SIZE)
    balances = [
        Markup(f'<tr><th scope="row">{int(b.fiscal_year)}</th><td class="num">{int(b.awards)}</td>'
               + "".join([f'<td class="num">{yuan(getattr(b, c))}</td>' for c in _BALANCE_COLUMNS])
               + "</tr>")
        for b in found.balances
    ]  # a year, a count and yuan figures (digits, "¥,.-—"): nothing to escape; ~10 cells a year
    older = trail[-1].position if len(trail) == TRAIL_PAGE_SIZE else None
    return found.name, Markup(render_template(
        "_enterprise_body.html", e=found, T=texts(), town=town_name(found.town_code),
        balances=balances, awards=_award_rows(awards), awards_page=awards_page,
        more_awards=awards.has_more,
        transfers=queries.transfers(app, uscc=uscc, limit=200),
        financings=queries.financings(app, uscc=uscc, limit=200), trail=trail_rows(trail),
        newer_trail=before is not None, older=older,
    ))  # fmt: skip


@bp.route("/measures")
@requires("viewer")
def measures() -> Any:
    """The thirteen measures with their budgets and spending for a year."""
    app = ledger()
    year = _fiscal_year()
    balances = {b.measure: b for b in queries.measure_balances(app, fiscal_year=year)}
    return render_template(
        "measures.html", specs=ledger().catalogue.measures, balances=balances, year=year,
        years=queries.fiscal_years(app),
    )  # fmt: skip


@bp.route("/measures/<code>")
@requires("viewer")
def measure(code: str) -> Any:
    """One measure: its support items, budgets by year, metrics and trail."""
    spec = _measures().get(code.upper())
    if spec is None:
        abort(404)
    app = ledger()
    return render_template(
        "measure.html", spec=spec, balances=queries.measure_balances(app, code=spec.code),
        metrics=queries.metrics(app, measure=spec.code),
        trail=trail_rows(queries.trail(app, measure=spec.code, newest_first=True, limit=PAGE_SIZE)),
    )  # fmt: skip


@bp.route("/transfers")
@requires("viewer")
def transfers() -> Any:
    """Patent transfers and licences with their outcomes, newest first."""
    page = _int_arg("page", 1, 1, 100_000) or 1
    rows = queries.transfers(ledger(), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_template("transfers.html", rows=rows, page=page, has_next=rows.has_more)


@bp.route("/financing")
@requires("viewer")
def financing() -> Any:
    """IP-backed financings (pledge loans, insurance, securitisation), newest first."""
    page = _int_arg("page", 1, 1, 100_000) or 1
    rows = queries.financings(ledger(), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_template("financing.html", rows=rows, page=page, has_next=rows.has_more)


@bp.route("/audit")
@requires("auditor")
def audit() -> Any:
    """Latest signed tree heads, the last verification, and an inclusion proof on request."""
    app = ledger()
    heads = reads.latest_heads(app, 10)
    verification = reads.last_verification(app)
    position = _int_arg("position", None, 1)
    tree_size = _int_arg("tree_size", None, 1)
    proof = None
    proof_error = None
    if position is not None:
        try:
            proof = reads.inclusion_proof(app, position, tree_size)
        except reads.NotInLog:
            proof_error = _(
                "Position %(p)d is not in a tree of that size (the Merkle log holds %(n)d events).",
                p=position, n=reads.merkle_size(app),
            )
    return render_template(
        "audit.html", heads=heads, verification=verification, problems=[],
        position=position, tree_size=tree_size, proof=proof, proof_error=proof_error,
    )  # fmt: skip


@bp.route("/events/<int:position>")
@requires("viewer")
def event(position: int) -> Any:
    """One event of the log by its position: what it says, who caused it, when."""
    found = reads.event_at(ledger(), position)
    if found is None:
        abort(404)
    return render_template("event.html", ev=found)


@bp.route("/exports/trail.csv")
@requires("auditor")
def export_trail() -> Any:
    """The audit trail as CSV (UTF-8 with BOM for spreadsheets), filtered like the API."""
    after = _int_arg("after", 0, 0) or 0
    limit = _int_arg("limit", REQUEST_MAX, 1, REQUEST_MAX) or REQUEST_MAX
    filters = {k: v for k in ("uscc", "measure", "actor") if (v := _text_arg(k, 200))}
    rows = [e.to_dict() for e in queries.trail(ledger(), after_position=after, limit=limit, **filters)]
    out = io.StringIO()
    columns = ["position", "recorded_at", "actor", "event_type", "uscc", "award_reference",
               "measure", "doc_ref", "summary_zh", "summary_en"]  # fmt: skip
    writer = SafeDictWriter(out, columns, extrasaction="ignore")  # no formulas (ledger.csvsafe)
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        "\ufeff" + out.getvalue(), mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=trail.csv"},
    )  # fmt: skip


@bp.before_request
def _share_reads() -> None:
    """A page's queries share one pooled connection (`projections.recorder.shared_reads`)."""
    g.shared_reads = queries.shared_reads()
    g.shared_reads.__enter__()


@bp.teardown_request
def _end_shared_reads(_error: BaseException | None) -> None:
    shared = g.pop("shared_reads", None)
    if shared is not None:
        shared.__exit__(None, None, None)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(audit_files.bp)  # head.json, proof.json (the audit page's downloads)
    display.init_app(app)
    app.jinja_env.globals.update(freshness=freshness, town_name=town_name)
