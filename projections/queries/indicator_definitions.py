"""What each fiscal indicator means, in plain Chinese and English: the 说明 (help) page shows
these, and docs/metrics.md ("Fiscal indicators") says the same at more length.

Each definition names the `Indicators` field it explains, its unit, its formula and the events
it is computed from (topics as `Aggregate.Event`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    field: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    formula_zh: str
    formula_en: str
    sources: str


_PAID_ZH = "净拨付额 = 已审批的拨付 − 已冲回的拨付（以该年度奖补为限）"
_PAID_EN = "net paid = approved payments − reversed payments (on the awards of that fiscal year)"

DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        "execution_rate", "预算执行率", "Budget execution rate", "%", "%",
        f"净拨付额 ÷ 预算额（年初预算加调整）。{_PAID_ZH}。街镇没有自己的预算，不计算此项。",
        f"net paid ÷ appropriated (appropriations plus adjustments); {_PAID_EN}. Towns have no "
        "budget of their own, so it is not given for a town.",
        "Budget.Appropriated, Budget.Adjusted, Award.DisbursementApproved, "
        "Award.DisbursementReversed",
    ),
    Definition(
        "commitment_rate", "承诺率", "Commitment rate", "%", "%",
        "（已承诺 − 撤销释放）÷ 预算额：预算中已被奖补决定占用的比例。",
        "(committed − released) ÷ appropriated: the share of the budget that award decisions "
        "have taken.",
        "Budget.Appropriated, Budget.Adjusted, Budget.Committed, Budget.Released",
    ),
    Definition(
        "balance_rate", "结余率", "Balance rate", "%", "%",
        "（预算额 − 净承诺额）÷ 预算额：尚未被任何奖补占用的预算比例（= 1 − 承诺率）。",
        "(appropriated − net committed) ÷ appropriated: the share of the budget no award has "
        "taken (= 1 − commitment rate).",
        "Budget.Appropriated, Budget.Adjusted, Budget.Committed, Budget.Released",
    ),
    Definition(
        "progress", "拨付进度（按月）", "Payment progress (monthly)", "%，万元", "%, 10,000 yuan",
        "截至每月末累计净拨付额 ÷ 预算额。拨付按付款日期（paid_on）计入月份；已冲回的拨付不计入；"
        "早于一月的计入一月，晚于十二月的单列。",
        "cumulative net paid to the end of each month ÷ appropriated. A payment counts in the "
        "month of its payment date; reversed payments do not count; payments dated before "
        "January count in January, those after December are shown apart.",
        "Award.DisbursementRecorded (paid_on), Award.DisbursementApproved, "
        "Award.DisbursementReversed, Budget.Appropriated, Budget.Adjusted",
    ),
    Definition(
        "median_days_to_payment", "奖补到拨付天数（中位数、P90）",
        "Days from grant to payment (median, p90)", "天", "days",
        "每项奖补从决定日期（granted_on）到其第一笔已审批拨付的付款日期的天数；取中位数"
        "（偶数个取中间两数平均）与第 90 百分位（最近秩法：至少 90% 的奖补不超过此天数）。"
        "之后被冲回的拨付仍算第一笔拨付。",
        "days from an award's decision date (granted_on) to the payment date of its first "
        "approved payment; the median (mean of the middle two of an even count) and the 90th "
        "percentile (nearest rank: at least 90 % of awards took no longer). A payment reversed "
        "later still counts as the first.",
        "Award.Granted (granted_on), Award.DisbursementRecorded (paid_on), "
        "Award.DisbursementApproved",
    ),
    Definition(
        "on_time_rate", "按时拨付率", "On-time payment rate", "%", "%",
        "在阈值天数（默认 30 天，LEDGER_ON_TIME_DAYS）内得到第一笔拨付的奖补数 ÷ 应拨付奖补数。"
        "应拨付 = 已有拨付的奖补，加上未撤销、未拨付且决定日期距判定日已超过阈值的奖补"
        "（判定日为年度末，若今天更早则为今天）。",
        "awards whose first payment came within the threshold (30 days by default, "
        "LEDGER_ON_TIME_DAYS) ÷ awards due. Due = awards with a payment, plus awards neither "
        "paid nor revoked whose decision is more than the threshold before the judging day "
        "(the end of the year, or today if earlier).",
        "Award.Granted, Award.DisbursementRecorded, Award.DisbursementApproved, Award.Revoked",
    ),
    Definition(
        "clawback_recovery_rate", "追回率", "Clawback recovery rate", "%", "%",
        "已追回金额 ÷ 责令追回金额。",
        "amount recovered ÷ amount of clawbacks ordered.",
        "Award.ClawbackOrdered, Award.ClawbackRecovered",
    ),
    Definition(
        "conversion_rate", "专利转化率", "Patent conversion rate", "%", "%",
        "当年签订的专利转让许可中已实施（投入生产）的件数 ÷ 登记件数。不按措施拆分："
        "只给出区、街镇（受让企业所在地）、知识产权板块和 M12。",
        "transfers signed in the year that were put into production ÷ transfers recorded. Not "
        "split by measure: given for the district, towns (the transferee's), the IP pillar and "
        "M12.",
        "PatentTransfer.Recorded (signed_on), PatentTransfer.Implemented",
    ),
    Definition(
        "leverage", "质押融资杠杆率", "Pledge-financing leverage", "倍", "times",
        "当年登记的专利质押贷款本金 ÷ 这些质押贷款的贴息奖补净拨付额：每一元贴息带动多少元贷款。"
        "给出区、街镇、知识产权板块和 M11。",
        "principal of the pledge loans registered in the year ÷ net paid on the interest "
        "subsidies that name a pledge loan: loan yuan raised per subsidy yuan. Given for the "
        "district, towns, the IP pillar and M11.",
        "Financing.Registered (instrument pledge_loan, principal_fen), Award.Granted "
        "(financing_reference), Award.DisbursementApproved, Award.DisbursementReversed",
    ),
    Definition(
        "interest_subsidy_share", "贴息占比", "Interest-subsidy share", "%", "%",
        "贴息奖补（指明融资编号的奖补）净拨付额 ÷ 净拨付额。",
        "net paid on interest-subsidy awards (awards that name a financing) ÷ net paid.",
        "Award.Granted (financing_reference), Award.DisbursementApproved, "
        "Award.DisbursementReversed",
    ),
)
