"""The fiscal indicators page (财政指标), its 说明 (help) page and its JSON.

`/indicators?year=Y[&scope=district|pillar|measure|town][&on_time_days=N]` shows 预算执行率,
承诺率, 结余率, payment timing and 按时拨付率, clawback recovery, conversion, pledge leverage and
the interest-subsidy share per district, pillar, measure and town, and the monthly payment
progress as a chart with its table. `/indicators/help` explains each indicator (from
`projections.queries.indicator_definitions`); `/indicators.json` gives the same figures in fen.
The on-time threshold defaults to `LEDGER_ON_TIME_DAYS` (30).
"""

from __future__ import annotations

import os
import re
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from ledger import labels
from ledger.identifiers import TOWNS
from projections import queries
from projections.queries.indicator_definitions import DEFINITIONS
from projections.queries.indicators import (
    ON_TIME_DAYS_DEFAULT,
    ON_TIME_DAYS_MAX,
    ON_TIME_DAYS_MIN,
    IndicatorReport,
    indicators,
)
from web import progress_chart
from web.auth import ledger, requires
from web.cache import cached
from web.i18n import PILLARS, is_english, percent, pick
from web.query_args import BadQuery, int_arg, text_arg

bp = Blueprint("indicators", __name__)

SCOPES = ("district", "pillar", "measure", "town")


def year_arg() -> int | None:
    """The fiscal year asked for (2000..2100), else the newest year with a budget."""
    year = int_arg("year", 2000, 2100, "invalid_year", "财政年度", "the fiscal year")
    if year is None:
        years = queries.fiscal_years(ledger())
        return years[0] if years else None
    return year


def _on_time_days() -> int:
    default = current_app.config.get("LEDGER_ON_TIME_DAYS", ON_TIME_DAYS_DEFAULT)
    found = int_arg("on_time_days", ON_TIME_DAYS_MIN, ON_TIME_DAYS_MAX, "invalid_on_time_days",
                    "按时拨付天数", "the on-time threshold in days", default)  # fmt: skip
    return int(found or ON_TIME_DAYS_DEFAULT)


def _scope() -> str:
    scope = text_arg("scope")
    if scope and scope not in SCOPES:
        raise BadQuery("invalid_scope", "范围应为全区、板块、措施或街镇之一",
                       "the scope must be district, pillar, measure or town")  # fmt: skip
    return scope


def wan2(amount_fen: Any) -> str:
    """An amount rounded for reading: "1,890.84 万元" / "¥18.91 m" (two decimals); "—" for none."""
    if amount_fen is None:
        return "—"
    if is_english():
        return f"¥{int(amount_fen) / 100_000_000:,.2f} m"
    return f"{int(amount_fen) / 1_000_000:,.2f} 万元"


def days(value: Any) -> str:
    """Days as people read them: "44 天" / "44 days"; "—" for none."""
    if value is None:
        return "—"
    return f"{float(value):g} days" if is_english() else f"{float(value):g} 天"


def times(value: Any) -> str:
    """A multiple: "162.72 倍" / "162.72×"."""
    if value is None:
        return "—"
    return f"{float(value):,.2f}×" if is_english() else f"{float(value):,.2f} 倍"


def scope_name(scope: str, key: str) -> str:
    """A scope's name in the request's language (a measure with its code and title)."""
    if scope == "district":
        return _("Whole district")
    if scope == "pillar":
        return pick(*PILLARS.get(key, (key, key)))
    if scope == "town":
        town = TOWNS.get(key)
        return pick(town.name_zh, town.name_en) if town else key
    spec = next((m for m in ledger().catalogue.measures if m.code == key), None)
    return f"{key} {pick(spec.title_zh, spec.title_en)}" if spec else key


def _columns() -> list[tuple[str, str, Any]]:
    """The table's columns: (field, label, formatter)."""
    return [
        ("appropriated_fen", _("Appropriated"), wan2),
        ("paid_fen", _("Net paid"), wan2),
        ("execution_rate", _("Budget execution rate"), percent),
        ("commitment_rate", _("Commitment rate"), percent),
        ("balance_rate", _("Balance rate"), percent),
        ("median_days_to_payment", _("Median days to payment"), days),
        ("p90_days_to_payment", _("P90 days to payment"), days),
        ("on_time_rate", _("On-time payment rate"), percent),
        ("clawback_recovery_rate", _("Clawback recovery rate"), percent),
        ("conversion_rate", _("Patent conversion rate"), percent),
        ("leverage", _("Pledge-financing leverage"), times),
        ("interest_subsidy_share", _("Interest-subsidy share"), percent),
    ]


def _tables(report: IndicatorReport, scope: str) -> list[dict[str, Any]]:
    columns = _columns()
    titles = {"district": _("Whole district"), "pillar": _("By pillar"),
              "measure": _("By measure"), "town": _("By town")}  # fmt: skip
    chosen = {"district": (report.district,), "pillar": report.pillars,
              "measure": report.measures, "town": report.towns}  # fmt: skip
    return [
        {"scope": s, "title": titles[s], "labels": [label for _f, label, _x in columns],
         "rows": [(scope_name(i.scope, i.key), [fmt(getattr(i, f)) for f, _l, fmt in columns])
                  for i in chosen[s]]}
        for s in SCOPES if not scope or scope == s
    ]  # fmt: skip


def _body(year: int, scope: str, on_time_days: int) -> Markup:
    report = indicators(ledger(), year, on_time_days)
    progress = report.progress_of("district")
    return Markup(render_template(
        "_indicators_body.html", year=year, years=queries.fiscal_years(ledger()), report=report,
        scope=scope, tables=_tables(report, scope), progress=progress,
        chart=progress_chart.progress_chart(progress, _("Payment progress of the district")),
        on_time_days=on_time_days,
    ))  # fmt: skip


@bp.route("/indicators")
@requires("viewer")
def page() -> Any:
    """The indicators of a fiscal year, per scope, with the monthly payment progress."""
    year, scope, on_time_days = year_arg(), _scope(), _on_time_days()
    if year is None:
        body = Markup(render_template("_indicators_body.html", year=None, years=[]))
    else:
        body = cached("indicators", (year, scope, on_time_days), lambda: _body(year, scope, on_time_days))
    return render_template("_frame.html", title=_("Fiscal indicators"), body=body)


@bp.route("/indicators.json")
@requires("viewer")
def as_json() -> Any:
    """The indicators of a fiscal year in JSON (amounts in fen, ratios to four places)."""
    year = int_arg("year", 2000, 2100, "invalid_year", "财政年度", "the fiscal year")
    if year is None:
        raise BadQuery("invalid_year", "请指定财政年度（year）", "give the fiscal year (year)")
    return jsonify(indicators(ledger(), year, _on_time_days()).to_dict())


@bp.route("/indicators/help")
@requires("viewer")
def help_page() -> Any:
    """说明: what each indicator means, its formula, unit and the events it is computed from."""
    shown = [_readable(d) for d in DEFINITIONS]
    return render_template("indicators_help.html", definitions=shown,
                           default_days=current_app.config.get("LEDGER_ON_TIME_DAYS"))  # fmt: skip


_CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
_TOPIC = re.compile(r"\b([A-Z][A-Za-z]+)\.([A-Z][A-Za-z]+)\b")


def _words(text: str, lang: str) -> str:
    """A definition's text with the field names and codes it mentions in words."""

    def word(match: re.Match[str]) -> str:
        code = match.group(0)
        if code in labels.FIELDS:
            return labels.field_label(code).text(lang)
        for vocabulary in labels.VOCABULARIES.values():
            if code in vocabulary:
                return vocabulary[code].text(lang)
        return code.replace("_", " ")

    return _CODE.sub(word, text)


def _readable(d: Any) -> dict[str, Any]:
    """One definition as the help page shows it, in Chinese and English, codes in words."""

    def sources(lang: str) -> str:
        def event(match: re.Match[str]) -> str:
            return labels.event_label_by_name(match.group(1), match.group(2)).text(lang)

        return _words(_TOPIC.sub(event, d.sources), lang)

    return {
        "field": d.field, "name_zh": d.name_zh, "name_en": d.name_en,
        "unit_zh": d.unit_zh, "unit_en": d.unit_en,
        "formula_zh": _words(d.formula_zh, "zh"), "formula_en": _words(d.formula_en, "en"),
        "sources_zh": sources("zh"), "sources_en": sources("en"),
    }  # fmt: skip


def _configured_days() -> int:
    raw = os.environ.get("LEDGER_ON_TIME_DAYS", "").strip()
    if raw.isdigit() and ON_TIME_DAYS_MIN <= int(raw) <= ON_TIME_DAYS_MAX:
        return int(raw)
    return ON_TIME_DAYS_DEFAULT


def init_app(app: Flask) -> None:
    from web import query_args

    app.config.setdefault("LEDGER_ON_TIME_DAYS", _configured_days())
    query_args.init_app(app)
    app.register_blueprint(bp)
    app.jinja_env.filters.setdefault("wan2", wan2)
