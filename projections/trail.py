"""The audit-trail index: one row per event, with a one-line summary in English and Chinese.

Each row names what the event concerns (enterprise, award, measure) so the trail can be
searched by them, and the decision reference (文号) or voucher number that backs it. The rows
hold only these facts; the summaries are written when rows are read, from their events in the
log (`projections.summaries`; a rebuild writes one row per event, so every byte and
microsecond per row counts). Both dispatch on the domain's event classes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from ledger.disclosure import public_fields
from ledger.domain import Award, Budget, CommandReceipt, Enterprise, Financing, PatentTransfer, User
from ledger.domain.events import AGGREGATE_OF, names_of
from projections import tables as t
from projections.summaries import receipt_summary, summaries

if TYPE_CHECKING:
    from ledger.application import SupportLedger
    from projections.state import ViewState


def recorded_at_text(value: Any) -> str:
    """An instant as the trail shows it: ISO 8601 in UTC with microseconds, e.g.
    2025-03-01T08:00:00.000000+00:00 (same length for every instant, so text order is time
    order)."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def recorded_us(value: datetime) -> int:
    """An aware instant as the trail stores it (`recorded_at`): microseconds since 1970-01-01
    UTC (a number is quicker to make, store, index and compare than its text)."""
    return (value - _EPOCH) // _MICROSECOND


def recorded_text(us: int) -> str:
    """The stored instant `us` as `recorded_at_text` writes it."""
    return recorded_at_text(_EPOCH + timedelta(microseconds=int(us)))


_DECISIONS = frozenset(("approve_disbursement", "reject_disbursement", "reverse_disbursement"))


def receipt_trail_row(state: ViewState, e: Any, position: int) -> tuple[Any, ...]:
    """The trail row of a command receipt (the commonest event): it names what the command's
    content names, and for a decision on a disbursement that disbursement's award and
    voucher."""
    g = e.__dict__.get
    content = g("content") or {}
    uscc = content.get("uscc")
    measure = content.get("measure")
    award_reference = content.get("award_reference")
    doc_ref = content.get("decision_ref") or content.get("voucher_no")
    command_type = g("command_type")
    if command_type == "grant_award":
        award_reference = content.get("reference")
    elif command_type in _DECISIONS:
        disbursement = state.get(t.DISBURSEMENTS, (content.get("reference"),))
        if disbursement is not None:
            award_reference = disbursement["award_reference"]
            doc_ref = disbursement["voucher_no"]
    if award_reference is not None and uscc is None:
        award = state.get(t.AWARDS, (award_reference,))
        if award is not None:
            uscc, measure = award["uscc"], award["measure"]
    return (position, recorded_us(e.timestamp), g("actor"), uscc, award_reference, measure,
            doc_ref)  # fmt: skip


#: Award events whose trail row names the disbursement's voucher.
_DISBURSEMENT_EVENTS = frozenset((
    Award.DisbursementRecorded, Award.DisbursementApproved, Award.DisbursementRejected,
    Award.DisbursementReversed,
))  # fmt: skip


def trail_row(state: ViewState, e: Any, position: int, originator: str) -> tuple[Any, ...]:
    """The trail row of an event, after the state has taken it in (a tuple in the column
    order of `tables.TRAIL`). The row holds what the trail is searched by; the event's
    aggregate, type and summaries are read from the log with it (`render`)."""
    aggregate = AGGREGATE_OF.get(type(e))
    if aggregate is CommandReceipt:
        return receipt_trail_row(state, e, position)
    g = e.__dict__.get
    uscc = award_reference = measure = None
    doc_ref = g("decision_ref") or g("voucher_no")
    if aggregate is Award:
        award = state.get(t.AWARDS, state.cache.key_by_id(t.AWARDS, originator))
        if award is not None:
            uscc, award_reference, measure = award["uscc"], award["reference"], award["measure"]
        if doc_ref is None and type(e) in _DISBURSEMENT_EVENTS:
            disbursement = state.get(t.DISBURSEMENTS, (g("reference"),))
            doc_ref = disbursement["voucher_no"] if disbursement is not None else None
    elif aggregate is Budget:
        key = state.cache.key_by_id(t.MEASURE_BALANCES, originator)
        if key is not None:
            measure = key[0]
        award_reference = g("award_reference")
    elif aggregate is Enterprise:
        uscc = g("uscc")
        if not uscc:
            key = state.cache.key_by_id(t.ENTERPRISES, originator)
            uscc = key[0] if key is not None else None
        award_reference = g("award_reference")
    elif aggregate is PatentTransfer or aggregate is Financing:
        table = t.TRANSFERS if aggregate is PatentTransfer else t.FINANCINGS
        row = state.get(table, state.cache.key_by_id(table, originator))
        uscc = row["uscc"] if row is not None else None
    return (position, recorded_us(e.timestamp), g("actor"), uscc, award_reference, measure,
            doc_ref)  # fmt: skip


# -- summaries, written when the trail is read ----------------------------------------------

Query = Callable[..., list[dict[str, Any]]]

#: Positions closer than this are read from the log in one range rather than one by one.
_GAP = 64


def _events_at(app: SupportLedger, positions: list[int]) -> dict[int, Any]:
    """The notifications at these positions of the log, by position (read in runs)."""
    wanted = sorted(set(positions))
    found: dict[int, Any] = {}
    i = 0
    while i < len(wanted):
        j = i
        while j + 1 < len(wanted) and wanted[j + 1] - wanted[j] <= _GAP:
            j += 1
        start, stop = wanted[i], wanted[j]
        for n in app.recorder.select_notifications(start=start, limit=stop - start + 1, stop=stop):
            found[n.id] = n
        i = j + 1
    return found


def _lookup(query: Query, sql: str, ids: set[str]) -> dict[str, Any]:
    if not ids:
        return {}
    marks = ", ".join("%s" for _ in ids)
    return {r["id"]: r for r in query(sql.format(marks=marks), sorted(ids))}


def _decoded(app: SupportLedger, rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Any, str]]:
    """(row, its event or None, the event's aggregate id) for trail rows, from the log."""
    notifications = _events_at(app, [int(r["position"]) for r in rows])
    to_domain_event = app.mapper.to_domain_event
    out = []
    for r in rows:
        n = notifications.get(int(r["position"]))
        if n is None:  # not in the log (cannot happen: the views follow it)
            out.append((r, None, ""))
        else:
            out.append((r, to_domain_event(n), str(n.originator_id)))
    return out


def _named(query: Query, found: list[tuple[dict[str, Any], Any, str]]) -> dict[str, Any]:
    """What the views name the budgets, transfers and financings among these events by:
    aggregate id → {measure, fiscal_year} or {reference}."""
    ids: dict[type, set[str]] = {Budget: set(), PatentTransfer: set(), Financing: set()}
    for _r, event, oid in found:
        wanted = ids.get(AGGREGATE_OF.get(type(event)))  # type: ignore[arg-type]
        if wanted is not None:
            wanted.add(oid)
    return {
        **_lookup(query, "SELECT budget_id AS id, measure, fiscal_year FROM "
                  "{{q}}pv_measure_balances WHERE budget_id IN ({marks})", ids[Budget]),
        **_lookup(query, "SELECT transfer_id AS id, reference FROM {{q}}pv_transfers "
                  "WHERE transfer_id IN ({marks})", ids[PatentTransfer]),
        **_lookup(query, "SELECT financing_id AS id, reference FROM {{q}}pv_financings "
                  "WHERE financing_id IN ({marks})", ids[Financing]),
    }  # fmt: skip


def _context(
    aggregate: Any, r: dict[str, Any], oid: str, e: Any, named: dict[str, Any]
) -> dict[str, Any]:
    """What a summary names beside the event's own fields: from the trail row and the views."""
    ctx: dict[str, Any] = {}
    if aggregate is Award:
        if r["award_reference"] is not None:
            ctx["award_reference"] = r["award_reference"]
    elif aggregate is Budget:
        budget = named.get(oid)
        if budget is not None:
            ctx["measure"], ctx["fiscal_year"] = budget["measure"], int(budget["fiscal_year"])
    elif aggregate is Enterprise:
        ctx["uscc"] = r["uscc"]
    elif aggregate is PatentTransfer or aggregate is Financing:
        reference = named.get(oid)
        ctx["reference"] = reference["reference"] if reference is not None else None
    elif aggregate is User:
        ctx["user"] = e.__dict__.get("name") or oid
    return ctx


Rendered = tuple[str, str, str, str, str]


def _rendered(r: dict[str, Any], event: Any, oid: str, named: dict[str, Any]) -> Rendered:
    if event is None:
        return ("", oid, "", ".", ".")
    event_class = type(event)
    aggregate_type, event_type = names_of(event_class)
    # Summaries are made from the fields the event type's allow-list shows, nothing else.
    e = SimpleNamespace(**public_fields(event_class, vars(event)))
    if event_class is CommandReceipt.Accepted:
        g = e.__dict__.get
        command_type, key = g("command_type"), g("key")
        return (aggregate_type, oid, event_type, *receipt_summary(command_type, key))
    ctx = _context(AGGREGATE_OF.get(event_class), r, oid, e, named)
    try:
        summary_en, summary_zh = summaries(event_class, e, ctx)
    except (AttributeError, KeyError, TypeError):  # an event shape this code does not know
        summary_en = summary_zh = f"{aggregate_type}.{event_type}"
    return (aggregate_type, oid, event_type, summary_en[:500], summary_zh[:500])


def render(app: SupportLedger, query: Query, rows: list[dict[str, Any]]) -> list[Rendered]:
    """(aggregate type, aggregate id, event type, English summary, Chinese summary) of trail
    rows, from their events in the log and what the rows and the views name (the same text
    for an event whenever it is read).

    `query(sql, params)` reads the views (`{q}` the table prefix, `%s` the placeholder).
    """
    if not rows:
        return []
    found = _decoded(app, rows)
    named = _named(query, found)
    return [_rendered(r, event, oid, named) for r, event, oid in found]
