"""Every human message the ledger's errors carry, in Chinese and English, in one catalogue.

A message is found by its error's code and, where one code says several things, a variant
(`"invalid_state.transfer_terminated"`). Templates name fields (`{reference!r}`); an amount
is given to `render` in fen (`amount_fen`) and shown in yuan with two decimals (`{amount_yuan}`
is made from it by `ledger.money.format_yuan`): no message ever shows fen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.money import format_yuan

#: (zh, en) per code or code.variant.
MESSAGES: dict[str, tuple[str, str]] = {
    # -- money and rules ---------------------------------------------------------------------
    "budget_exceeded": (
        "金额 {amount_yuan} 元超出 {measure}/{fiscal_year} 预算余额（{remaining_yuan} 元）",
        "{amount_yuan} yuan exceeds what is left of the {measure}/{fiscal_year} budget "
        "({remaining_yuan} yuan)",
    ),
    "budget_exceeded.cut": (
        "核减 {cut_yuan} 元后 {measure}/{fiscal_year} 预算将低于已承诺金额（余额 {remaining_yuan} 元）",
        "a cut of {cut_yuan} yuan would leave the {measure}/{fiscal_year} budget below what is "
        "committed (remaining {remaining_yuan} yuan)",
    ),
    "no_budget": (
        "{measure} 措施 {fiscal_year} 年度尚无预算",
        "nothing was appropriated for {measure} in {fiscal_year}",
    ),
    "cap_exceeded": (
        "企业 {uscc} {fiscal_year} 年已承诺 {committed_yuan} 元，再加 {amount_yuan} 元将超出年度上限 "
        "{cap_yuan} 元",
        "{uscc} has {committed_yuan} yuan committed in {fiscal_year}; {amount_yuan} yuan more "
        "would exceed the annual cap of {cap_yuan} yuan",
    ),
    "above_item_maximum": (
        "金额 {amount_yuan} 元超过 {measure}/{item} 最高额 {max_yuan} 元",
        "{amount_yuan} yuan is above the maximum of {measure}/{item} ({max_yuan} yuan)",
    ),
    "overpayment": (
        "金额 {amount_yuan} 元超出奖补 {reference} 可支付余额 {payable_yuan} 元",
        "{amount_yuan} yuan exceeds what award {reference} may still pay ({payable_yuan} yuan: "
        "granted − revoked − paid − pending)",
    ),
    "overpayment.drawing": (
        "提款 {amount_yuan} 元超出融资 {reference} 未提本金 {undrawn_yuan} 元",
        "drawing {amount_yuan} yuan would exceed the principal of financing {reference} "
        "({undrawn_yuan} yuan undrawn)",
    ),
    "overpayment.repaying": (
        "还款 {amount_yuan} 元超出融资 {reference} 未还金额 {outstanding_yuan} 元",
        "repaying {amount_yuan} yuan would exceed what financing {reference} drew "
        "({outstanding_yuan} yuan outstanding)",
    ),
    "self_approval": (
        "{actor} 录入了拨付 {reference}，不得自行审批",
        "{actor} recorded disbursement {reference} and may not approve it",
    ),
    "pending_disbursement": (
        "奖补 {reference} 有 {pending_yuan} 元待审批拨付，请先审批",
        "award {reference} has {pending_yuan} yuan waiting for approval; approve or reject it first",
    ),
    "award_revoked": ("奖补 {reference} 已撤销", "award {reference} was revoked"),
    "clawback_exceeds_paid": (
        "追回金额 {amount_yuan} 元超出奖补 {reference} 可追回金额 {claimable_yuan} 元",
        "{amount_yuan} yuan exceeds what award {reference} paid and has not already ordered "
        "back ({claimable_yuan} yuan)",
    ),
    "recovery_exceeds_clawback": (
        "回收金额 {amount_yuan} 元超出追回令 {clawback_reference} 未回收金额 {outstanding_yuan} 元",
        "{amount_yuan} yuan exceeds what clawback {clawback_reference} still orders "
        "({outstanding_yuan} yuan)",
    ),
    # -- states ------------------------------------------------------------------------------
    "invalid_state.disbursement_status": (
        "拨付 {reference} 当前状态为 {status}，不是 {expected}",
        "disbursement {reference} is {status}, not {expected}",
    ),
    "invalid_state.reversal_blocked": (
        "拨付 {reference} 已有 {clawback_ordered_yuan} 元追回令，不能冲销",
        "disbursement {reference} cannot be reversed: clawbacks of {clawback_ordered_yuan} yuan "
        "rest on it",
    ),
    "invalid_state.award_revoked": (
        "奖补 {reference} 已撤销", "award {reference} is already revoked"
    ),
    "invalid_state.financing_defaulted": (
        "融资 {reference} 已于 {defaulted_on} 违约", "financing {reference} defaulted on {defaulted_on}"
    ),
    "invalid_state.transfer_terminated": (
        "专利转化 {reference} 已于 {terminated_on} 终止",
        "transfer {reference} was terminated on {terminated_on}",
    ),
    "invalid_state.item_exists": (
        "措施 {measure} 已有支持事项 {item!r}", "measure {measure} already has item {item!r}"
    ),
    "invalid_state.role_held": ("{name} 已有 {role} 角色", "{name} already holds the role {role}"),
    "invalid_state.role_missing": ("{name} 没有 {role} 角色", "{name} does not hold the role {role}"),
    "invalid_state.token_missing": (
        "{name} 没有使用中的令牌 {token_id}", "{name} has no token {token_id} in use"
    ),
    "invalid_state.user_exists": ("用户 {name} 已存在", "user {name} already exists"),
    # -- what is not there -------------------------------------------------------------------
    "unknown_enterprise": (
        "未登记统一社会信用代码为 {uscc} 的企业", "no enterprise is registered with credit code {uscc}"
    ),
    "unknown_measure": ("措施 {measure} 尚未定义", "measure {measure} is not defined; run `ledger init`"),
    "unknown_item": (
        "措施 {measure} 没有有效的支持事项 {item!r}", "measure {measure} has no current item {item!r}"
    ),
    "unknown_award": ("没有编号为 {reference!r} 的奖补", "no award has reference {reference!r}"),
    "unknown_award.clawback": (
        "没有编号为 {reference!r} 的追回令", "no clawback has reference {reference!r}"
    ),
    "unknown_disbursement": (
        "没有编号为 {reference!r} 的拨付", "no disbursement has reference {reference!r}"
    ),
    "unknown_transfer": (
        "没有编号为 {reference!r} 的专利转化", "no patent transfer has reference {reference!r}"
    ),
    "unknown_financing": ("没有编号为 {reference!r} 的融资", "no financing has reference {reference!r}"),
    # -- who acts ----------------------------------------------------------------------------
    "unknown_actor": ("没有名为 {name!r} 的用户", "no user is called {name!r}"),
    "unknown_actor.acting": (
        "没有名为 {name!r} 的用户", "no user is called {name!r}; pick one with --as or LEDGER_ACTOR"
    ),
    "forbidden": ("{actor} 没有 {role} 角色", "{actor} does not hold the role {role}"),
    "forbidden.command": (
        "{actor} 没有此命令所需的 {role} 角色", "{actor} does not hold the role {role} this command needs"
    ),
    "reference_conflict": (
        "{command_type} 编号 {key!r} 已用于内容不同的命令",
        "{command_type} {key!r} was already recorded with other content",
    ),
    # -- input -------------------------------------------------------------------------------
    "validation_error": ("输入无效：{summary}", "{summary}"),
    "validation_error.not_object": ("命令必须是 JSON 对象", "a command must be a JSON object"),
    "validation_error.entry_too_large": (
        "输入过大：此命令将记录 {size_bytes} 字节的事件，日志条目须小于 {limit_bytes} 字节",
        "too large: this command would record an event of {size_bytes} bytes; log entries must be "
        "under {limit_bytes} bytes",
    ),
    "validation_error.unknown_type": (
        "未知命令类型 {shown}（应为以下之一：{expected}）", "unknown command type {shown}; expected one of {expected}"
    ),
    "validation_error.not_utf8": (
        "输入无效：{what_zh}不是有效的 UTF-8 编码（第 {byte} 字节）",
        "{what} is not valid UTF-8 (byte {byte})",
    ),
    "validation_error.not_json": (
        "输入无效：{what_zh}不是有效的 JSON：第 {line} 行第 {column} 列（{reason}）",
        "{what} is not valid JSON: {reason} at line {line} column {column}",
    ),
    "validation_error.too_many_digits": (
        "输入无效：{what_zh}中的数字位数过多", "{what} holds a number with too many digits"
    ),
    "validation_error.too_deep": (
        "输入无效：{what_zh}的列表或对象嵌套超过 {depth_max} 层",
        "{what} nests lists or objects more than {depth_max} levels deep",
    ),
    "validation_error.line_not_object": (
        "输入无效：每行须为一个 JSON 对象", "a line must be one JSON object"
    ),
    "validation_error.csv_row": ("输入无效：CSV 行无效（{reason}）", "not a valid CSV row: {reason}"),
    "validation_error.user_name": (
        "用户名须为 1 至 {max_length} 个字符，不含空格、控制字符或不可见字符",
        "a user name is 1 to {max_length} characters without spaces, control or invisible characters",
    ),
    "validation_error.password_short": (
        "密码至少需要 {min_length} 个字符", "a password needs at least {min_length} characters"
    ),
    "validation_error.password_long": (
        "密码最多 {max_length} 个字符", "a password has at most {max_length} characters"
    ),
    "validation_error.password_has_name": (
        "密码不得为用户名，也不得包含用户名", "a password must not be or contain the user name"
    ),
    "validation_error.token_days": (
        "令牌有效期须为 1 至 {max_days} 天", "a token lives 1 to {max_days} days"
    ),
    "validation_error.roles": (
        "用户需要有效角色（可选：{roles}；无效：{bad_roles}）",
        "a user needs roles from {roles}; bad: {bad_roles}",
    ),
    "validation_error.role_unknown": ("未知角色 {role!r}", "unknown role {role!r}"),
    "validation_error.actor_not_text": (
        "输入无效：actor 须为用户名（不含不可见字符的文本）",
        "actor: must be a user name (text without invisible characters)",
    ),
    "validation_error.actor_too_long": (
        "输入无效：actor 超过 {max_chars} 个字符", "actor: longer than {max_chars} characters"
    ),
    "validation_error.yuan_and_fen": (
        "输入无效：{name} 与 {fen_name} 只能给出其一", "give either {name} or {fen_name}, not both"
    ),
    "validation_error.yuan_not_text": (
        "输入无效：{name} 的元金额须为文本，例如 \"1,234.56\"",
        "{name}: a yuan amount must be text such as \"1,234.56\"",
    ),
    "validation_error.yuan_invalid": ("输入无效：{name}：{reason_zh}", "{name}: {reason_en}"),
    "validation_error.yuan_too_many_digits": (
        "输入无效：{name} 的金额位数过多", "{name}: the amount has too many digits"
    ),
    "invalid_uscc": ("统一社会信用代码无效：{summary}", "{summary}"),
    "invalid_patent_no": ("专利申请号无效：{summary}", "{summary}"),
    "invalid_town": ("镇街代码无效：{summary}", "{summary}"),
    # -- import files ------------------------------------------------------------------------
    "unreadable_file.nul": (
        "文件无法读取：文件含有 NUL 字节（首个在第 {byte} 字节），是二进制文件而不是文本",
        "the file holds NUL bytes (first at byte {byte}): it is binary, not text",
    ),
    "unreadable_file.not_utf8": (
        "文件无法读取：文件不是 UTF-8 文本（约第 {byte} 字节处编码无效），请另存为 UTF-8",
        "the file is not UTF-8 text (invalid byte near byte {byte}); save it as UTF-8",
    ),
    "unreadable_file.not_csv": (
        "文件无法读取：文件不是命令的 CSV 表格：表头没有任何命令字段",
        "the file is not a CSV sheet of commands: its header row names no command field",
    ),
    "unreadable_file.not_jsonl": (
        "文件无法读取：文件不是 JSON Lines 格式：没有一行是 JSON 对象",
        "the file is not JSON Lines: no line is a JSON object",
    ),
}

#: How a message names the text it is about (`what` of `load_json`), in Chinese.
SUBJECTS_ZH = {"the input": "输入", "the body": "请求正文", "the line": "此行", "the command": "命令"}


def subject_zh(what: str) -> str:
    return SUBJECTS_ZH.get(what, what)


def message_key(code: str, variant: str | None) -> str:
    return f"{code}.{variant}" if variant else code


def render(code: str, variant: str | None, fields: Mapping[str, Any]) -> tuple[str, str]:
    """The (zh, en) messages of this code and variant, filled in with `fields`.

    Every int field `x_fen` is also offered as `x_yuan`, formatted with two decimals.
    """
    zh, en = MESSAGES[message_key(code, variant)]
    values = dict(fields)
    for name, value in fields.items():
        if name.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
            values[name[: -len("_fen")] + "_yuan"] = format_yuan(value)
    return zh.format_map(values), en.format_map(values)
