"""Money as integer fen (1 yuan = 100 fen): exact parsing, formatting and checks.

No floats are used anywhere. Yuan text is parsed digit by digit, so "0.1" is exactly
10 fen and "1.234" is refused rather than rounded.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "FEN_PER_WAN",
    "FEN_PER_YUAN",
    "MAX_FEN",
    "MoneyError",
    "check_fen",
    "format_wan",
    "format_yuan",
    "parse_yuan",
]

FEN_PER_YUAN = 100
#: One 万元 (ten thousand yuan) in fen.
FEN_PER_WAN = 10_000 * FEN_PER_YUAN

#: The largest amount `check_fen` lets through (2**53 - 1, about 90 trillion yuan): every
#: JSON client, JavaScript included, reads it exactly, and it fits a 64-bit column.
MAX_FEN = 2**53 - 1


class MoneyError(ValueError):
    """An amount that is not valid, with the reason in Chinese and English.

    `field` names the field being checked when one is known; `value` is what was given.
    str() gives the English message.
    """

    def __init__(
        self,
        message_en: str,
        message_zh: str,
        *,
        field: str | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh
        self.field = field
        self.value = value

    def __str__(self) -> str:
        return self.message_en


_AMOUNT_RE = re.compile(
    r"""
    (?P<sign1>-)?\s*
    (?:¥\s*)?
    (?P<sign2>-)?\s*
    (?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)
    (?:\.(?P<frac>[0-9]{1,2}))?
    \s*(?:元)?
    """,
    re.VERBOSE | re.ASCII,
)
_TOO_PRECISE_RE = re.compile(r"[0-9,]*\.[0-9]{3,}", re.ASCII)
_DIGITS_AND_COMMAS_RE = re.compile(r"[0-9][0-9,]*(?:\.[0-9]*)?", re.ASCII)


def parse_yuan(text: str, *, allow_negative: bool = False) -> int:
    """Return the amount in fen of yuan text such as "1,234.56", "¥1,000.00" or "1000元".

    At most two decimal places are allowed; thousands separators, if used, must group
    every three digits. A leading minus sign is accepted only with `allow_negative`.
    Full-width characters are folded to ASCII first. Raises `MoneyError` for anything
    else, including empty text.
    """
    if not isinstance(text, str):
        raise MoneyError(
            f"a yuan amount must be text, not {type(text).__name__}",
            "金额必须为文本",
            value=text,
        )
    folded = unicodedata.normalize("NFKC", text).replace("\u2212", "-").strip()
    if not folded:
        raise MoneyError("the amount is empty", "金额为空", value=text)
    match = _AMOUNT_RE.fullmatch(folded)
    if match is None:
        raise _describe_bad_amount(folded, text)
    negative = bool(match["sign1"] or match["sign2"])
    if match["sign1"] and match["sign2"]:
        raise MoneyError(
            f"the amount {folded!r} has two minus signs",
            f"金额“{folded}”有两个负号",
            value=text,
        )
    whole = int(match["whole"].replace(",", ""))
    frac = int((match["frac"] or "").ljust(2, "0"))
    amount_fen = whole * FEN_PER_YUAN + frac
    if negative and amount_fen and not allow_negative:
        raise MoneyError(
            f"the amount {folded!r} is negative, which is not allowed here",
            f"金额“{folded}”为负数，此处不允许",
            value=text,
        )
    return -amount_fen if negative else amount_fen


def _describe_bad_amount(folded: str, text: str) -> MoneyError:
    """The most helpful error for text that is not a well-formed amount."""
    number = folded.lstrip("-¥ ").removesuffix("元").strip()
    if _TOO_PRECISE_RE.fullmatch(number):
        return MoneyError(
            f"the amount {folded!r} has more than two decimal places; fen is the smallest unit",
            f"金额“{folded}”超过两位小数，最小单位为分",
            value=text,
        )
    if "," in number and _DIGITS_AND_COMMAS_RE.fullmatch(number):
        return MoneyError(
            f"the amount {folded!r} has misplaced thousands separators; write e.g. 1,234,567.89",
            f"金额“{folded}”千位分隔符位置错误，应如 1,234,567.89",
            value=text,
        )
    return MoneyError(
        f"{folded!r} is not a yuan amount; write e.g. 1,234.56",
        f"“{folded}”不是有效金额，应如 1,234.56",
        value=text,
    )


def _require_int(amount_fen: object) -> int:
    if type(amount_fen) is not int:
        raise MoneyError(
            f"an amount in fen must be an int, not {type(amount_fen).__name__}",
            "以分计的金额必须为整数",
            value=amount_fen,
        )
    return amount_fen


def format_yuan(amount_fen: int, *, symbol: bool = False) -> str:
    """Return fen as yuan text with two decimals and thousands separators: 123456 →
    "1,234.56"; with `symbol`, "¥1,234.56" (and "-¥1,234.56" below zero).

    The one yuan formatter of the project: the CLI's tables, the trail's summaries and the web
    all use it (it runs for nearly every event of a rebuild, so it is kept short).
    """
    if type(amount_fen) is not int:
        _require_int(amount_fen)
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{'¥' if symbol else ''}{yuan:,}.{fen:02d}"


def format_wan(amount_fen: int) -> str:
    """Return fen as an exact short figure in 万 (10,000 yuan): 100_000_000 → "100万".

    Fractions are written exactly and without trailing zeros: 1_500_000 → "1.5万".
    """
    amount = _require_int(amount_fen)
    sign = "-" if amount < 0 else ""
    wan, rest = divmod(abs(amount), FEN_PER_WAN)
    if rest:
        return f"{sign}{wan}.{f'{rest:06d}'.rstrip('0')}万"
    return f"{sign}{wan}万"


def check_fen(
    value: object,
    *,
    field: str,
    allow_negative: bool = False,
    allow_zero: bool = False,
) -> int:
    """Return `value` if it is a valid amount in fen for `field`, or raise `MoneyError`.

    The value must be an int (bool and float are refused) no larger in size than
    `MAX_FEN`; it must be positive unless `allow_zero` or `allow_negative` say otherwise.
    """
    if type(value) is not int:
        raise MoneyError(
            f"{field} must be an integer number of fen, not {type(value).__name__}",
            f"{field} 必须为以分计的整数",
            field=field,
            value=value,
        )
    if abs(value) > MAX_FEN:
        raise MoneyError(
            f"{field} is out of range: {value} fen exceeds {MAX_FEN} in size",
            f"{field} 超出范围：{value} 分的绝对值大于 {MAX_FEN}",
            field=field,
            value=value,
        )
    if value == 0 and not allow_zero:
        raise MoneyError(f"{field} must not be zero", f"{field} 不得为零", field=field, value=value)
    if value < 0 and not allow_negative:
        raise MoneyError(
            f"{field} must not be negative, got {value} fen",
            f"{field} 不得为负数，实为 {value} 分",
            field=field,
            value=value,
        )
    return value
