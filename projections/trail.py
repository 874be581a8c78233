"""The audit-trail index: one row per event, with a one-line summary in English and Chinese.

Each row names what the event concerns (enterprise, award, measure) so the trail can be
searched by them, and the decision reference (文号) or voucher number that backs it. The rows
hold only these facts; the summaries are written when rows are read, from their events in the
log (a rebuild writes one row per event, so every byte and microsecond per row counts).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from ledger.disclosure import public_fields
from ledger.money import format_yuan
from projections import tables as t

if TYPE_CHECKING:
    from ledger.application import SupportLedger

if TYPE_CHECKING:
    from projections.state import ViewState


_y = format_yuan  # fen as yuan text, e.g. "1,234.56"


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


def _summaries(kind: str, e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    """(English, Chinese) one-line summaries of an event."""
    ref = ctx.get("award_reference")
    g = e.__dict__.get
    match kind:
        case "CommandReceipt.Accepted":
            return (f"command {e.command_type} {e.key} accepted",
                    f"命令 {e.command_type} {e.key} 已受理")  # fmt: skip
        case "Award.Granted":
            return (
                f"award {e.reference} granted to {e.uscc}: {_y(e.amount_fen)} yuan under "
                f"{e.measure}/{e.item} ({e.fiscal_year}), decision {e.decision_ref}",
                f"奖补 {e.reference} 授予 {e.uscc}：{_y(e.amount_fen)} 元（{e.measure}/{e.item}，"
                f"{e.fiscal_year} 年度），文号 {e.decision_ref}",
            )
        case "Award.DisbursementRecorded":
            return (
                f"disbursement {e.reference} of {_y(e.amount_fen)} yuan recorded on award {ref}, "
                f"voucher {e.voucher_no}, paid on {e.paid_on}",
                f"奖补 {ref} 录入拨付 {e.reference}：{_y(e.amount_fen)} 元，凭证 {e.voucher_no}",
            )
        case "Award.DisbursementApproved":
            return (f"disbursement {e.reference} on award {ref} approved",
                    f"奖补 {ref} 拨付 {e.reference} 已审批")  # fmt: skip
        case "Award.DisbursementRejected":
            return (f"disbursement {e.reference} on award {ref} rejected: {e.reason}",
                    f"奖补 {ref} 拨付 {e.reference} 被退回：{e.reason}")  # fmt: skip
        case "Award.DisbursementReversed":
            return (f"disbursement {e.reference} on award {ref} reversed: {e.reason}",
                    f"奖补 {ref} 拨付 {e.reference} 已冲销：{e.reason}")  # fmt: skip
        case "Award.Revoked":
            return (
                f"award {ref} revoked ({_y(e.revoked_fen)} yuan unpaid released), "
                f"decision {e.decision_ref}: {e.reason}",
                f"奖补 {ref} 撤销（释放未付 {_y(e.revoked_fen)} 元），文号 {e.decision_ref}",
            )
        case "Award.ClawbackOrdered":
            return (
                f"clawback {e.reference} of {_y(e.amount_fen)} yuan ordered on award {ref}, "
                f"decision {e.decision_ref}",
                f"奖补 {ref} 追回令 {e.reference}：{_y(e.amount_fen)} 元，文号 {e.decision_ref}",
            )
        case "Award.ClawbackRecovered":
            return (
                f"{_y(e.amount_fen)} yuan recovered on clawback {e.clawback_reference} "
                f"(award {ref}), voucher {e.voucher_no}",
                f"追回令 {e.clawback_reference} 回收 {_y(e.amount_fen)} 元，凭证 {e.voucher_no}",
            )
        case "Budget.Opened":
            return (f"budget {e.measure}/{e.fiscal_year} opened",
                    f"预算 {e.measure}/{e.fiscal_year} 开立")  # fmt: skip
        case "Budget.Appropriated" | "Budget.Adjusted" | "Budget.Committed" | "Budget.Released":
            amount = g("amount_fen", g("delta_fen", 0))
            verb = kind.split(".")[1].lower()
            zh = {"appropriated": "拨入", "adjusted": "调整", "committed": "承诺",
                  "released": "释放"}[verb]  # fmt: skip
            budget = f"{ctx.get('measure')}/{ctx.get('fiscal_year')}"
            what = g("decision_ref") or g("award_reference") or ""
            return (f"budget {budget} {verb} {_y(amount)} yuan ({what})",
                    f"预算 {budget} {zh} {_y(amount)} 元（{what}）")  # fmt: skip
        case "Enterprise.Registered":
            return (f"enterprise {e.uscc} {e.name} registered in town {e.town_code}",
                    f"企业 {e.uscc} {e.name} 登记（{e.town_code}）")  # fmt: skip
        case "Enterprise.Updated":
            return (f"enterprise {ctx.get('uscc')} updated: {e.name}, town {e.town_code}",
                    f"企业 {ctx.get('uscc')} 信息更新：{e.name}（{e.town_code}）")  # fmt: skip
        case "Enterprise.SupportCommitted" | "Enterprise.SupportReleased":
            verb = "committed" if kind.endswith("Committed") else "released"
            zh = "计入" if verb == "committed" else "释放"
            return (
                f"{_y(e.amount_fen)} yuan of {e.fiscal_year} annual cap {verb} "
                f"for award {e.award_reference}",
                f"{e.fiscal_year} 年度上限{zh} {_y(e.amount_fen)} 元（奖补 {e.award_reference}）",
            )
        case "PatentTransfer.Recorded":
            return (
                f"patent {e.patent_no} {e.mode} from {e.transferor_name} ({e.transferor_kind}) "
                f"to {e.uscc}, contract {_y(e.contract_value_fen)} yuan",
                f"专利 {e.patent_no} 由 {e.transferor_name} 转化至 {e.uscc}，"
                f"合同 {_y(e.contract_value_fen)} 元",
            )
        case "PatentTransfer.RevenueReported":
            return (f"transfer {ctx.get('reference')} reported {_y(e.amount_fen)} yuan revenue",
                    f"专利转化 {ctx.get('reference')} 报告收入 {_y(e.amount_fen)} 元")  # fmt: skip
        case "Financing.Registered":
            return (
                f"{e.instrument} of {_y(e.principal_fen)} yuan from {e.lender} to {e.uscc}",
                f"{e.uscc} 获 {e.lender} 知识产权融资 {_y(e.principal_fen)} 元（{e.instrument}）",
            )
        case "User.Registered":
            return (f"user {e.name} registered with roles {', '.join(e.roles)}",
                    f"用户 {e.name} 登记，角色 {', '.join(e.roles)}")  # fmt: skip
    aggregate, _, event_type = kind.partition(".")
    what = ctx.get("reference") or ctx.get("user") or ""
    detail = f" on {g('on')}" if g("on") is not None else ""
    amount = f" {_y(g('amount_fen'))} yuan" if isinstance(g("amount_fen"), int) else ""
    role = f" {g('role')}" if g("role") else ""
    return (
        f"{aggregate} {what}: {event_type}{role}{amount}{detail}".replace("  ", " "),
        f"{aggregate} {what}：{event_type}{role}{amount}{detail}",
    )


_TOPICS: dict[str, tuple[str, str, str]] = {}
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


def trail_row(
    state: ViewState, e: Any, topic: str, position: int, originator: str
) -> tuple[Any, ...]:
    """The trail row of an event, after the state has taken it in (a tuple in the column
    order of `tables.TRAIL`). The row holds what the trail is searched by; the event's
    aggregate, type and summaries are read from the log with it (`render`)."""
    parsed = _TOPICS.get(topic)
    if parsed is None:
        kind = topic.rpartition(":")[2]
        parsed = _TOPICS[topic] = (kind, kind.partition(".")[0], kind.partition(".")[2])
    kind, aggregate_type, _event_type = parsed
    if aggregate_type == "CommandReceipt":
        return receipt_trail_row(state, e, position)
    g = e.__dict__.get
    uscc = award_reference = measure = None
    doc_ref = g("decision_ref") or g("voucher_no")
    if aggregate_type == "Award":
        award = state.get(t.AWARDS, (state.reference_by_id.get(originator),))
        if award is not None:
            uscc, award_reference, measure = award["uscc"], award["reference"], award["measure"]
        if doc_ref is None and kind.startswith("Award.Disbursement"):
            disbursement = state.get(t.DISBURSEMENTS, (g("reference"),))
            doc_ref = disbursement["voucher_no"] if disbursement is not None else None
    elif aggregate_type == "Budget":
        key = state.budget_by_id.get(originator)
        if key is not None:
            measure = key[0]
        award_reference = g("award_reference")
    elif aggregate_type == "Enterprise":
        uscc = g("uscc") or state.uscc_by_id.get(originator)
        award_reference = g("award_reference")
    elif aggregate_type in ("PatentTransfer", "Financing"):
        table = t.TRANSFERS if aggregate_type == "PatentTransfer" else t.FINANCINGS
        row = state.get(table, (state.reference_by_id.get(originator),))
        uscc = row["uscc"] if row is not None else None
    return (position, recorded_us(e.timestamp), g("actor"), uscc, award_reference, measure,
            doc_ref)  # fmt: skip


# -- summaries, written when the trail is read ----------------------------------------------

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


def _lookup(query: Callable[..., list[dict[str, Any]]], sql: str, ids: set[str]) -> dict[str, Any]:
    if not ids:
        return {}
    marks = ", ".join("%s" for _ in ids)
    return {r["id"]: r for r in query(sql.format(marks=marks), sorted(ids))}


def render(
    app: SupportLedger, query: Callable[..., list[dict[str, Any]]], rows: list[dict[str, Any]]
) -> list[tuple[str, str, str, str, str]]:
    """(aggregate type, aggregate id, event type, English summary, Chinese summary) of trail
    rows, from their events in the log and what the rows and the views name (the same text
    for an event whenever it is read).

    `query(sql, params)` reads the views (`{q}` the table prefix, `%s` the placeholder).
    """
    if not rows:
        return []
    events = _events_at(app, [int(r["position"]) for r in rows])
    found = []  # (row, notification, kind, aggregate type, aggregate id)
    for r in rows:
        n = events.get(int(r["position"]))
        kind = n.topic.rpartition(":")[2] if n is not None else "."
        found.append((r, n, kind, kind.partition(".")[0], str(n.originator_id) if n else ""))
    ids = {kind: {oid for _r, _n, _k, a, oid in found if a == kind}
           for kind in ("Budget", "PatentTransfer", "Financing")}  # fmt: skip
    budgets = _lookup(query, "SELECT budget_id AS id, measure, fiscal_year FROM "
                      "{{q}}pv_measure_balances WHERE budget_id IN ({marks})", ids["Budget"])  # fmt: skip
    references = {
        **_lookup(query, "SELECT transfer_id AS id, reference FROM {{q}}pv_transfers "
                  "WHERE transfer_id IN ({marks})", ids["PatentTransfer"]),
        **_lookup(query, "SELECT financing_id AS id, reference FROM {{q}}pv_financings "
                  "WHERE financing_id IN ({marks})", ids["Financing"]),
    }  # fmt: skip
    to_domain_event = app.mapper.to_domain_event
    out = []
    for r, notification, kind, aggregate_type, oid in found:
        event_type = kind.partition(".")[2]
        if notification is None:  # not in the log (cannot happen: the views follow it)
            out.append((aggregate_type, oid, event_type, kind, kind))
            continue
        # Summaries are made from the fields the event type's allow-list shows, nothing else.
        e = SimpleNamespace(**public_fields(notification.topic, vars(to_domain_event(notification))))
        g = e.__dict__.get
        if aggregate_type == "CommandReceipt":
            command_type, key = g("command_type"), g("key")
            out.append((aggregate_type, oid, event_type, f"command {command_type} {key} accepted",
                        f"命令 {command_type} {key} 已受理"))  # fmt: skip
            continue
        ctx: dict[str, Any] = {}
        if aggregate_type == "Award":
            if r["award_reference"] is not None:
                ctx["award_reference"] = r["award_reference"]
        elif aggregate_type == "Budget":
            budget = budgets.get(oid)
            if budget is not None:
                ctx["measure"], ctx["fiscal_year"] = budget["measure"], int(budget["fiscal_year"])
        elif aggregate_type == "Enterprise":
            ctx["uscc"] = r["uscc"]
        elif aggregate_type in ("PatentTransfer", "Financing"):
            reference = references.get(oid)
            ctx["reference"] = reference["reference"] if reference is not None else None
        elif aggregate_type == "User":
            ctx["user"] = g("name") or oid
        try:
            summary_en, summary_zh = _summaries(kind, e, ctx)
        except (AttributeError, KeyError, TypeError):  # an event shape this code does not know
            summary_en = summary_zh = kind
        out.append((aggregate_type, oid, event_type, summary_en[:500], summary_zh[:500]))
    return out
