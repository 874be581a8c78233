"""The columns of every export: field name (the second header row), Chinese header (the first),
and what kind of value it holds.

Columns that are command fields take their Chinese names from the import's table
(`ledger.sheets.headers`), so an exported sheet reads like the sheets officers fill in; the
columns only a view has (totals, status, names) are named here. Yuan columns hold integer fen
in the rows and are written as exact yuan (`#,##0.00`) and summed in the 合计 row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledger.sheets.headers import CHOICE_LABELS_ZH, header_zh

#: How a disbursement's status reads in a sheet (and on the pages).
STATUS_ZH = {"pending": "待审批", "approved": "已批准", "rejected": "已退回", "reversed": "已冲正"}

#: Chinese headers of the view-only columns (command fields are named by ledger.sheets).
VIEW_HEADERS_ZH = {
    "town_name": "街镇名称",
    "item_title": "支持事项名称",
    "status": "状态",
    "revoked": "是否撤销",
    "granted_yuan": "认定金额（元）",
    "revoked_yuan": "撤销金额（元）",
    "paid_yuan": "已拨付（元）",
    "pending_yuan": "待审批（元）",
    "reversed_yuan": "已冲正（元）",
    "clawback_ordered_yuan": "应追回（元）",
    "clawback_recovered_yuan": "已追回（元）",
    "outstanding_yuan": "未拨付（元）",
    "first_paid_on": "首次拨付日期",
    "awards": "奖补项数",
    "appropriated_yuan": "预算（含调整，元）",
    "adjusted_yuan": "其中调整（元）",
    "committed_yuan": "已认定（元）",
    "released_yuan": "已释放（元）",
    "remaining_yuan": "可用余额（元）",
    "recordal_completed_on": "登记备案日期",
    "implemented_on": "实施日期",
    "recognised_on": "认定日期",
    "terminated_on": "终止日期",
    "revenue_yuan": "收益（元）",
    "drawn_yuan": "已放款（元）",
    "repaid_yuan": "已还款（元）",
    "defaulted_on": "违约日期",
    "position": "日志位置",
    "recorded_at": "记录时间（北京时间）",
    "event_type": "事件类型",
    "doc_ref": "文件编号",
    "summary_zh": "摘要",
    "summary_en": "摘要（英文）",
}


@dataclass(frozen=True)
class Column:
    """One column: its field name, Chinese header, kind ("text", "yuan" or "int") and how its
    value is taken from a row (a record or a dict; by default the field, or `<name>_fen`)."""

    name: str
    zh: str
    kind: str = "text"
    get: Callable[[Any], Any] | None = None

    def value(self, row: Any) -> Any:
        if self.get is not None:
            return self.get(row)
        key = self.name[: -len("_yuan")] + "_fen" if self.kind == "yuan" else self.name
        return row[key] if isinstance(row, dict) else getattr(row, key)


def _zh(name: str) -> str:
    return VIEW_HEADERS_ZH.get(name) or header_zh(name)


def text(name: str, get: Callable[[Any], Any] | None = None) -> Column:
    return Column(name, _zh(name), "text", get)


def yuan(name: str) -> Column:
    return Column(name, _zh(name), "yuan")


def count(name: str) -> Column:
    return Column(name, _zh(name), "int")


def choice(field: str) -> Column:
    """A coded choice shown by its Chinese name (the code if it has none)."""
    labels = CHOICE_LABELS_ZH.get(field, {})

    def get(row: Any) -> Any:
        code = row[field] if isinstance(row, dict) else getattr(row, field)
        return labels.get(code, code)

    return text(field, get)


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda row: row[name] if isinstance(row, dict) else getattr(row, name)


def status() -> Column:
    return text("status", lambda row: STATUS_ZH.get(row.status, row.status))


def yes_no(name: str, attribute: str) -> Column:
    return text(name, lambda row: "是" if getattr(row, attribute) else "否")


def town() -> Column:
    return text("town_name", _attr("town_name_zh"))


def enterprise_name() -> Column:
    return text("name", _attr("enterprise_name"))
