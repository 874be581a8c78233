"""The ledger's errors: one class per stable error code of DESIGN §4.

Every refusal the ledger gives is a `LedgerError` with a machine-readable `code` and a
human message in Chinese and English. A rejected command changes nothing.

A raise site names the facts, never the words: `raise AboveItemMaximum(amount_fen=…,
max_fen=…, measure=…, item=…)`. The words are the catalogue's (`ledger.messages`), chosen by
the code and, where one code has several messages, a `variant`; amounts are shown in yuan.
The fields a class lists in `detail_names` are also given to clients as `details`.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ledger.messages import render

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
    #: The fields (of those a raise site gives) that clients also get as `details`.
    detail_names: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        message_en: str | None = None,
        *,
        message_zh: str | None = None,
        variant: str | None = None,
        **fields: Any,
    ) -> None:
        """Build the messages from the catalogue (by `code` and `variant`) and `fields`.

        `message_en`/`message_zh` are for callers outside the ledger's own rules that have
        their words already (a CLI's "no such award"); the ledger itself passes fields only.
        """
        if message_en is None:
            message_zh, message_en = render(self.code, variant, fields)
        message_en = printable(message_en)
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = printable(message_zh or f"{self.title_zh}：{message_en}")
        self.variant = variant
        self.fields = fields
        self.details = {name: fields[name] for name in self.detail_names if name in fields}

    def as_result(self) -> LedgerError:
        """This refusal as a value (one command's result among a batch's): without its
        traceback and the exceptions it was raised during. Those hold the frames it passed
        through, and a frame the list of results it is kept in: a reference cycle per refusal,
        which only a full collection would free (and `ledger import` runs without them:
        `ledger.tuning.old_objects_unscanned`)."""
        self.__traceback__ = None
        self.__context__ = None
        self.__cause__ = None
        return self

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


class BudgetExceeded(LedgerError):
    """The budget has not enough left for this."""

    code = "budget_exceeded"
    title_zh = "超出预算"
    detail_names = ("remaining_fen",)


class NoBudget(LedgerError):
    """No budget was appropriated for this measure and year."""

    code = "no_budget"
    title_zh = "无预算"


class CapExceeded(LedgerError):
    """The enterprise would exceed its annual cap."""

    code = "cap_exceeded"
    title_zh = "超出年度上限"
    detail_names = ("committed_fen", "cap_fen")


class AboveItemMaximum(LedgerError):
    """The amount is above the support item's maximum."""

    code = "above_item_maximum"
    title_zh = "超出事项最高额"
    detail_names = ("max_fen",)


class Overpayment(LedgerError):
    """The payment would exceed what is still owed."""

    code = "overpayment"
    title_zh = "超额支付"
    detail_names = ("payable_fen",)


class SelfApproval(LedgerError):
    """The approver must not be the person who recorded it."""

    code = "self_approval"
    title_zh = "不得自行审批"


class InvalidState(LedgerError):
    """The thing is not in a state that allows this."""

    code = "invalid_state"
    title_zh = "状态不允许"
    detail_names = ("status",)


class PendingDisbursement(LedgerError):
    """A disbursement is still waiting for approval."""

    code = "pending_disbursement"
    title_zh = "存在待审批拨付"
    detail_names = ("pending_fen",)


class AwardRevoked(LedgerError):
    """The award has been revoked."""

    code = "award_revoked"
    title_zh = "奖补已撤销"


class ClawbackExceedsPaid(LedgerError):
    """The clawback exceeds what was paid and not yet ordered."""

    code = "clawback_exceeds_paid"
    title_zh = "追回超出已付"
    detail_names = ("claimable_fen",)


class RecoveryExceedsClawback(LedgerError):
    """The recovery exceeds what its clawback ordered."""

    code = "recovery_exceeds_clawback"
    title_zh = "回收超出追回令"
    detail_names = ("outstanding_fen",)


class UnknownEnterprise(LedgerError):
    """No enterprise has this credit code."""

    code = "unknown_enterprise"
    title_zh = "未知企业"


class UnknownMeasure(LedgerError):
    """No measure has this code."""

    code = "unknown_measure"
    title_zh = "未知措施"


class UnknownItem(LedgerError):
    """The measure has no current item with this code."""

    code = "unknown_item"
    title_zh = "未知支持事项"
    detail_names = ("field",)


class UnknownAward(LedgerError):
    """No award has this reference."""

    code = "unknown_award"
    title_zh = "未知奖补"
    detail_names = ("field",)


class UnknownDisbursement(LedgerError):
    """No disbursement has this reference."""

    code = "unknown_disbursement"
    title_zh = "未知拨付"


class UnknownTransfer(LedgerError):
    """No patent transfer has this reference."""

    code = "unknown_transfer"
    title_zh = "未知专利转化"


class UnknownFinancing(LedgerError):
    """No financing has this reference."""

    code = "unknown_financing"
    title_zh = "未知融资"


class UnknownActor(LedgerError):
    """No user has this name."""

    code = "unknown_actor"
    title_zh = "未知操作人"


class Forbidden(LedgerError):
    """The actor does not hold the role this needs."""

    code = "forbidden"
    title_zh = "无权限"
    detail_names = ("role",)


class ValidationFailed(LedgerError):
    """The command's fields are not valid."""

    code = "validation_error"
    title_zh = "输入无效"
    detail_names = ("fields",)


class InvalidUscc(LedgerError):
    """The unified social credit code is not valid."""

    code = "invalid_uscc"
    title_zh = "统一社会信用代码无效"
    detail_names = ("fields",)


class InvalidPatentNo(LedgerError):
    """The patent application number is not valid."""

    code = "invalid_patent_no"
    title_zh = "专利申请号无效"
    detail_names = ("fields",)


class InvalidTown(LedgerError):
    """The code is not one of Songjiang's 17 towns."""

    code = "invalid_town"
    title_zh = "镇街代码无效"
    detail_names = ("fields",)


class ReferenceConflict(LedgerError):
    """The reference was already used for a different command."""

    code = "reference_conflict"
    title_zh = "编号冲突"
    detail_names = ("key",)


class UnreadableFile(LedgerError):
    """The import file cannot be read as a whole (not UTF-8 text, binary, or not JSON Lines/CSV)."""

    code = "unreadable_file"
    title_zh = "文件无法读取"


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
