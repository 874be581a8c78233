"""The trail's one-line summaries, in English and Chinese: one function per event class.

A summary is made when the trail is read, from the event's public fields (its allow-list in
`ledger.disclosure`) and what the trail row and the views name beside it (`ctx`: the award
reference, the budget's measure and year, the enterprise, the transfer's or financing's
reference, the user). Event classes without a function of their own get a generic line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.domain import Award, Budget, CommandReceipt, Enterprise, Financing, PatentTransfer, User
from ledger.domain.events import AGGREGATE_OF, dispatcher
from ledger.labels import Label, event_label, item_label, label, measure_label, town_label
from ledger.money import format_yuan

_y = format_yuan  # fen as yuan text, e.g. "1,234.56" (the one formatter)


Summary = Callable[[Any, dict[str, Any]], tuple[str, str]]
#: Event class → its (English, Chinese) one-line summary, from the event's public fields and
#: what the trail row and the views name (`ctx`). Classes not listed get `_generic_summary`.
_SUMMARIES: dict[type, Summary] = {}


_summary = dispatcher(_SUMMARIES)


def receipt_summary(command_type: Any, key: Any) -> tuple[str, str]:
    """A command receipt's summary: "命令「授予奖补」A-1 已受理" (the trail's fast path too)."""
    what = label("command_type", command_type)
    return (f"command accepted: {what.en} {key}", f"命令「{what.zh}」{key} 已受理")


@_summary(CommandReceipt.Accepted)
def _accepted(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    return receipt_summary(e.command_type, e.key)


def _support(measure: Any, item: Any) -> Label:
    """A measure and its item as people read them: "M01 …（中小微企业精准质量诊断…）"."""
    m, i = measure_label(measure), item_label(item, measure)
    return Label(f"{m.zh}·{i.zh}", f"{m.en} – {i.en}")


@_summary(Award.Granted)
def _granted(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    what = _support(e.measure, e.item)
    return (
        f"award {e.reference} granted to {e.uscc}: {_y(e.amount_fen)} yuan under "
        f"{what.en} ({e.fiscal_year}), decision {e.decision_ref}",
        f"奖补 {e.reference} 授予 {e.uscc}：{_y(e.amount_fen)} 元（{what.zh}，"
        f"{e.fiscal_year} 年度），文号 {e.decision_ref}",
    )


@_summary(Award.DisbursementRecorded)
def _disbursement_recorded(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    ref = ctx.get("award_reference")
    return (
        f"disbursement {e.reference} of {_y(e.amount_fen)} yuan recorded on award {ref}, "
        f"voucher {e.voucher_no}, paid on {e.paid_on}",
        f"奖补 {ref} 录入拨付 {e.reference}：{_y(e.amount_fen)} 元，凭证 {e.voucher_no}",
    )


def _decision(verb: str, verb_zh: str, *, with_reason: bool) -> Summary:
    def summary(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
        ref = ctx.get("award_reference")
        why, why_zh = (f": {e.reason}", f"：{e.reason}") if with_reason else ("", "")
        return (f"disbursement {e.reference} of award {ref} {verb}{why}",
                f"奖补 {ref} 的拨付 {e.reference} {verb_zh}{why_zh}")  # fmt: skip

    return summary


_summary(Award.DisbursementApproved)(_decision("approved", "已审批", with_reason=False))
_summary(Award.DisbursementRejected)(_decision("rejected", "被退回", with_reason=True))
_summary(Award.DisbursementReversed)(_decision("reversed", "已冲销", with_reason=True))


@_summary(Award.Revoked)
def _revoked(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    ref = ctx.get("award_reference")
    return (
        f"award {ref} revoked ({_y(e.revoked_fen)} yuan unpaid released), "
        f"decision {e.decision_ref}: {e.reason}",
        f"奖补 {ref} 撤销（释放未付 {_y(e.revoked_fen)} 元），文号 {e.decision_ref}：{e.reason}",
    )


@_summary(Award.ClawbackOrdered)
def _clawback_ordered(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    ref = ctx.get("award_reference")
    return (
        f"clawback {e.reference} of {_y(e.amount_fen)} yuan ordered on award {ref}, "
        f"decision {e.decision_ref}",
        f"奖补 {ref} 追回令 {e.reference}：{_y(e.amount_fen)} 元，文号 {e.decision_ref}",
    )


@_summary(Award.ClawbackRecovered)
def _clawback_recovered(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    ref = ctx.get("award_reference")
    return (
        f"{_y(e.amount_fen)} yuan recovered on clawback {e.clawback_reference} "
        f"(award {ref}), voucher {e.voucher_no}",
        f"追回令 {e.clawback_reference} 回收 {_y(e.amount_fen)} 元，凭证 {e.voucher_no}",
    )


@_summary(Budget.Opened)
def _budget_opened(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    m = measure_label(e.measure)
    return (f"budget of {m.en} for {e.fiscal_year} opened",
            f"{m.zh} {e.fiscal_year} 年度预算开立")  # fmt: skip


def _budget_change(verb: str, verb_zh: str) -> Summary:
    def summary(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
        g = e.__dict__.get
        amount = g("amount_fen", g("delta_fen", 0))
        m, year = measure_label(ctx.get("measure")), ctx.get("fiscal_year")
        what = g("decision_ref") or g("award_reference") or ""
        return (f"budget of {m.en} for {year} {verb} {_y(amount)} yuan ({what})",
                f"{m.zh} {year} 年度预算{verb_zh} {_y(amount)} 元（{what}）")  # fmt: skip

    return summary


_summary(Budget.Appropriated)(_budget_change("appropriated", "拨入"))
_summary(Budget.Adjusted)(_budget_change("adjusted", "调整"))
_summary(Budget.Committed)(_budget_change("committed", "承诺"))
_summary(Budget.Released)(_budget_change("released", "释放"))


@_summary(Enterprise.Registered)
def _enterprise_registered(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    town = town_label(e.town_code)
    return (f"enterprise {e.uscc} {e.name} registered in {town.en}",
            f"企业 {e.uscc} {e.name} 登记（{town.zh}）")  # fmt: skip


@_summary(Enterprise.Updated)
def _enterprise_updated(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    town = town_label(e.town_code)
    return (f"enterprise {ctx.get('uscc')} updated: {e.name}, {town.en}",
            f"企业 {ctx.get('uscc')} 信息更新：{e.name}（{town.zh}）")  # fmt: skip


def _cap_change(verb: str, verb_zh: str) -> Summary:
    def summary(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
        return (
            f"{_y(e.amount_fen)} yuan of {e.fiscal_year} annual cap {verb} "
            f"for award {e.award_reference}",
            f"{e.fiscal_year} 年度上限{verb_zh} {_y(e.amount_fen)} 元（奖补 {e.award_reference}）",
        )

    return summary


_summary(Enterprise.SupportCommitted)(_cap_change("committed", "计入"))
_summary(Enterprise.SupportReleased)(_cap_change("released", "释放"))


@_summary(PatentTransfer.Recorded)
def _transfer_recorded(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    mode, kind = label("mode", e.mode), label("transferor_kind", e.transferor_kind)
    return (
        f"patent {e.patent_no}: {mode.en.lower()} from {e.transferor_name} ({kind.en.lower()}) "
        f"to {e.uscc}, contract {_y(e.contract_value_fen)} yuan",
        f"专利 {e.patent_no} 由 {e.transferor_name}（{kind.zh}）以{mode.zh}方式转化至 {e.uscc}，"
        f"合同 {_y(e.contract_value_fen)} 元",
    )


@_summary(PatentTransfer.RevenueReported)
def _revenue_reported(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    return (f"transfer {ctx.get('reference')} reported {_y(e.amount_fen)} yuan revenue",
            f"专利转化 {ctx.get('reference')} 报告收入 {_y(e.amount_fen)} 元")  # fmt: skip


@_summary(Financing.Registered)
def _financing_registered(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    what = label("instrument", e.instrument)
    return (
        f"{what.en} of {_y(e.principal_fen)} yuan from {e.lender} to {e.uscc}",
        f"{e.uscc} 获 {e.lender} {what.zh} {_y(e.principal_fen)} 元",
    )


@_summary(User.Registered)
def _user_registered(e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    roles = [label("role", r) for r in e.roles]
    return (f"user {e.name} registered with roles {', '.join(r.en for r in roles)}",
            f"用户 {e.name} 登记，角色：{'、'.join(r.zh for r in roles)}")  # fmt: skip


#: What the generic summary calls the thing an event belongs to ("专利转化 T-1：实施投产").
_NOUNS = {
    PatentTransfer: Label("专利转化", "transfer"), Financing: Label("知识产权融资", "financing"),
    User: Label("用户", "user"), Enterprise: Label("企业", "enterprise"),
    Budget: Label("预算", "budget"), Award: Label("奖补", "award"),
}  # fmt: skip


def summaries(event_class: type, e: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    """(English, Chinese) one-line summaries of an event (`e` holds its public fields)."""
    summary = _SUMMARIES.get(event_class)
    if summary is not None:
        return summary(e, ctx)
    happened = event_label(event_class)
    noun = _NOUNS.get(AGGREGATE_OF.get(event_class), Label("", ""))  # type: ignore[arg-type]
    g = e.__dict__.get
    what = ctx.get("reference") or ctx.get("user") or ""
    role = label("role", g("role")) if g("role") else Label("", "")
    amount = _y(g("amount_fen")) if isinstance(g("amount_fen"), int) else None
    on = g("on")
    en = " ".join(x for x in (happened.en.lower(), role.en, f"{amount} yuan" if amount else "",
                              f"on {on}" if on else "") if x)
    zh = " ".join(x for x in (happened.zh, role.zh, f"{amount} 元" if amount else "") if x)
    return (f"{noun.en} {what}: {en}".strip(), f"{noun.zh} {what}：{zh}" + (f"（{on}）" if on else ""))
