"""The ledger's errors: one class per stable error code of DESIGN §4.

Every refusal the ledger gives is a `LedgerError` with a machine-readable `code` and a
human message in Chinese and English. A rejected command changes nothing.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

#: At most this many characters of a message are kept: input is never echoed at length.
MESSAGE_MAX_CHARS = 1000
#: Characters a message never carries as they are (they are shown as `\\uXXXX`): controls
#: other than tab, unpaired surrogates, bidirectional overrides and isolates, zero-width
#: characters and line/paragraph separators. Input echoed in a message cannot spoof the
#: text around it, or break a terminal or a UTF-8 encoder.
_UNSHOWABLE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2069\ufeff]"
)


def printable(text: str, max_chars: int = MESSAGE_MAX_CHARS) -> str:
    """The text made safe to show: unshowable characters escaped, cut to `max_chars`."""
    shown = _UNSHOWABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return shown if len(shown) <= max_chars else shown[: max_chars - 1] + "…"


class LedgerError(Exception):
    """A refused command or query, with a stable `code` and messages in zh and en."""

    code: ClassVar[str] = "ledger_error"
    title_zh: ClassVar[str] = "账本错误"

    def __init__(self, message_en: str, *, message_zh: str | None = None, **details: Any):
        message_en = printable(message_en)
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = printable(message_zh or f"{self.title_zh}：{message_en}")
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The error as the JSON object every client sees."""
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message_en,
            "message_zh": self.message_zh,
        }
        if self.details:
            body["details"] = self.details
        return body


def _error(code: str, title_zh: str, doc: str) -> type[LedgerError]:
    name = "".join(part.capitalize() for part in code.split("_"))
    return type(name, (LedgerError,), {"code": code, "title_zh": title_zh, "__doc__": doc})


BudgetExceeded = _error("budget_exceeded", "超出预算", "The budget has not enough left for this.")
NoBudget = _error("no_budget", "无预算", "No budget was appropriated for this measure and year.")
CapExceeded = _error("cap_exceeded", "超出年度上限", "The enterprise would exceed its annual cap.")
AboveItemMaximum = _error(
    "above_item_maximum", "超出事项最高额", "The amount is above the support item's maximum."
)
Overpayment = _error("overpayment", "超额支付", "The payment would exceed what is still owed.")
SelfApproval = _error(
    "self_approval", "不得自行审批", "The approver must not be the person who recorded it."
)
InvalidState = _error("invalid_state", "状态不允许", "The thing is not in a state that allows this.")
PendingDisbursement = _error(
    "pending_disbursement", "存在待审批拨付", "A disbursement is still waiting for approval."
)
AwardRevoked = _error("award_revoked", "奖补已撤销", "The award has been revoked.")
ClawbackExceedsPaid = _error(
    "clawback_exceeds_paid", "追回超出已付", "The clawback exceeds what was paid and not yet ordered."
)
RecoveryExceedsClawback = _error(
    "recovery_exceeds_clawback", "回收超出追回令", "The recovery exceeds what its clawback ordered."
)
UnknownEnterprise = _error("unknown_enterprise", "未知企业", "No enterprise has this credit code.")
UnknownMeasure = _error("unknown_measure", "未知措施", "No measure has this code.")
UnknownItem = _error("unknown_item", "未知支持事项", "The measure has no current item with this code.")
UnknownAward = _error("unknown_award", "未知奖补", "No award has this reference.")
UnknownDisbursement = _error("unknown_disbursement", "未知拨付", "No disbursement has this reference.")
UnknownTransfer = _error("unknown_transfer", "未知专利转化", "No patent transfer has this reference.")
UnknownFinancing = _error("unknown_financing", "未知融资", "No financing has this reference.")
UnknownActor = _error("unknown_actor", "未知操作人", "No user has this name.")
Forbidden = _error("forbidden", "无权限", "The actor does not hold the role this needs.")
ValidationFailed = _error("validation_error", "输入无效", "The command's fields are not valid.")
InvalidUscc = _error("invalid_uscc", "统一社会信用代码无效", "The unified social credit code is not valid.")
InvalidPatentNo = _error("invalid_patent_no", "专利申请号无效", "The patent application number is not valid.")
InvalidTown = _error("invalid_town", "镇街代码无效", "The code is not one of Songjiang's 17 towns.")
ReferenceConflict = _error(
    "reference_conflict", "编号冲突", "The reference was already used for a different command."
)
UnreadableFile = _error(
    "unreadable_file",
    "文件无法读取",
    "The import file cannot be read as a whole (not UTF-8 text, binary, or not JSON Lines/CSV).",
)

#: Every stable code a command can be refused with, in the order DESIGN §4 lists them.
ERROR_CLASSES: tuple[type[LedgerError], ...] = (
    BudgetExceeded, NoBudget, CapExceeded, AboveItemMaximum, Overpayment, SelfApproval,
    InvalidState, PendingDisbursement, AwardRevoked, ClawbackExceedsPaid,
    RecoveryExceedsClawback, UnknownEnterprise, UnknownMeasure, UnknownItem, UnknownAward,
    UnknownDisbursement, UnknownTransfer, UnknownFinancing, UnknownActor, Forbidden,
    ValidationFailed, InvalidUscc, InvalidPatentNo, InvalidTown, ReferenceConflict,
)  # fmt: skip
ERROR_CODES: tuple[str, ...] = tuple(cls.code for cls in ERROR_CLASSES)
#: Codes about a whole import file rather than one command in it.
FILE_ERROR_CLASSES: tuple[type[LedgerError], ...] = (UnreadableFile,)
#: Every stable code the ledger gives.
ALL_ERROR_CODES: tuple[str, ...] = ERROR_CODES + tuple(cls.code for cls in FILE_ERROR_CLASSES)
