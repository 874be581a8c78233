"""The one table of spreadsheet column names: every command field, its Chinese header, and the
Chinese names of command types (sheet names) and of the coded choices.

Imports (`ledger import`), templates (`ledger template`) and exports use these same names, so a
sheet exported or downloaded can be filled in and imported again. Pure data and lookups: no I/O,
no third-party imports, importable from the read side and the web.

Amounts appear in spreadsheets in yuan: the column of `amount_fen` is `amount_yuan`
(金额（元）), converted exactly to fen by the importer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

from ledger import commands

#: Field name → Chinese column header, in the order columns are laid out. Yuan columns stand
#: for the `*_fen` fields of the commands (exports show amounts in yuan too).
FIELD_HEADERS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "type": "命令类型",
        "actor": "经办人",
        "reference": "编号",
        "uscc": "统一社会信用代码",
        "name": "企业名称",
        "town_code": "所属街镇",
        "industry": "所属行业",
        "measure": "措施",
        "item": "支持事项",
        "fiscal_year": "年度",
        "award_reference": "奖励编号",
        "clawback_reference": "追回编号",
        "financing_reference": "融资编号",
        "amount_yuan": "金额（元）",
        "delta_yuan": "调整金额（元）",
        "contract_value_yuan": "合同金额（元）",
        "principal_yuan": "本金（元）",
        "decision_ref": "文号",
        "voucher_no": "凭证号",
        "granted_on": "批准日期",
        "paid_on": "拨付日期",
        "recovered_on": "收回日期",
        "signed_on": "签订日期",
        "registered_on": "登记日期",
        "on": "日期",
        "basis": "依据",
        "reason": "原因",
        "patent_no": "专利号",
        "transferor_name": "转让方名称",
        "transferor_kind": "转让方类型",
        "transferor_uscc": "转让方统一社会信用代码",
        "mode": "转化方式",
        "outcome": "转化成果",
        "instrument": "融资方式",
        "lender": "金融机构",
        "annual_rate_bp": "年利率（基点）",
        "term_months": "期限（月）",
        "collateral": "质押专利或商标号",
        "event": "融资事项",
    }
)

#: Other Chinese headers people write for the same columns (read, never written).
HEADER_ALIASES_ZH: Mapping[str, str] = MappingProxyType(
    {
        "信用代码": "uscc",
        "社会信用代码": "uscc",
        "企业": "name",
        "街镇": "town_code",
        "街镇代码": "town_code",
        "行业": "industry",
        "措施代码": "measure",
        "事项": "item",
        "财政年度": "fiscal_year",
        "金额": "amount_yuan",
        "奖补金额（元）": "amount_yuan",
        "拨付金额（元）": "amount_yuan",
        "批复文号": "decision_ref",
        "决定文号": "decision_ref",
        "凭证编号": "voucher_no",
        "付款日期": "paid_on",
        "授予日期": "granted_on",
        "年利率（bp）": "annual_rate_bp",
        "期限": "term_months",
        "质押物": "collateral",
    }
)

#: Command type → Chinese name (also the name of its sheet in a workbook; at most 31 characters).
TYPE_NAMES_ZH: Mapping[str, str] = MappingProxyType(
    {
        commands.RegisterEnterprise.type: "企业登记",
        commands.UpdateEnterprise.type: "企业信息变更",
        commands.AppropriateBudget.type: "预算下达",
        commands.AdjustBudget.type: "预算调整",
        commands.GrantAward.type: "奖补认定",
        commands.RecordDisbursement.type: "拨付登记",
        commands.ApproveDisbursement.type: "拨付审批通过",
        commands.RejectDisbursement.type: "拨付审批退回",
        commands.ReverseDisbursement.type: "拨付冲正",
        commands.RevokeAward.type: "撤销奖补",
        commands.OrderClawback.type: "追回决定",
        commands.RecordClawbackRecovery.type: "追回到账",
        commands.RecordPatentTransfer.type: "专利转移转化",
        commands.RecordTransferOutcome.type: "转化成果登记",
        commands.RegisterFinancing.type: "知识产权融资登记",
        commands.RecordFinancingEvent.type: "融资事项登记",
    }
)

#: The Chinese names of the coded choices some fields take (the codes are accepted too).
CHOICE_LABELS_ZH: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "transferor_kind": MappingProxyType(
            {
                "university": "高校",
                "institute": "科研院所",
                "hospital": "医院",
                "enterprise": "企业",
            }
        ),
        "mode": MappingProxyType(
            {
                "assignment": "转让",
                "exclusive_licence": "独占许可",
                "sole_licence": "排他许可",
                "ordinary_licence": "普通许可",
                "open_licence": "开放许可",
            }
        ),
        "outcome": MappingProxyType(
            {
                "recordal_completed": "完成登记备案",
                "implemented": "实施转化",
                "revenue_reported": "报告收益",
                "patent_intensive_product_recognised": "认定专利密集型产品",
                "terminated": "终止",
            }
        ),
        "instrument": MappingProxyType(
            {"pledge_loan": "质押贷款", "ip_insurance": "知识产权保险", "securitisation": "证券化"}
        ),
        "event": MappingProxyType({"drawn": "放款", "repaid": "还款", "defaulted": "违约"}),
    }
)


def normal_header(text: str) -> str:
    """A header as compared: full-width folded (（元） = (元)), spaces and case ignored."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name, zh in FIELD_HEADERS_ZH.items():
        index[normal_header(name)] = name
        index[normal_header(zh)] = name
    for zh, name in HEADER_ALIASES_ZH.items():
        index.setdefault(normal_header(zh), name)
    return index


_HEADERS = _header_index()
_TYPES = {normal_header(n): t for t, n in TYPE_NAMES_ZH.items()} | {
    normal_header(t): t for t in TYPE_NAMES_ZH
}
_CHOICES = {
    field: {normal_header(label): code for code, label in labels.items()}
    for field, labels in CHOICE_LABELS_ZH.items()
}


def field_for_header(header: str) -> str:
    """The field a column header names (a field name, its Chinese header or an alias); any other
    header is returned stripped, as it is, to be refused as an unknown field."""
    return _HEADERS.get(normal_header(header), header.strip())


def type_for_name(name: str) -> str | None:
    """The command type a sheet name (or a `type` cell) names, by its code or Chinese name."""
    return _TYPES.get(normal_header(name))


def code_for_choice(field: str, text: str) -> str:
    """The code of a coded choice given by its Chinese name; other text is returned as it is."""
    return _CHOICES.get(field, {}).get(normal_header(text), text)


def header_zh(field: str) -> str:
    """The Chinese header of a field (its yuan column for a `*_fen` field), else the name."""
    if field.endswith("_fen"):
        field = field[: -len("_fen")] + "_yuan"
    return FIELD_HEADERS_ZH.get(field, field)


def table_text() -> str:
    """The table as help text: sheet names of the command types, then the column headers."""
    lines = ["\b", "Sheets 工作表 (command type = Chinese name):"]
    lines += [f"  {name:<26} {zh}" for name, zh in TYPE_NAMES_ZH.items()]
    lines += ["", "\b", "Columns 表头 (field = Chinese header; amounts in yuan):"]
    lines += [f"  {name:<26} {zh}" for name, zh in FIELD_HEADERS_ZH.items()]
    lines += ["", "\b", "Choices 选项 (code = Chinese name; either may be given):"]
    for choice_field, labels in CHOICE_LABELS_ZH.items():
        lines += [f"  {choice_field}: " + ", ".join(f"{c} = {z}" for c, z in labels.items())]
    lines += ["  town_code: the town's code or name (岳阳街道); item: its code or Chinese title"]
    return "\n".join(lines)
