"""The Chinese texts of the web, by their English source text.

`python -m web.translations.zh_catalog` writes zh/LC_MESSAGES/messages.po and compiles
messages.mo from this table; a test checks that every text the templates and views use is here.
"""

from __future__ import annotations

from pathlib import Path

from web.translations.zh_indicators import ZH_INDICATORS

ZH = {
    "Please sign in.": "请先登录。",
    "Your role does not allow this page.": "您的角色无权查看此页面。",
    "There is no such page or record.": "没有此页面或记录。",
    "Too many failed sign-ins. Try again in %(s)d seconds.": "登录失败次数过多，请在 %(s)d 秒后重试。",
    "The name or the password is wrong.": "用户名或密码错误。",
    "Budget use per measure (10,000 yuan)": "各措施预算使用（万元）",
    "Appropriated": "预算",
    "Committed": "已承诺",
    "Paid": "已支付",
    "Paid per pillar (10,000 yuan)": "各板块已支付（万元）",
    "Payments per month (10,000 yuan)": "每月支付（万元）",
    "Patent transfers by transferor": "按转让方统计的专利转化",
    "Recorded": "已登记",
    "Put into production": "已实施",
    "Financing": "知识产权融资",
    "Reference": "编号",
    "Enterprise": "企业",
    "Instrument": "融资方式",
    "Lender": "出资机构",
    "Registered on": "登记日期",
    "Principal": "本金",
    "Drawn": "已提款",
    "Repaid": "已还款",
    "Defaulted": "违约",
    "No financing.": "暂无融资。",
    "Position": "位置",
    "Recorded at": "记录时间",
    "Actor": "操作人",
    "Event": "事件",
    "Document": "文号/凭证",
    "Summary": "摘要",
    "No events.": "暂无事件。",
    "Pages": "分页",
    "Previous": "上一页",
    "Page %(n)d": "第 %(n)d 页",
    "Next": "下一页",
    "Fiscal year": "年度",
    "Show": "显示",
    "Patent transfers": "专利转化",
    "Patent": "专利",
    "Transferee": "受让企业",
    "Transferor kind": "转让方类型",
    "Mode": "方式",
    "Signed on": "签约日期",
    "Contract value": "合同金额",
    "Recordal": "登记备案",
    "In production": "实施",
    "Revenue": "收入",
    "Terminated": "终止",
    "No patent transfers.": "暂无专利转化。",
    "Audit": "审计",
    "Latest signed tree heads": "最新签名树头",
    "Tree size": "树大小",
    "Root hash": "根哈希",
    "Signed at": "签名时间",
    "Signature": "签名",
    "No signed tree head yet.": "尚无签名树头。",
    "Last verification": "最近一次校验",
    "The log has not been verified yet.": "日志尚未校验。",
    "Inclusion proof": "包含证明",
    "Log position": "日志位置",
    "Tree size (empty: latest)": "树大小（留空：最新）",
    "Get proof": "获取证明",
    "Check it with scripts/verify_proof.py, which needs only Python.": "可用 scripts/verify_proof.py 校验，只需 Python。",
    "Position %(p)d is not in a tree of that size (the Merkle log holds %(n)d events).": "位置 %(p)d 不在该大小的树中（默克尔日志共有 %(n)d 个事件）。",
    "Songjiang support ledger": "松江区扶持资金台账",
    "Skip to content": "跳到正文",
    "Quality, standards and IP support, 2025 policy": "质量、标准化与知识产权扶持（2025 年政策）",
    "Main": "主导航",
    "Dashboard": "总览",
    "Enterprises": "企业",
    "Measures": "措施",
    "Sign out": "退出",
    "Views current to log position %(p)d of %(n)d, recorded %(t)s.": "视图已更新至日志位置 %(p)d（共 %(n)d），记录于 %(t)s。",
    "%(k)d newer events are not shown yet.": "另有 %(k)d 个较新事件尚未显示。",
    "Times are Beijing time (Asia/Shanghai); amounts are yuan.": "时间为北京时间（Asia/Shanghai），金额单位为元。",
    "Budget use per measure": "各措施预算使用",
    "Measure": "措施",
    "Remaining": "剩余",
    "Utilisation": "使用率",
    "No budgets yet.": "暂无预算。",
    "Paid per pillar": "各板块已支付",
    "Pillar": "板块",
    "Payments per month": "每月支付",
    "Month": "月份",
    "Payments": "拨付",
    "Conversion metrics": "转化指标",
    "Patent transfers recorded": "专利转化登记数",
    "Share put into production": "实施比例",
    "Median days from transfer to production": "从转化到实施的天数中位数",
    "Revenue reported": "报告收入",
    "Contract value per subsidy yuan": "每元资助对应合同金额",
    "IP financing principal": "知识产权融资本金",
    "Financing per subsidy yuan (leverage)": "每元贴息撬动融资（杠杆）",
    "Financing default rate": "融资违约率",
    "Award payment rate": "奖补支付率",
    "Median days from grant to first payment": "从批准到首次支付的天数中位数",
    "Clawback rate": "追回率",
    "Transferor": "转让方",
    "Share": "比例",
    "Credit code": "统一社会信用代码",
    "Town": "镇街",
    "Industry": "行业",
    "Audit trail": "审计轨迹",
    "Awards": "奖补",
    "Balances by fiscal year": "各年度余额",
    "Granted": "已批准",
    "Revoked": "已撤销",
    "Pending approval": "待审批",
    "Reversed": "已冲回",
    "Clawback ordered": "责令追回",
    "Clawback recovered": "已追回",
    "Outstanding": "未付",
    "No awards yet.": "暂无奖补。",
    "Awards with their payments": "奖补及其拨付",
    "Item": "支持事项",
    "Decision": "文号",
    "Granted on": "批准日期",
    "revoked": "已撤销",
    "No awards.": "暂无奖补。",
    "Latest events of this enterprise": "该企业的最新事件",
    "Older events": "更早的事件",
    "Latest events": "最新事件",
    "Newer awards": "较新的奖补",
    "Older awards": "更早的奖补",
    "Name or credit code": "名称或统一社会信用代码",
    "All towns": "全部镇街",
    "Search": "搜索",
    "Name": "名称",
    "No enterprise matches.": "没有匹配的企业。",
    "Back to the dashboard": "返回总览",
    "Event %(p)d": "事件 %(p)d",
    "Type": "类型",
    "Aggregate": "聚合",
    "Fields": "字段",
    "fen": "分",
    "Previous event": "上一个事件",
    "Next event": "下一个事件",
    "Support items": "支持事项",
    "Title": "名称",
    "Maximum": "最高额",
    "Counts towards the annual cap": "计入年度上限",
    "yes": "是",
    "no": "否",
    "Budgets by fiscal year": "各年度预算",
    "Released": "已释放",
    "No budget": "无预算",
    "Metrics": "指标",
    "Latest events of this measure": "该措施的最新事件",
    "The thirteen measures and their budgets": "十三项措施及其预算",
    "Code": "代码",
    "Sign in": "登录",
    "Password": "密码",
}
ZH.update(ZH_INDICATORS)  # the indicator and report pages' texts


def write(directory: Path | None = None) -> Path:
    """Write messages.po and messages.mo for Chinese; return the directory."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import write_po

    directory = directory or Path(__file__).parent / "zh" / "LC_MESSAGES"
    directory.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(locale="zh", project="songjiang-ledger", charset="utf-8")
    for english, chinese in ZH.items():
        flags = ("python-format",) if "%(" in english else ()
        catalog.add(english, chinese, flags=flags)
    with open(directory / "messages.po", "wb") as po:
        write_po(po, catalog, omit_header=False, width=100)
    with open(directory / "messages.mo", "wb") as mo:
        write_mo(mo, catalog)
    return directory


if __name__ == "__main__":
    print(write())
