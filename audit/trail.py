"""``ledger audit trail``: every event about an enterprise, an award, an actor or a measure.

The trail is read from the event log itself (not from the projections' index), so it is always
complete and current and shares nothing with the views it may be compared with. Each entry has
the event's log position, its recorded time in Asia/Shanghai, the actor, the aggregate and event
type, a one-line summary, and the decision reference (文号) or voucher number that backs it.
A command's receipt is listed beside the events the command caused.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import ledger.domain as domain
from audit.events import as_aware, iter_events
from ledger.disclosure import public_fields
from ledger.domain.events import names_of
from ledger.money import format_yuan
from ledger.shanghai import shanghai_iso as shanghai_time

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: The most entries one call returns.
MAX_LIMIT = 10_000

#: Event attributes that are not part of a summary (the library's and the trail's own columns).
_SKIP = {"originator_id", "originator_version", "timestamp", "actor", "originator_topic"}


#: The longest summary line (characters).
SUMMARY_MAX = 240


def _field(name: str, value: Any) -> str:
    if name.endswith("_fen") and isinstance(value, int):
        return f"{name[:-4]}={format_yuan(value)} yuan"
    return f"{name}={_value(value)}"


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return f"{{{len(value)} fields}}"
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, (dict, list, tuple)) for v in value):
            return f"[{len(value)} entries]"
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def summary(event: Any) -> str:
    """A one-line summary: the event type and its recorded fields (amounts in yuan)."""
    shown = public_fields(event, vars(event))  # the event type's allow-list, nothing else
    fields = {k: v for k, v in shown.items() if k not in _SKIP and v is not None}
    if isinstance(event, domain.CommandReceipt.Accepted):
        fields = {"command": f"{fields.get('command_type')} {fields.get('key')}"}
    text = ", ".join(_field(k, v) for k, v in fields.items())
    event_type = type(event).__name__
    line = f"{event_type}: {text}" if text else event_type
    return line if len(line) <= SUMMARY_MAX else line[: SUMMARY_MAX - 1] + "…"


class _Context:
    """What each aggregate is about (enterprise, award, measure), learnt from its first event."""

    def __init__(self) -> None:
        self.by_id: dict[Any, dict[str, Any]] = {}

    def about(self, event: Any) -> dict[str, Any]:
        ctx = self.by_id.setdefault(event.originator_id, {})
        g = vars(event).get
        match event:
            case domain.Award.Granted():
                ctx.update(uscc=g("uscc"), award_reference=g("reference"), measure=g("measure"))
            case (domain.Enterprise.Registered() | domain.PatentTransfer.Recorded()
                  | domain.Financing.Registered()):  # fmt: skip
                ctx.update(uscc=g("uscc"))
            case domain.Budget.Opened():
                ctx.update(measure=g("measure"))
            case domain.Measure.Defined():
                ctx.update(measure=g("code"))
        about = dict(ctx)
        if g("award_reference"):  # budget commitments and cap commitments name their award
            about["award_reference"] = g("award_reference")
        if isinstance(event, domain.CommandReceipt.Accepted):
            content = g("content") or {}
            about.update(
                {k: content[k] for k in ("uscc", "award_reference", "measure") if content.get(k)}
            )
            if g("command_type") == "grant_award":
                about["award_reference"] = content.get("reference")
        return about


def _doc_ref(event: Any) -> str | None:
    g = vars(event).get
    ref = g("decision_ref") or g("voucher_no")
    if ref is None and isinstance(event, domain.CommandReceipt.Accepted):
        content = g("content") or {}
        ref = content.get("decision_ref") or content.get("voucher_no")
    return ref


def iter_trail(
    app: SupportLedger,
    *,
    uscc: str | None = None,
    award_reference: str | None = None,
    actor: str | None = None,
    measure: str | None = None,
    from_at: datetime | str | None = None,
    to_at: datetime | str | None = None,
    after_position: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every matching entry in log order (see :func:`trail`), without a limit."""
    start = as_aware(from_at) if from_at is not None else None
    end = as_aware(to_at) if to_at is not None else None
    uscc = uscc.strip().upper() if uscc else None
    measure = measure.strip().upper() if measure else None
    context = _Context()
    for position, event in iter_events(app):
        about = context.about(event)  # every event teaches the context, matching or not
        if after_position is not None and position <= after_position:
            continue
        if uscc and about.get("uscc") != uscc:
            continue
        if award_reference and about.get("award_reference") != award_reference:
            continue
        if measure and about.get("measure") != measure:
            continue
        event_actor = vars(event).get("actor")
        if actor and event_actor != actor:
            continue
        if start is not None and event.timestamp < start:
            continue
        if end is not None and event.timestamp >= end:
            continue
        aggregate, event_type = names_of(type(event))
        yield {
            "position": position,
            "recorded_at": shanghai_time(event.timestamp),
            "actor": event_actor,
            "aggregate": aggregate,
            "aggregate_id": str(event.originator_id),
            "event_type": event_type,
            "summary": summary(event),
            "doc_ref": _doc_ref(event),
            "uscc": about.get("uscc"),
            "award_reference": about.get("award_reference"),
            "measure": about.get("measure"),
        }


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
) -> list[dict[str, Any]]:
    """Trail entries matching every filter given, in log order, at most ``limit`` (≤ 10,000).

    ``from_at`` is inclusive and ``to_at`` exclusive; naive instants are taken as UTC (the CLI
    reads its ``--from``/``--to`` as Asia/Shanghai and converts). Page on with
    ``after_position`` = the last entry's position.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    out = []
    for entry in iter_trail(
        app, uscc=uscc, award_reference=award_reference, actor=actor, measure=measure,
        from_at=from_at, to_at=to_at, after_position=after_position,
    ):  # fmt: skip
        out.append(entry)
        if len(out) >= limit:
            break
    return out


TRAIL_COLUMNS = ("position", "recorded_at", "actor", "aggregate", "event_type", "summary",
                 "doc_ref", "uscc", "award_reference", "measure", "aggregate_id")  # fmt: skip
