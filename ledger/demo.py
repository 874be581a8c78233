"""A deterministic, realistic demo year: the same seed always gives the same commands.

About 300 enterprises in all 17 towns, budgets for every measure, about 2,000 awards paid by
maker and checker (some in instalments, some still pending, a few rejected or returned by the
bank), a revocation and a clawback, patent transfers from universities, institutes and
hospitals with their outcomes, and IP pledge loans with interest subsidies. Loading it twice
records nothing new.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ledger import commands as c
from ledger.application import DUPLICATE, SupportLedger
from ledger.commands import MEASURE_CODES, Command
from ledger.errors import LedgerError
from ledger.identifiers import TOWNS, make_org_code, make_patent_no, make_uscc
from ledger.money import format_yuan

ADMIN = "admin"
#: The web password of every demo user (the policy wants at least 10 characters).
DEMO_PASSWORD = "songjiang-demo"
OFFICERS = ("wang.fang", "li.na")
APPROVERS = ("zhao.lei", "sun.min")
AUDITOR = "chen.jing"
VIEWER = "overseer"
DEMO_USERS: dict[str, list[str]] = {
    ADMIN: ["admin"],
    OFFICERS[0]: ["officer"],
    OFFICERS[1]: ["officer"],
    APPROVERS[0]: ["approver"],
    APPROVERS[1]: ["approver"],
    AUDITOR: ["auditor"],
    VIEWER: ["viewer"],
}

_NAME_HEADS = (
    "松江", "佘山", "九亭", "泗泾", "洞泾", "新桥", "车墩", "叶榭", "泖港", "云间", "广富林",
    "华亭", "茸城", "辰山", "天马", "小昆山", "石湖", "永丰", "方松", "中山",
)  # fmt: skip
_NAME_MIDS = (
    "精密", "智能", "新材料", "光电", "生物", "医疗器械", "电子", "机器人", "汽车零部件",
    "检测", "云计算", "新能源", "高分子", "集成电路", "软件", "环保", "食品", "纺织", "物联网",
)  # fmt: skip
_NAME_TAILS = ("科技有限公司", "股份有限公司", "制造有限公司", "技术有限公司", "实业有限公司")
_INDUSTRIES = (
    "电子信息", "智能制造", "新材料", "生物医药", "新能源汽车", "集成电路", "现代服务业",
    "检验检测", "食品加工", "纺织服装",
)  # fmt: skip
_UNIVERSITIES = (
    "东华大学", "上海工程技术大学", "上海交通大学", "复旦大学", "同济大学",
    "华东理工大学", "上海大学", "上海理工大学",
)  # fmt: skip
_INSTITUTES = (
    "中国科学院上海微系统与信息技术研究所", "上海材料研究所", "中国科学院上海光学精密机械研究所",
    "上海计量测试技术研究院", "中国电子科技集团公司第二十一研究所",
)  # fmt: skip
_HOSPITALS = ("上海市第一人民医院", "上海市松江区中心医院", "复旦大学附属中山医院")
_TRANSFERORS = {
    "university": _UNIVERSITIES, "institute": _INSTITUTES, "hospital": _HOSPITALS,
    "enterprise": ("上海某科技集团有限公司",),
}  # fmt: skip
_MODES = ("assignment", "exclusive_licence", "sole_licence", "ordinary_licence", "open_licence")
#: Enterprises registered (they come first, then the budgets, then everything else).
_ENTERPRISES = 300
_BANKS = (
    "上海农商银行松江支行", "中国银行松江支行", "交通银行松江支行", "上海银行松江支行",
    "建设银行松江支行", "浦发银行松江支行",
)  # fmt: skip

# (measure, item, weight): what the district pays for most often.
_AWARD_MIX = (
    ("M01", "district_quality_award", 2), ("M01", "mayor_quality_award", 1),
    ("M01", "excellence_model_adoption", 6), ("M01", "sme_quality_diagnosis", 10),
    ("M02", "shanghai_brand_certification", 4), ("M02", "green_product_certification", 8),
    ("M02", "green_service_certification", 3), ("M03", "district_quality_breakthrough_project", 4),
    ("M03", "reliability_innovation_practice", 3), ("M04", "qi_integrated_service_municipal", 1),
    ("M05", "shanghai_standard", 3), ("M06", "lead_national_standard", 3),
    ("M06", "join_national_standard", 5), ("M06", "lead_industry_standard", 5),
    ("M06", "lead_local_standard", 4), ("M07", "tc_secretariat_municipal", 1),
    ("M08", "standardisation_pilot_municipal", 2), ("M08", "standardisation_pilot_national", 1),
    ("M09", "measurement_management_system", 6),
    ("M10", "high_value_patent_cultivation", 8), ("M10", "overseas_patent_filing", 10),
    ("M10", "trademark_brand_project", 4), ("M10", "china_patent_award_excellent", 1),
    ("M10", "shanghai_ip_innovation_award", 1), ("M11", "patent_intensive_product", 10),
    ("M11", "ip_insurance_premium_subsidy", 4), ("M12", "industry_academia_collaboration", 2),
    ("M13", "dispute_mediation", 3), ("M13", "shanghai_time_honoured_brand", 1),
    ("M13", "overseas_dispute_response", 2),
)  # fmt: skip


@dataclass
class DemoSummary:
    """What loading the demo did."""

    recorded: int = 0
    duplicates: int = 0
    counts: Counter[type[Command]] = field(default_factory=Counter)
    granted_fen: int = 0
    paid_fen: int = 0
    last_position: int = 0

    def count(self, command: Command, status: str, position: int | None) -> None:
        if status == DUPLICATE:
            self.duplicates += 1
            return
        self.recorded += 1
        self.counts[type(command)] += 1
        self.last_position = max(self.last_position, position or 0)

    def describe(self, commands: list[Command]) -> None:
        """The amounts granted and paid (approved, not reversed) by the demo year's commands."""
        if self.recorded == 0:  # loaded before: describe what is there
            self.counts.update(type(command) for command in commands)
        amounts = {cmd.reference: cmd.amount_fen for cmd in commands if isinstance(cmd, c.RecordDisbursement)}
        self.granted_fen = sum(cmd.amount_fen for cmd in commands if isinstance(cmd, c.GrantAward))
        approved = {cmd.reference for cmd in commands if isinstance(cmd, c.ApproveDisbursement)}
        reversed_ = {cmd.reference for cmd in commands if isinstance(cmd, c.ReverseDisbursement)}
        self.paid_fen = sum(amounts[r] for r in approved - reversed_)

    def text(self) -> str:
        counts = self.counts
        lines = [
            f"demo year loaded: {self.recorded} commands recorded, {self.duplicates} already there",
            f"  enterprises 企业 {counts[c.RegisterEnterprise]}, "
            f"awards 奖补 {counts[c.GrantAward]}, "
            f"payments 拨付 {counts[c.RecordDisbursement]}, "
            f"patent transfers 专利转化 {counts[c.RecordPatentTransfer]}, "
            f"financings 融资 {counts[c.RegisterFinancing]}",
            f"  granted 已批 {format_yuan(self.granted_fen)} yuan, "
            f"paid (approved) 已付 {format_yuan(self.paid_fen)} yuan",
            f"  log position {self.last_position}",
        ]
        return "\n".join(lines)


Award = tuple[str, str, int, date]  # (reference, uscc, amount_fen, granted_on)


class _Year:
    """Builds the demo's commands in the order an office would record them."""

    def __init__(self, app: SupportLedger, seed: int, fiscal_year: int) -> None:
        self.rng = random.Random(seed)
        self.app = app
        self.year = fiscal_year
        self.commands: list[tuple[Command, str]] = []
        self.cap_fen = app.catalogue.annual_cap_fen
        self.committed_fen: dict[str, int] = defaultdict(int)
        self.budget_fen: dict[str, int] = defaultdict(int)
        self.serial = Counter[str]()
        self.awards: list[Award] = []

    def day(self, start: int = 1, end: int = 330) -> date:
        return date(self.year, 1, 1) + timedelta(days=self.rng.randint(start, end))

    def ref(self, kind: str) -> str:
        self.serial[kind] += 1
        return f"{self.year}-{kind}-{self.serial[kind]:05d}"

    def add(self, command: Command, actor: str | None = None) -> None:
        self.commands.append((command, actor or self.rng.choice(OFFICERS)))

    def enterprises(self, count: int) -> list[str]:
        towns = sorted(TOWNS)
        usccs = []
        for n in range(count):
            uscc = make_uscc("91310117" + make_org_code(f"{self.rng.randrange(10**8):08d}"))
            name = (
                f"上海{self.rng.choice(_NAME_HEADS)}{self.rng.choice(_NAME_MIDS)}"
                f"{self.rng.choice(_NAME_TAILS)}"
            )
            town = towns[n % len(towns)]
            self.add(c.RegisterEnterprise(uscc=uscc, name=f"{name}（{n + 1:03d}）", town_code=town,
                                          industry=self.rng.choice(_INDUSTRIES)))  # fmt: skip
            usccs.append(uscc)
        return usccs

    def amount(self, measure: str, item: str) -> int:
        spec = self.app.catalogue.measure(measure).item(item)
        ceiling = spec.max_fen or 20_000_000
        # Round to whole thousands of yuan, between a fifth and all of the maximum.
        return max(100_000, self.rng.randint(ceiling // 5, ceiling) // 100_000 * 100_000)

    def grant(self, uscc: str, measure: str, item: str, amount_fen: int, on: date,
              **extra: Any) -> str | None:  # fmt: skip
        """Grant an award if the enterprise's cap allows it; remember it for the payments."""
        counts = self.app.catalogue.measure(measure).item(item).counts_towards_cap
        if counts and self.committed_fen[uscc] + amount_fen > self.cap_fen:
            return None
        if counts:
            self.committed_fen[uscc] += amount_fen
        self.budget_fen[measure] += amount_fen
        reference = self.ref("AW")
        self.add(c.GrantAward(reference=reference, uscc=uscc, measure=measure, item=item,
                              fiscal_year=self.year, amount_fen=amount_fen,
                              decision_ref=f"松市监〔{self.year}〕{self.rng.randint(10, 399)}号",
                              granted_on=on, **extra))  # fmt: skip
        self.awards.append((reference, uscc, amount_fen, on))
        return reference

    def pay(self, award_ref: str, amount_fen: int, on: date, approve: bool = True) -> str:
        reference = self.ref("PAY")
        maker = self.rng.choice(OFFICERS)
        self.add(c.RecordDisbursement(reference=reference, award_reference=award_ref,
                                      amount_fen=amount_fen,
                                      voucher_no=f"松财拨{self.year}-{self.serial['PAY']:06d}",
                                      paid_on=on), maker)  # fmt: skip
        if approve:
            self.add(c.ApproveDisbursement(reference=reference), self.rng.choice(APPROVERS))
        return reference

    # -- the year, part by part --------------------------------------------------------------

    def grants(self, usccs: list[str], count: int) -> None:
        """Awards across the measures, weighted by what the district pays for most often."""
        weights = [w for _, _, w in _AWARD_MIX]
        granted = 0
        while granted < count:
            measure, item, _ = self.rng.choices(_AWARD_MIX, weights)[0]
            uscc = self.rng.choice(usccs)
            on = self.day(20, 300)
            granted += self.grant(uscc, measure, item, self.amount(measure, item), on) is not None

    def transfers(self, usccs: list[str], count: int) -> None:
        """Patent transfers with their outcomes, and transfer subsidies under M12."""
        rng = self.rng
        for _ in range(count):
            kind = rng.choices(("university", "institute", "hospital", "enterprise"), (6, 3, 1, 1))[0]
            uscc = rng.choice(usccs)
            signed_on = self.day(1, 240)
            value_fen = rng.randint(50, 3000) * 1_000_000
            reference = self.ref("PT")
            patent_no = make_patent_no(f"{rng.randint(2015, 2024)}1{rng.randrange(10**7):07d}")
            mode = rng.choices(_MODES, (6, 2, 1, 2, 1))[0]
            self.add(c.RecordPatentTransfer(reference=reference, patent_no=patent_no,
                                            transferor_name=rng.choice(_TRANSFERORS[kind]),
                                            transferor_kind=kind, uscc=uscc, mode=mode,
                                            contract_value_fen=value_fen, signed_on=signed_on))  # fmt: skip
            self.outcomes(reference, signed_on, value_fen)
            if kind != "enterprise" and rng.random() < 0.5:
                subsidy_fen = max(100_000, min(50_000_000, value_fen // 10 // 100_000 * 100_000))
                self.grant(uscc, "M12", "patent_transfer_subsidy", subsidy_fen,
                           signed_on + timedelta(days=30), basis=patent_no)  # fmt: skip

    def outcomes(self, reference: str, signed_on: date, value_fen: int) -> None:
        """What became of one transfer: recorded, implemented, revenue, or terminated."""
        rng = self.rng

        def outcome(name: str, on: date, amount_fen: int | None = None) -> None:
            self.add(c.RecordTransferOutcome(reference=reference, outcome=name, on=on,
                                             amount_fen=amount_fen))  # fmt: skip

        if rng.random() >= 0.9:
            return
        last = signed_on + timedelta(days=rng.randint(15, 60))
        outcome("recordal_completed", last)
        if rng.random() < 0.6:
            last = last + timedelta(days=rng.randint(20, 200))
            outcome("implemented", last)
            if rng.random() < 0.6:
                outcome("revenue_reported", last + timedelta(days=60),
                        value_fen * rng.randint(2, 30) // 10)  # fmt: skip
            if rng.random() < 0.2:
                outcome("patent_intensive_product_recognised", last + timedelta(days=30))
        elif rng.random() < 0.1:
            outcome("terminated", last + timedelta(days=90))

    def financings(self, usccs: list[str], count: int) -> None:
        """IP pledge loans, drawn and partly repaid; interest subsidies under M11."""
        rng = self.rng
        for n in range(count):
            uscc = rng.choice(usccs)
            reference = self.ref("FIN")
            principal_fen = rng.randint(5, 200) * 10_000_000
            rate_bp = rng.choice((300, 325, 350, 385, 420))
            registered_on = self.day(1, 200)
            collateral = [make_patent_no(f"{rng.randint(2012, 2023)}1{rng.randrange(10**7):07d}")]
            self.add(c.RegisterFinancing(reference=reference, uscc=uscc, instrument="pledge_loan",
                                         lender=rng.choice(_BANKS), principal_fen=principal_fen,
                                         annual_rate_bp=rate_bp, term_months=12,
                                         collateral=collateral, registered_on=registered_on))  # fmt: skip

            def event(name: str, on: date, amount_fen: int, reference: str = reference) -> None:
                self.add(c.RecordFinancingEvent(reference=reference, event=name, on=on,
                                                amount_fen=amount_fen))  # fmt: skip

            drawn_on = registered_on + timedelta(days=rng.randint(3, 20))
            event("drawn", drawn_on, principal_fen)
            if n in (7, 41):
                event("defaulted", drawn_on + timedelta(days=150), principal_fen)
                continue
            if rng.random() < 0.4:
                event("repaid", drawn_on + timedelta(days=rng.randint(90, 140)), principal_fen // 2)
            interest_fen = principal_fen * rate_bp // 10_000 // 2  # half a year of interest
            subsidy_fen = min(50_000_000, interest_fen // 2 // 100 * 100)
            if subsidy_fen:
                on = drawn_on + timedelta(days=rng.randint(100, 160))
                self.grant(uscc, "M11", "pledge_loan_interest_subsidy", subsidy_fen, on,
                           financing_reference=reference)  # fmt: skip

    def budgets(self) -> list[tuple[Command, str]]:
        """Budgets appropriated at the start of the year with headroom, and one top-up."""
        year = self.year
        commands: list[tuple[Command, str]] = []
        for code in MEASURE_CODES:
            planned_fen = self.budget_fen[code]
            amount_fen = max(100_000_000, (planned_fen * 5 // 4) // 10_000_000 * 10_000_000)
            commands.append((c.AppropriateBudget(reference=f"{year}-BUD-{code}", measure=code,
                                                 fiscal_year=year, amount_fen=amount_fen,
                                                 decision_ref=f"松财预〔{year}〕{int(code[1:]) + 10}号"),
                             OFFICERS[0]))  # fmt: skip
        commands.append((c.AdjustBudget(reference=f"{year}-ADJ-M10", measure="M10", fiscal_year=year,
                                        delta_fen=200_000_000, decision_ref=f"松财预〔{year}〕88号",
                                        reason="知识产权专项追加 supplementary IP funding"),
                         OFFICERS[1]))  # fmt: skip
        return commands

    def payments(self) -> list[tuple[str, str, int]]:
        """Most awards paid once, some in two instalments, some still pending; returns the
        (award, last payment, amount) of those paid in full."""
        rng, year_end = self.rng, date(self.year, 12, 31)
        paid_refs: list[tuple[str, str, int]] = []
        for award_ref, _uscc, amount_fen, granted_on in sorted(self.awards, key=lambda a: a[3]):
            roll = rng.random()
            first_on = min(granted_on + timedelta(days=rng.randint(14, 75)), year_end)
            if roll < 0.08:
                continue  # not paid yet
            if roll < 0.12:
                self.pay(award_ref, amount_fen, first_on, approve=False)  # waiting for approval
                continue
            if roll < 0.30:
                half_fen = amount_fen // 2
                self.pay(award_ref, half_fen, first_on)
                second_on = min(first_on + timedelta(days=rng.randint(30, 90)), year_end)
                pay_ref = self.pay(award_ref, amount_fen - half_fen, second_on)
            else:
                pay_ref = self.pay(award_ref, amount_fen, first_on)
            paid_refs.append((award_ref, pay_ref, amount_fen))
        return paid_refs

    def corrections(self, paid_refs: list[tuple[str, str, int]]) -> None:
        """Payments rejected or returned by the bank, one revocation and one clawback."""
        year = self.year
        for _award_ref, pay_ref, _amount_fen in paid_refs[10:18]:
            self.add(c.ReverseDisbursement(
                reference=pay_ref, reason="银行退票：账户信息有误 returned by the bank: wrong account"
            ))  # fmt: skip
        for award_ref, _pay_ref, _amount_fen in paid_refs[10:14]:
            bad = self.pay(award_ref, 100, date(year, 11, 20), approve=False)
            self.add(c.RejectDisbursement(reference=bad, reason="金额与批复不符 amount does not match the decision"),
                     APPROVERS[0])  # fmt: skip
        # One revocation (an unpaid award) and one clawback (a paid award), partly recovered.
        with_payments = {cmd.award_reference for cmd, _ in self.commands
                         if isinstance(cmd, c.RecordDisbursement)}  # fmt: skip
        unpaid = next(a for a in sorted(self.awards, key=lambda a: a[3]) if a[0] not in with_payments)
        self.add(c.RevokeAward(award_reference=unpaid[0], decision_ref=f"松市监〔{year}〕401号",
                               reason="企业迁出松江区 the enterprise moved out of Songjiang"))  # fmt: skip
        clawed = paid_refs[40]
        claw_ref = self.ref("CLAW")
        self.add(c.OrderClawback(reference=claw_ref, award_reference=clawed[0], amount_fen=clawed[2],
                                 decision_ref=f"松市监〔{year}〕402号",
                                 reason="申报材料不实 false statements in the application"))  # fmt: skip
        self.add(c.RecordClawbackRecovery(reference=self.ref("REC"), clawback_reference=claw_ref,
                                          amount_fen=clawed[2] // 2, voucher_no=f"松财缴{year}-0001",
                                          recovered_on=date(year, 12, 15)))  # fmt: skip


def demo_commands(app: SupportLedger, seed: int = 2025, fiscal_year: int = 2025) -> list[tuple[Command, str]]:
    """The demo year's commands with their actors, in recording order (deterministic)."""
    year = _Year(app, seed, fiscal_year)
    usccs = year.enterprises(_ENTERPRISES)
    # Awards first: the budgets (recorded before them) are sized from what the year grants.
    year.grants(usccs, 1850)
    year.transfers(usccs, 160)
    year.financings(usccs, 60)
    year.commands[_ENTERPRISES:_ENTERPRISES] = year.budgets()
    year.corrections(year.payments())
    return year.commands


def ensure_demo_users(app: SupportLedger, password: str | None) -> None:
    """Register the demo's users (admin, two officers, two approvers, an auditor, a viewer)."""
    from ledger.users import check_password_policy

    for name in DEMO_USERS if password else ():
        check_password_policy(name, password)  # before anyone is registered
    for name, roles in DEMO_USERS.items():
        if app.get_user(name) is None:
            app.register_user(name, roles, actor="" if name == ADMIN else ADMIN)
            if password:
                app.set_password(name, password, actor=ADMIN)


def load_demo(
    app: SupportLedger,
    *,
    seed: int = 2025,
    fiscal_year: int = 2025,
    password: str | None = DEMO_PASSWORD,
    batch_size: int = 500,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Define the measures, register the demo users and record the demo year."""
    app.define_measures()
    ensure_demo_users(app, password)
    commands = demo_commands(app, seed, fiscal_year)
    summary = DemoSummary()
    for start in range(0, len(commands), batch_size):
        batch = commands[start : start + batch_size]
        for (command, _actor), result in zip(batch, app.execute_many(batch), strict=True):
            if isinstance(result, LedgerError):
                raise RuntimeError(f"the demo year is inconsistent: {command} → {result.code}: {result}")
            summary.count(command, result.status, result.position)
        if progress:
            progress(f"demo: {min(start + batch_size, len(commands))}/{len(commands)} commands")
    summary.describe([command for command, _actor in commands])
    summary.last_position = summary.last_position or app.log_position()
    return summary
