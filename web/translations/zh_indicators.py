"""The Chinese texts of the indicator and report pages (web.indicators, web.reports), by their
English source text; `zh_catalog` adds them to the catalogue it writes."""

from __future__ import annotations

ZH_INDICATORS = {
    "Fiscal indicators": "财政指标",
    "Net paid": "净拨付",
    "Budget execution rate": "预算执行率",
    "Commitment rate": "承诺率",
    "Balance rate": "结余率",
    "Median days to payment": "拨付天数中位数",
    "P90 days to payment": "拨付天数P90",
    "On-time payment rate": "按时拨付率",
    "Clawback recovery rate": "追回率",
    "Patent conversion rate": "专利转化率",
    "Pledge-financing leverage": "质押融资杠杆率",
    "Interest-subsidy share": "贴息占比",
    "Whole district": "全区",
    "By pillar": "按板块",
    "By measure": "按措施",
    "By town": "按街镇",
    "Scope": "范围",
    "All": "全部",
    "On time within (days)": "按时拨付天数",
    "What the indicators mean": "指标说明",
    "Annual execution report": "年度执行报告",
    "Monthly report": "月度报告",
    "Reports": "报告",
    "Paid is net of reversals. An award is paid on time when its first payment comes within "
    "%(d)d days of the decision; unpaid awards are judged on %(day)s.":
        "拨付额为扣除冲回后的净额。奖补决定后 %(d)d 天内完成第一笔拨付即为按时拨付；尚未拨付的奖补按 %(day)s 判定。",
    "Monthly payment progress": "按月拨付进度",
    "Payment progress of the district": "全区拨付进度",
    "Payment progress": "拨付进度",
    "Share of the year gone by": "序时进度",
    "Net paid in the month": "当月净拨付",
    "Cumulative net paid": "累计净拨付",
    "Progress against the budget": "拨付进度（占预算）",
    "No data yet.": "暂无数据。",
    "Towns have no budget of their own, so budget rates are not given for a town. Transfers "
    "and financings are not split by measure: they are given for the district, the towns, the "
    "IP pillar and M12 (transfers) or M11 (financings).":
        "街镇没有自己的预算，因此不给出街镇的预算类比率。专利转化与融资不按措施拆分：只给出全区、各街镇、"
        "知识产权板块以及 M12（专利转化）或 M11（融资）。",
    "Every figure is computed from the ledger’s events through its views, for the awards and "
    "budgets of one fiscal year. Amounts are in yuan (10,000 yuan in the tables); ratios are "
    "percentages to one decimal place; days are calendar days.":
        "所有数字都由台账事件经视图计算，口径为同一财政年度的奖补与预算。金额单位为元（表中为万元）；"
        "比率为百分数，保留一位小数；天数为自然日。",
    "Unit": "单位",
    "Source events": "来源事件",
    "The on-time threshold on this server is %(d)d days (setting LEDGER_ON_TIME_DAYS; a page "
    "may ask for another).": "本服务器的按时拨付阈值为 %(d)d 天（设置项 LEDGER_ON_TIME_DAYS；页面可另行指定）。",
    "The request is not valid": "请求无效",
    "Made at %(t)s, from the views at log position %(p)d. Amounts are yuan; paid is net of "
    "reversals.": "生成于 %(t)s，依据日志位置 %(p)d 的视图。金额单位为元；拨付额为扣除冲回后的净额。",
    "Download as a spreadsheet (.xlsx)": "下载电子表格（.xlsx）",
}
