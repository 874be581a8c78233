"""What people see for each code: one Chinese and one English label per value, in one place.

Codes (`pledge_loan`, `ordinary_licence`, `DisbursementApproved`, `pending`) stay in the events,
the views, the API and `--json` output; every page, CSV heading and line of human CLI output
shows the label instead. The ledger, projections, the audit and the web all import this module;
it does no I/O of its own (item and measure titles come from the catalogue, which is loaded and
cached once by `ledger.catalogue.load_catalogue`).

    >>> label("mode", "ordinary_licence")
    Label(zh='普通许可', en='Non-exclusive licence')
    >>> label("mode", "ordinary_licence").text("en")
    'Non-exclusive licence'

An unknown code gets a label that says so and shows the code, never a blank:
`label("mode", "x")` → `Label(zh='未知（x）', en='unknown (x)')`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from ledger import commands
from ledger.catalogue import load_catalogue
from ledger.domain import (
    Award,
    Budget,
    CommandReceipt,
    Enterprise,
    Financing,
    Measure,
    PatentTransfer,
    User,
)
from ledger.domain.events import names_of
from ledger.identifiers import TOWNS

__all__ = [
    "EVENT_TYPES",
    "FIELDS",
    "VOCABULARIES",
    "Label",
    "bool_label",
    "event_label",
    "event_label_by_name",
    "field_label",
    "item_label",
    "label",
    "measure_label",
    "town_label",
]


class Label(NamedTuple):
    """A value as people read it: Chinese first, English too."""

    zh: str
    en: str

    def text(self, lang: str) -> str:
        """The label in `lang` ("en" for English; anything else is Chinese)."""
        return self.en if lang == "en" else self.zh

    def both(self) -> str:
        """Both languages, Chinese first: "普通许可 / Non-exclusive licence"."""
        return self.zh if self.zh == self.en else f"{self.zh} / {self.en}"


def _vocabulary(pairs: dict[str, tuple[str, str]]) -> Mapping[str, Label]:
    return MappingProxyType({code: Label(*zh_en) for code, zh_en in pairs.items()})


#: Vocabulary name → code → label. Every code the domain accepts has one (tests/unit/test_labels).
VOCABULARIES: Mapping[str, Mapping[str, Label]] = MappingProxyType({
    "role": _vocabulary({
        "viewer": ("查阅人员", "Viewer"),
        "auditor": ("审计人员", "Auditor"),
        "officer": ("财务经办人员", "Finance officer"),
        "approver": ("审批人员", "Approver"),
        "admin": ("系统管理员", "Administrator"),
    }),
    # A disbursement's state in the views (projections.state).
    "disbursement_status": _vocabulary({
        "pending": ("待审批", "Pending approval"),
        "approved": ("已审批", "Approved"),
        "rejected": ("已退回", "Rejected"),
        "reversed": ("已冲销", "Reversed"),
    }),
    "award_status": _vocabulary({
        "active": ("有效", "In force"),
        "revoked": ("已撤销", "Revoked"),
    }),
    "transferor_kind": _vocabulary({
        "university": ("高校", "University"),
        "institute": ("科研院所", "Research institute"),
        "hospital": ("医疗机构", "Hospital"),
        "enterprise": ("企业", "Enterprise"),
    }),
    "mode": _vocabulary({
        "assignment": ("转让", "Assignment"),
        "exclusive_licence": ("独占许可", "Exclusive licence"),
        "sole_licence": ("排他许可", "Sole licence"),
        "ordinary_licence": ("普通许可", "Non-exclusive licence"),
        "open_licence": ("开放许可", "Open licence"),
    }),
    "outcome": _vocabulary({
        "recordal_completed": ("完成备案登记", "Recordal completed"),
        "implemented": ("实施投产", "Put into production"),
        "revenue_reported": ("报告收益", "Revenue reported"),
        "patent_intensive_product_recognised": ("认定为专利密集型产品",
                                                "Recognised as a patent-intensive product"),
        "terminated": ("终止", "Terminated"),
    }),
    "instrument": _vocabulary({
        "pledge_loan": ("知识产权质押贷款", "IP pledge loan"),
        "ip_insurance": ("知识产权保险", "IP insurance"),
        "securitisation": ("知识产权证券化", "IP securitisation"),
    }),
    "financing_event": _vocabulary({
        "drawn": ("提款", "Drawn"),
        "repaid": ("还款", "Repaid"),
        "defaulted": ("违约", "Defaulted"),
    }),
    "pillar": _vocabulary({
        "quality": ("质量", "Quality"),
        "standards": ("标准", "Standards"),
        "ip": ("知识产权", "Intellectual property"),
    }),
    "item_kind": _vocabulary({
        "award": ("奖励", "Award"),
        "subsidy": ("补贴", "Subsidy"),
        "matching": ("配套资助", "Matching grant"),
        "interest_subsidy": ("贴息", "Interest subsidy"),
    }),
    # The command vocabulary (DESIGN.md), as people read it.
    "command_type": _vocabulary({
        commands.RegisterEnterprise.type: ("登记企业", "Register an enterprise"),
        commands.UpdateEnterprise.type: ("更新企业信息", "Update an enterprise"),
        commands.AppropriateBudget.type: ("下达预算", "Appropriate a budget"),
        commands.AdjustBudget.type: ("调整预算", "Adjust a budget"),
        commands.GrantAward.type: ("授予奖补", "Grant an award"),
        commands.RecordDisbursement.type: ("录入拨付", "Record a disbursement"),
        commands.ApproveDisbursement.type: ("审批拨付", "Approve a disbursement"),
        commands.RejectDisbursement.type: ("退回拨付", "Reject a disbursement"),
        commands.ReverseDisbursement.type: ("冲销拨付", "Reverse a disbursement"),
        commands.RevokeAward.type: ("撤销奖补", "Revoke an award"),
        commands.OrderClawback.type: ("下达追回令", "Order a clawback"),
        commands.RecordClawbackRecovery.type: ("录入追回款", "Record a clawback recovery"),
        commands.RecordPatentTransfer.type: ("录入专利转化", "Record a patent transfer"),
        commands.RecordTransferOutcome.type: ("录入转化成效", "Record a transfer outcome"),
        commands.RegisterFinancing.type: ("登记知识产权融资", "Register an IP financing"),
        commands.RecordFinancingEvent.type: ("录入融资事项", "Record a financing event"),
    }),
    # The outcome of one command or import line (ledger record / import, the API).
    "command_result": _vocabulary({
        "recorded": ("已记录", "recorded"),
        "duplicate": ("重复（未重复记录）", "duplicate (not recorded again)"),
        "rejected": ("被拒绝", "rejected"),
        "dry_run": ("检查通过（未记录）", "checked (not recorded)"),
    }),
    # The audit's verification (audit.verify): what a run found.
    "verification_result": _vocabulary({
        "intact": ("完好：日志与签名树头一致", "Intact: the log matches its signed tree heads"),
        "tampered": ("发现篡改", "Tampering found"),
        "error": ("未能完成核验", "Verification could not finish"),
    }),
    # What a verification may find (audit.verify_report.Finding.kind).
    "finding_kind": _vocabulary({
        "altered": ("事件被改动", "Event altered"),
        "removed": ("事件被删除", "Event removed"),
        "inserted": ("插入了无叶子的事件", "Event inserted without its leaf"),
        "unindexed": ("事件尚未写入默克尔树", "Event not yet in the Merkle tree"),
        "head_signature": ("树头签名无效", "Tree head signature invalid"),
        "head_root": ("树头根哈希不符", "Tree head root does not match"),
        "head_beyond_log": ("树头超出日志末尾", "Tree head beyond the end of the log"),
        "node": ("缓存节点不符", "Cached node does not match"),
        "truncated": ("日志被截短", "Log truncated"),
        "rewritten": ("日志被改写", "Log rewritten"),
        "head_missing": ("留存的树头已不在库中", "A kept tree head is missing"),
        "replay_snapshot_mismatch": ("回放快照与日志不符", "Replay snapshot does not match the log"),
    }),
})  # fmt: skip

#: Field name → label: every field an event page, a trail or a command shows.
FIELDS: Mapping[str, Label] = _vocabulary({
    "reference": ("编号", "Reference"),
    "uscc": ("统一社会信用代码", "Credit code"),
    "name": ("名称", "Name"),
    "town_code": ("街镇", "Town"),
    "industry": ("行业", "Industry"),
    "measure": ("政策条款", "Measure"),
    "item": ("支持事项", "Support item"),
    "item_code": ("支持事项", "Support item"),
    "items": ("支持事项", "Support items"),
    "fiscal_year": ("预算年度", "Fiscal year"),
    "amount_fen": ("金额", "Amount"),
    "delta_fen": ("调整金额", "Change"),
    "revoked_fen": ("释放未付金额", "Unpaid amount released"),
    "cap_fen": ("年度上限", "Annual cap"),
    "principal_fen": ("本金", "Principal"),
    "contract_value_fen": ("合同金额", "Contract value"),
    "decision_ref": ("文号", "Decision number"),
    "granted_on": ("授予日期", "Granted on"),
    "basis": ("依据", "Basis"),
    "financing_reference": ("关联融资编号", "Financing reference"),
    "counts_towards_cap": ("计入年度上限", "Counts towards the annual cap"),
    "actor": ("操作人", "Recorded by"),
    "voucher_no": ("凭证号", "Voucher number"),
    "paid_on": ("拨付日期", "Paid on"),
    "reason": ("原因", "Reason"),
    "clawback_reference": ("追回令编号", "Clawback reference"),
    "recovered_on": ("回收日期", "Recovered on"),
    "award_reference": ("奖补编号", "Award reference"),
    "command_type": ("命令", "Command"),
    "key": ("幂等键", "Idempotency key"),
    "content": ("命令内容", "Command content"),
    "content_sha256": ("内容哈希（SHA-256）", "Content hash (SHA-256)"),
    "instrument": ("融资方式", "Instrument"),
    "lender": ("出资机构", "Lender"),
    "annual_rate_bp": ("年利率", "Annual rate"),
    "term_months": ("期限", "Term"),
    "collateral": ("质押物", "Collateral"),
    "registered_on": ("登记日期", "Registered on"),
    "on": ("日期", "Date"),
    "code": ("代码", "Code"),
    "pillar": ("板块", "Pillar"),
    "title_zh": ("中文名称", "Title in Chinese"),
    "title_en": ("英文名称", "Title in English"),
    "patent_no": ("专利号", "Patent number"),
    "transferor_name": ("转让方", "Transferor"),
    "transferor_kind": ("转让方类型", "Transferor kind"),
    "transferor_uscc": ("转让方信用代码", "Transferor's credit code"),
    "mode": ("转化方式", "Mode"),
    "signed_on": ("签订日期", "Signed on"),
    "outcome": ("转化成效", "Outcome"),
    "event": ("融资事项", "Financing event"),
    "roles": ("角色", "Roles"),
    "role": ("角色", "Role"),
    "token_id": ("令牌编号", "Token id"),
    "expires_at": ("到期时间", "Expires at"),
    "type": ("类型", "Type"),
    "title": ("名称", "Title"),
    # What `ledger show` and the views add to the events' own fields.
    "adjusted_fen": ("调整额", "Adjusted"),
    "appropriated_fen": ("预算额", "Appropriated"),
    "committed_fen": ("已承诺", "Committed"),
    "committed_fen_by_year": ("各年度已计入上限", "Counted towards the cap, by year"),
    "released_fen": ("已释放", "Released"),
    "remaining_fen": ("剩余", "Remaining"),
    "granted_fen": ("批准金额", "Granted"),
    "paid_fen": ("已支付", "Paid"),
    "pending_fen": ("待审批", "Pending approval"),
    "reversed_fen": ("已冲销", "Reversed"),
    "clawback_ordered_fen": ("责令追回", "Clawback ordered"),
    "clawback_recovered_fen": ("已追回", "Clawback recovered"),
    "drawn_fen": ("已提款", "Drawn"),
    "repaid_fen": ("已还款", "Repaid"),
    "revenue_fen": ("报告收益", "Revenue reported"),
    "revoked": ("已撤销", "Revoked"),
    "defaulted_on": ("违约日期", "Defaulted on"),
    "recordal_completed_on": ("备案登记日期", "Recordal completed on"),
    "implemented_on": ("实施投产日期", "Put into production on"),
    "patent_intensive_product_recognised_on": ("认定为专利密集型产品日期",
                                               "Recognised as a patent-intensive product on"),
    "terminated_on": ("终止日期", "Terminated on"),
    "status": ("状态", "Status"),
    "disbursements": ("拨付", "Disbursements"),
    "clawbacks": ("追回令", "Clawbacks"),
})  # fmt: skip


def _event_types() -> Mapping[type, Label]:
    a, b, e, f, p, u = Award, Budget, Enterprise, Financing, PatentTransfer, User
    return MappingProxyType({cls: Label(*zh_en) for cls, zh_en in {
        a.Granted: ("授予奖补", "Award granted"),
        a.DisbursementRecorded: ("录入拨付", "Disbursement recorded"),
        a.DisbursementApproved: ("拨付已审批", "Disbursement approved"),
        a.DisbursementRejected: ("拨付被退回", "Disbursement rejected"),
        a.DisbursementReversed: ("拨付已冲销", "Disbursement reversed"),
        a.Revoked: ("撤销奖补", "Award revoked"),
        a.ClawbackOrdered: ("下达追回令", "Clawback ordered"),
        a.ClawbackRecovered: ("追回款到账", "Clawback recovered"),
        b.Opened: ("开立预算", "Budget opened"),
        b.Appropriated: ("下达预算", "Budget appropriated"),
        b.Adjusted: ("调整预算", "Budget adjusted"),
        b.Committed: ("预算承诺", "Budget committed"),
        b.Released: ("预算释放", "Budget released"),
        CommandReceipt.Accepted: ("受理命令", "Command accepted"),
        e.Registered: ("登记企业", "Enterprise registered"),
        e.Updated: ("更新企业信息", "Enterprise updated"),
        e.SupportCommitted: ("计入年度上限", "Annual cap used"),
        e.SupportReleased: ("释放年度上限", "Annual cap released"),
        f.Registered: ("登记融资", "Financing registered"),
        f.Drawn: ("融资提款", "Financing drawn"),
        f.Repaid: ("融资还款", "Financing repaid"),
        f.Defaulted: ("融资违约", "Financing defaulted"),
        Measure.Defined: ("设立政策条款", "Measure defined"),
        Measure.ItemAdded: ("新增支持事项", "Support item added"),
        Measure.ItemRetired: ("停用支持事项", "Support item retired"),
        p.Recorded: ("录入专利转化", "Patent transfer recorded"),
        p.RecordalCompleted: ("完成备案登记", "Recordal completed"),
        p.Implemented: ("实施投产", "Put into production"),
        p.RevenueReported: ("报告收益", "Revenue reported"),
        p.PatentIntensiveProductRecognised: ("认定为专利密集型产品",
                                             "Recognised as a patent-intensive product"),
        p.Terminated: ("终止转化", "Transfer terminated"),
        u.Registered: ("登记用户", "User registered"),
        u.RoleGranted: ("授予角色", "Role granted"),
        u.RoleRevoked: ("收回角色", "Role revoked"),
        u.TokenIssued: ("签发令牌", "Token issued"),
        u.TokenRevoked: ("吊销令牌", "Token revoked"),
        u.PasswordSet: ("设置密码", "Password set"),
        u.PasswordChanged: ("更改密码", "Password changed"),
    }.items()})  # fmt: skip


#: Event class → what happened, as a short phrase ("拨付已审批" / "Disbursement approved").
EVENT_TYPES: Mapping[type, Label] = _event_types()
_EVENT_TYPES_BY_NAME: Mapping[tuple[str, str], Label] = MappingProxyType(
    {names_of(cls): lab for cls, lab in EVENT_TYPES.items()}
)


def _unknown(code: Any) -> Label:
    return Label(f"未知（{code}）", f"unknown ({code})")


def label(vocabulary: str, code: Any) -> Label:
    """The label of `code` in `vocabulary` (a key of `VOCABULARIES`); "—" for no code."""
    if code is None or code == "":
        return Label("—", "—")
    found = VOCABULARIES[vocabulary].get(str(code))
    return found if found is not None else _unknown(code)


def field_label(name: str) -> Label:
    """The label of a field of an event or command (`amount_fen` → 金额 / Amount)."""
    found = FIELDS.get(name)
    return found if found is not None else _unknown(name)


def event_label(event_class: type) -> Label:
    """What an event of this class records, as a short phrase."""
    found = EVENT_TYPES.get(event_class)
    return found if found is not None else _unknown(".".join(names_of(event_class)))


def event_label_by_name(aggregate: str, event_type: str) -> Label:
    """The same by the names the trail keeps ("Award", "DisbursementApproved")."""
    found = _EVENT_TYPES_BY_NAME.get((aggregate, event_type))
    return found if found is not None else _unknown(f"{aggregate}.{event_type}")


def bool_label(value: Any) -> Label:
    """是 / yes, 否 / no; "—" for none."""
    if value is None:
        return Label("—", "—")
    return Label("是", "yes") if value else Label("否", "no")


def measure_label(code: str | None) -> Label:
    """A measure's code and title ("M10 推进知识产权转化运用"), from the catalogue."""
    if not code:
        return Label("—", "—")
    try:
        spec = load_catalogue().measure(code)
    except KeyError:
        return Label(code, code)  # a code the catalogue does not know is still a reference
    return Label(f"{code} {spec.title_zh}", f"{code} {spec.title_en}")


def item_label(item_code: str | None, measure: str | None = None) -> Label:
    """A support item's title from the catalogue (under `measure` if given, else any measure)."""
    if not item_code:
        return Label("—", "—")
    for spec in load_catalogue().measures:
        if measure and spec.code != measure:
            continue
        for item in spec.items:
            if item.code == item_code:
                return Label(item.title_zh, item.title_en)
    return _unknown(item_code)


def town_label(code: str | None) -> Label:
    """A town's name ("—" for none)."""
    town = TOWNS.get(code or "")
    if town is None:
        return Label("—", "—") if not code else _unknown(code)
    return Label(town.name_zh, town.name_en)
