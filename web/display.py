"""How a value is shown on a page: labels from `ledger.labels` in the request's language, units
on every figure (%, 天, 万元, 倍), and an event's fields laid out per event type.

The templates call these as globals and filters (registered by `init_app`): `lab('mode', code)`,
`item_name(code, measure)`, `event_kind(aggregate, event_type)`, `days`, `times`, `roles_text`,
`event_fields(ev)`, `verification_rows(report)`, `error_title(status)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from flask import Flask
from flask_babel import gettext as _

from ledger.disclosure import allowed_fields
from ledger.labels import (
    Label,
    bool_label,
    event_label_by_name,
    field_label,
    item_label,
    label,
    measure_label,
    town_label,
)
from web.i18n import is_english, percent, shanghai_time, yuan


def text(found: Label) -> str:
    """A label in the request's language."""
    return found.en if is_english() else found.zh


def lab(vocabulary: str, code: Any) -> str:
    """A code of a vocabulary (`mode`, `instrument`, `disbursement_status` …) as people read it."""
    return text(label(vocabulary, code))


def item_name(code: Any, measure: Any = None) -> str:
    """A support item's title from the catalogue."""
    return text(item_label(code, measure))


def measure_name(code: Any) -> str:
    """A measure's code and title ("M10 …")."""
    return text(measure_label(code))


def event_kind(aggregate: str, event_type: str) -> str:
    """What an event records ("拨付已审批" / "Disbursement approved"), by the trail's names."""
    return text(event_label_by_name(aggregate, event_type))


def event_kind_of_topic(topic: str) -> str:
    """The same from a stored topic (module, then ":Award.DisbursementApproved")."""
    aggregate, _sep, event_type = topic.rpartition(":")[2].partition(".")
    return event_kind(aggregate, event_type)


def roles_text(roles: Iterable[str]) -> str:
    """Roles as people read them, joined ("审计人员、查阅人员" / "Auditor, Viewer")."""
    names = [lab("role", r) for r in sorted(roles)]
    return ", ".join(names) if is_english() else "、".join(names)


def days(value: Any) -> str:
    """A number of days with its unit ("12 天" / "12 days"); "—" for none."""
    if value is None:
        return "—"
    number = f"{float(value):,.1f}".removesuffix(".0")
    return f"{number} days" if is_english() else f"{number} 天"


def times(value: Any) -> str:
    """A multiple ("2.35 倍" / "2.35×"); "—" for none."""
    if value is None:
        return "—"
    return f"{float(value):,.2f}×" if is_english() else f"{float(value):,.2f} 倍"


def count(value: Any, unit_zh: str = "笔", unit_en: str = "") -> str:
    """A count with its unit ("12 笔"); English shows the bare number unless a unit is given."""
    if value is None:
        return "—"
    return f"{int(value):,} {unit_en}".rstrip() if is_english() else f"{int(value):,} {unit_zh}"


# -- an event's fields, per event type --------------------------------------------------------

_VOCABULARY_OF_FIELD = {
    "transferor_kind": "transferor_kind", "mode": "mode", "instrument": "instrument",
    "outcome": "outcome", "role": "role", "command_type": "command_type", "pillar": "pillar",
    "event": "financing_event", "kind": "item_kind",
}  # fmt: skip


class FieldRow(NamedTuple):
    """One line of an event page: the field's label, its value as text, nested lines (a
    command's content, a measure's items)."""

    name: str
    value: str
    nested: Sequence[FieldRow] = ()


def field_value(name: str, value: Any, fields: dict[str, Any] | None = None) -> str:
    """One field's value as people read it (yuan, labels, titles, Beijing time, yes/no)."""
    fields = fields or {}
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return text(bool_label(value))
    if name.endswith("_fen") and isinstance(value, int):
        return yuan(value)
    if name in _VOCABULARY_OF_FIELD:
        return lab(_VOCABULARY_OF_FIELD[name], value)
    if name == "roles" and isinstance(value, list):
        return roles_text(value)
    if name in ("item", "item_code") and isinstance(value, str):
        return item_name(value, fields.get("measure"))
    if name == "measure":
        return measure_name(value)
    if name == "town_code":
        return text(town_label(value))
    if name == "annual_rate_bp" and isinstance(value, int):
        return percent(value / 10_000, 2)
    if name == "term_months" and isinstance(value, int):
        return f"{value} months" if is_english() else f"{value} 个月"
    if name.endswith("_at") and isinstance(value, str):
        return shanghai_time(value)
    if isinstance(value, list):
        return "；".join(field_value(name, v, fields) for v in value) or "—"
    return str(value)


def _rows(fields: dict[str, Any], order: Sequence[str]) -> list[FieldRow]:
    names = [n for n in order if n in fields] + sorted(set(fields) - set(order))
    rows = []
    if "title_zh" in fields and "title_en" in fields:  # a measure's title, in one language
        fields = {**fields, "title": fields["title_en" if is_english() else "title_zh"]}
        names = [("title" if n == "title_zh" else n) for n in names if n != "title_en"]
    for name in names:
        value = fields[name]
        title = text(field_label(name))
        if isinstance(value, dict):  # a command's content: its own fields, labelled
            rows.append(FieldRow(title, "", _rows(value, ())))
        elif name == "items" and isinstance(value, list):  # a measure's items: their titles
            nested = [FieldRow(pick_title(v), item_summary(v)) for v in value if isinstance(v, dict)]
            rows.append(FieldRow(title, "" if nested else "—", nested))
        elif name == "item" and isinstance(value, dict):
            rows.append(FieldRow(title, pick_title(value)))
        else:
            rows.append(FieldRow(title, field_value(name, value, fields)))
    return rows


def pick_title(item: dict[str, Any]) -> str:
    """A catalogue item's title from its JSON form (as a Measure.Defined event holds it)."""
    return str(item.get("title_en") if is_english() else item.get("title_zh") or item.get("code"))


def item_summary(item: dict[str, Any]) -> str:
    """A catalogue item's kind and maximum ("补贴，最高 ¥20,000.00")."""
    kind = lab("item_kind", item.get("kind"))
    most = item.get("max_fen")
    if most is None:
        return kind
    return f"{kind}, up to {yuan(most)}" if is_english() else f"{kind}，最高 {yuan(most)}"


def event_fields(ev: dict[str, Any]) -> list[FieldRow]:
    """An event's public fields in its type's order (the allow-list's), each labelled."""
    fields = {k: v for k, v in (ev.get("fields") or {}).items() if k != "actor"}  # shown above
    return _rows(fields, allowed_fields(ev.get("topic") or ""))


# -- the audit's last verification ------------------------------------------------------------


def verification_rows(report: dict[str, Any]) -> list[FieldRow]:
    """The last verification as labelled lines: its result in words, when, what was checked."""
    intact = bool(report.get("intact"))
    result = label("verification_result", "intact" if intact else "tampered")
    rows = [
        FieldRow(_("Result"), text(result)),
        FieldRow(_("Started at"), shanghai_time(report.get("started_at"))),
        FieldRow(_("Finished at"), shanghai_time(report.get("finished_at"))),
        FieldRow(_("Events checked"), count(report.get("events_checked"), "个")),
        FieldRow(_("Signed tree heads checked"), count(report.get("heads_checked"), "个")),
    ]
    if report.get("against_checked"):
        rows.append(FieldRow(_("Heads kept outside checked"), count(report["against_checked"], "个")))
    if not intact:
        findings = report.get("findings") or []
        first = report.get("first_position")
        rows.append(FieldRow(_("First position that differs"), "—" if first is None else str(first)))
        rows.append(FieldRow(_("Findings"), count(len(findings), "项"), [
            FieldRow(lab("finding_kind", f.get("kind")), _position_text(f)) for f in findings[:50]
        ]))  # fmt: skip
    return rows


def _position_text(finding: dict[str, Any]) -> str:
    if finding.get("position") is not None:
        return _("log position %(p)d", p=int(finding["position"]))
    if finding.get("head_id") is not None:
        return _("tree head %(h)d", h=int(finding["head_id"]))
    return "—"


# -- error pages ------------------------------------------------------------------------------


def error_title(status: int) -> str:
    """An HTTP error's title in the request's language."""
    titles = {
        400: _("The request is not valid"), 401: _("Sign-in needed"),
        403: _("Not allowed"), 404: _("Not found"), 405: _("Not allowed this way"),
        413: _("The request is too large"), 429: _("Too many requests"),
        500: _("Something went wrong"), 503: _("Not available just now"),
    }  # fmt: skip
    return titles.get(int(status), _("The request failed"))


def error_message(status: int, message: Any) -> str:
    """What to tell people: the page's own message where it has one in their language, else a
    plain sentence for the status."""
    if int(status) in (401, 403, 404) and message:
        return str(message)
    messages = {
        400: _("Something in the address or the form is not valid. Check it and try again."),
        405: _("This page cannot be used like that."),
        413: _("What was sent is too large."),
        429: _("Too many attempts. Wait a little and try again."),
        500: _("Something went wrong on our side; it has been logged."),
        503: _("The ledger is busy or catching up. Try again in a moment."),
    }
    return messages.get(int(status), _("The request could not be answered."))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        lab=lab, item_name=item_name, measure_name=measure_name, event_kind=event_kind,
        event_kind_of_topic=event_kind_of_topic, roles_text=roles_text, event_fields=event_fields,
        verification_rows=verification_rows, error_title=error_title, error_message=error_message,
    )  # fmt: skip
    app.jinja_env.filters.update(days=days, times=times, count=count)

