"""Identifiers the ledger accepts: credit codes, patent and trademark numbers, town codes.

Each `validate_*` function takes text as an officer typed it, normalises it and returns
the canonical form, or raises `InvalidIdentifier` saying in Chinese and English what is
wrong. Full-width characters (as typed with a Chinese input method) are folded to their
ASCII forms first. The `make_*` functions append correct check characters, so that demo
data and tests can build valid codes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "ERROR_CODES",
    "TOWNS",
    "USCC_ALPHABET",
    "InvalidIdentifier",
    "Town",
    "make_org_code",
    "make_patent_no",
    "make_uscc",
    "resolve_town",
    "validate_patent_no",
    "validate_town_code",
    "validate_trademark_no",
    "validate_uscc",
]

IdentifierKind = Literal["uscc", "patent_no", "trademark_no", "town_code"]

#: The stable error code (DESIGN §4) that each kind of invalid identifier maps to.
ERROR_CODES: Mapping[str, str] = MappingProxyType(
    {
        "uscc": "invalid_uscc",
        "patent_no": "invalid_patent_no",
        "trademark_no": "validation_error",
        "town_code": "invalid_town",
    }
)


class InvalidIdentifier(ValueError):
    """An identifier that failed validation, with the reason in Chinese and English.

    `kind` names what was being validated ("uscc", "patent_no", "trademark_no" or
    "town_code"), `error_code` is the matching stable error code of DESIGN §4, `value` is
    the text as given and `position` the 1-based position of the offending character
    when one can be named. str() gives the English message.
    """

    def __init__(
        self,
        kind: IdentifierKind,
        message_en: str,
        message_zh: str,
        *,
        value: object = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message_en)
        self.kind = kind
        self.error_code = ERROR_CODES[kind]
        self.message_en = message_en
        self.message_zh = message_zh
        self.value = value
        self.position = position

    def __str__(self) -> str:
        return self.message_en


def _normalise(text: object, kind: IdentifierKind, label_en: str, label_zh: str) -> str:
    """Fold full-width forms to ASCII, strip surrounding whitespace and uppercase."""
    if not isinstance(text, str):
        raise InvalidIdentifier(
            kind,
            f"the {label_en} must be text, not {type(text).__name__}",
            f"{label_zh}必须是文本",
            value=text,
        )
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    if not folded:
        raise InvalidIdentifier(kind, f"the {label_en} is empty", f"{label_zh}为空", value=text)
    return folded


# --- Unified Social Credit Code (GB 32100-2015) --------------------------------------

#: The 31 symbols a credit code may use: digits and capitals without I, O, S, V and Z.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {symbol: value for value, symbol in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY_SYMBOLS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

_USCC_EN = "unified social credit code"
_USCC_ZH = "统一社会信用代码"


def _uscc_check_char(body17: str) -> str:
    total = sum(_USCC_VALUE[c] * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _org_check_char(body8: str) -> str:
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w
        for c, w in zip(body8, _ORG_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _bad_uscc_symbol(code: str, text: object) -> InvalidIdentifier | None:
    for position, symbol in enumerate(code, start=1):
        if symbol not in _USCC_VALUE:
            hint_en = hint_zh = ""
            if symbol in "IOSVZ":
                hint_en = " (credit codes never use the letters I, O, S, V or Z)"
                hint_zh = "（统一社会信用代码不使用字母 I、O、S、V、Z）"
            return InvalidIdentifier(
                "uscc",
                f"the {_USCC_EN} has an invalid character {symbol!r} "
                f"at position {position}{hint_en}",
                f"{_USCC_ZH}第 {position} 位字符“{symbol}”无效{hint_zh}",
                value=text,
                position=position,
            )
    return None


def validate_uscc(text: str) -> str:
    """Return the normalised 18-character credit code, or raise `InvalidIdentifier`.

    The code must have 18 characters from `USCC_ALPHABET`, its last character must be
    the mod-31 check character of the first 17, and the organisation code embedded in
    positions 9 to 17 must pass its own mod-11 check. The expected check character is
    deliberately not revealed, so that a typo is not "fixed" by changing the check.
    """
    code = _normalise(text, "uscc", _USCC_EN, _USCC_ZH)
    if len(code) != 18:
        raise InvalidIdentifier(
            "uscc",
            f"the {_USCC_EN} must have 18 characters, not {len(code)}",
            f"{_USCC_ZH}应为 18 位，实为 {len(code)} 位",
            value=text,
        )
    bad = _bad_uscc_symbol(code, text)
    if bad is not None:
        raise bad
    if _uscc_check_char(code[:17]) != code[17]:
        raise InvalidIdentifier(
            "uscc",
            f"the check character (position 18) of the {_USCC_EN} does not match "
            "the other 17 characters; the code has probably been mistyped",
            f"{_USCC_ZH}第 18 位校验码与前 17 位不符，可能录入有误",
            value=text,
            position=18,
        )
    if _org_check_char(code[8:16]) != code[16]:
        raise InvalidIdentifier(
            "uscc",
            f"the organisation code in positions 9 to 17 of the {_USCC_EN} fails "
            "its check (position 17)",
            f"{_USCC_ZH}第 9 至 17 位的组织机构代码校验不通过（第 17 位）",
            value=text,
            position=17,
        )
    return code


def make_org_code(body8: str) -> str:
    """Return the 9-character organisation code: `body8` followed by its check character.

    `body8` is eight digits or capital letters (GB 11714). Raises `InvalidIdentifier`
    (kind "uscc") if it is not.
    """
    body = _normalise(body8, "uscc", "organisation code body", "组织机构代码本体")
    if len(body) != 8 or not set(body) <= _ORG_BODY_SYMBOLS:
        raise InvalidIdentifier(
            "uscc",
            f"an organisation code body is 8 digits or capital letters, not {body!r}",
            f"组织机构代码本体应为 8 位数字或大写字母，实为“{body}”",
            value=body8,
        )
    return body + _org_check_char(body)


def make_uscc(body17: str) -> str:
    """Return the 18-character credit code: `body17` followed by its check character.

    `body17` must use `USCC_ALPHABET`, and its characters 9 to 17 must already be a
    valid organisation code (build them with `make_org_code`). Raises
    `InvalidIdentifier` (kind "uscc") otherwise.
    """
    body = _normalise(body17, "uscc", "credit code body", "统一社会信用代码本体")
    if len(body) != 17:
        raise InvalidIdentifier(
            "uscc",
            f"a credit code body must have 17 characters, not {len(body)}",
            f"统一社会信用代码本体应为 17 位，实为 {len(body)} 位",
            value=body17,
        )
    bad = _bad_uscc_symbol(body, body17)
    if bad is not None:
        raise bad
    if _org_check_char(body[8:16]) != body[16]:
        raise InvalidIdentifier(
            "uscc",
            "characters 9 to 17 of a credit code body must be a valid organisation code",
            "统一社会信用代码本体第 9 至 17 位应为有效的组织机构代码",
            value=body17,
            position=17,
        )
    return body + _uscc_check_char(body)


# --- CN patent application numbers --------------------------------------------------

_PATENT_RE = re.compile(r"(?:CN|ZL)?(\d{12}|\d{8})\.?([0-9X])", re.ASCII)
_PATENT_TYPES = frozenset("12389")
_PATENT_EN = "patent application number"
_PATENT_ZH = "专利申请号"


def _patent_check_char(body: str) -> str:
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(body)) % 11
    return "X" if total == 10 else str(total)


def _patent_body_problem(body: str) -> tuple[str, str] | None:
    """The (en, zh) reason a 12- or 8-digit body is implausible, or None."""
    if len(body) == 12:
        year, type_digit = int(body[:4]), body[4]
        if not 1985 <= year <= 2099:
            return (
                f"the {_PATENT_EN} starts with year {year}, outside 1985 to 2099",
                f"{_PATENT_ZH}的年份 {year} 不在 1985 至 2099 之间",
            )
    else:
        year = int(body[:2])
        type_digit = body[2]
        if 4 <= year <= 84:
            return (
                f"an 8-digit {_PATENT_EN} starts with a two-digit year from 85 to 03, "
                f"not {body[:2]}",
                f"8 位{_PATENT_ZH}的年份应在 85 至 03 之间，实为 {body[:2]}",
            )
    if type_digit not in _PATENT_TYPES:
        return (
            f"the {_PATENT_EN} has type digit {type_digit}; it must be 1 (invention), "
            "2 (utility model), 3 (design), 8 (PCT invention) or 9 (PCT utility model)",
            f"{_PATENT_ZH}的类型码 {type_digit} 无效，应为 1、2、3、8 或 9",
        )
    return None


def validate_patent_no(text: str) -> str:
    """Return the canonical application number, e.g. "201710601862.3", or raise.

    Accepts an optional "CN" or "ZL" prefix, spaces anywhere, and an optional dot before
    the check character. The body is 12 digits (applications from October 2003) or 8
    digits (earlier ones); the year and type digit must be plausible, and the check
    character must equal the sum of the digits weighted 2, 3, ..., 9 (cycling) mod 11,
    with 10 written as X. Raises `InvalidIdentifier` (kind "patent_no").
    """
    folded = _normalise(text, "patent_no", _PATENT_EN, _PATENT_ZH)
    compact = "".join(folded.split())
    match = _PATENT_RE.fullmatch(compact)
    if match is None:
        raise InvalidIdentifier(
            "patent_no",
            f"a {_PATENT_EN} is 12 digits (8 before 2003), a dot and a check digit or X, "
            f"optionally prefixed with CN or ZL; got {folded!r}",
            f"{_PATENT_ZH}应为 12 位数字（2003 年前为 8 位）、小数点和 1 位校验码"
            f"（数字或 X），可带 CN 或 ZL 前缀；实为“{folded}”",
            value=text,
        )
    body, check = match.groups()
    problem = _patent_body_problem(body)
    if problem is not None:
        raise InvalidIdentifier("patent_no", problem[0], problem[1], value=text)
    if _patent_check_char(body) != check:
        raise InvalidIdentifier(
            "patent_no",
            f"the check character of the {_PATENT_EN} does not match its digits; "
            "the number has probably been mistyped",
            f"{_PATENT_ZH}校验码与数字不符，可能录入有误",
            value=text,
        )
    return f"{body}.{check}"


def make_patent_no(body: str) -> str:
    """Return the canonical application number for a 12- or 8-digit `body`.

    The body must be plausible (year and type digit); raises `InvalidIdentifier`
    (kind "patent_no") otherwise.
    """
    digits = _normalise(body, "patent_no", _PATENT_EN, _PATENT_ZH)
    if len(digits) not in (8, 12) or not re.fullmatch(r"[0-9]+", digits):
        raise InvalidIdentifier(
            "patent_no",
            f"a {_PATENT_EN} body is 12 or 8 digits, not {digits!r}",
            f"{_PATENT_ZH}本体应为 12 位或 8 位数字，实为“{digits}”",
            value=body,
        )
    problem = _patent_body_problem(digits)
    if problem is not None:
        raise InvalidIdentifier("patent_no", problem[0], problem[1], value=body)
    return f"{digits}.{_patent_check_char(digits)}"


# --- trademark registration numbers ---------------------------------------------------


def validate_trademark_no(text: str) -> str:
    """Return a trademark registration number (1 to 10 digits) or raise.

    Raises `InvalidIdentifier` (kind "trademark_no").
    """
    digits = _normalise(text, "trademark_no", "trademark registration number", "商标注册号")
    if not re.fullmatch(r"[0-9]{1,10}", digits):
        raise InvalidIdentifier(
            "trademark_no",
            f"a trademark registration number is 1 to 10 digits, not {digits!r}",
            f"商标注册号应为 1 至 10 位数字，实为“{digits}”",
            value=text,
        )
    return digits


# --- Songjiang's sub-districts and towns ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Town:
    """One of Songjiang's 6 sub-districts (街道) or 11 towns (镇), by its 9-digit code."""

    code: str
    name_zh: str
    name_en: str
    kind: Literal["subdistrict", "town"]


_TOWN_LIST = (
    Town("310117001", "岳阳街道", "Yueyang", "subdistrict"),
    Town("310117002", "永丰街道", "Yongfeng", "subdistrict"),
    Town("310117003", "方松街道", "Fangsong", "subdistrict"),
    Town("310117004", "中山街道", "Zhongshan", "subdistrict"),
    Town("310117005", "广富林街道", "Guangfulin", "subdistrict"),
    Town("310117006", "九里亭街道", "Jiuliting", "subdistrict"),
    Town("310117101", "泗泾镇", "Sijing", "town"),
    Town("310117102", "佘山镇", "Sheshan", "town"),
    Town("310117103", "车墩镇", "Chedun", "town"),
    Town("310117104", "新桥镇", "Xinqiao", "town"),
    Town("310117105", "洞泾镇", "Dongjing", "town"),
    Town("310117106", "九亭镇", "Jiuting", "town"),
    Town("310117107", "泖港镇", "Maogang", "town"),
    Town("310117116", "石湖荡镇", "Shihudang", "town"),
    Town("310117117", "新浜镇", "Xinbang", "town"),
    Town("310117118", "叶榭镇", "Yexie", "town"),
    Town("310117121", "小昆山镇", "Xiaokunshan", "town"),
)

#: Songjiang's 17 sub-districts and towns, by code, in code order.
TOWNS: Mapping[str, Town] = MappingProxyType({town.code: town for town in _TOWN_LIST})


def _unknown_town(text: object, shown: str) -> InvalidIdentifier:
    return InvalidIdentifier(
        "town_code",
        f"{shown!r} is not the code of one of Songjiang's 6 sub-districts and 11 towns "
        "(310117001 to 310117121)",
        f"“{shown}”不是松江区 6 个街道、11 个镇的区划代码（310117001 至 310117121）",
        value=text,
    )


def validate_town_code(text: str) -> str:
    """Return the 9-digit code of a Songjiang sub-district or town, or raise.

    The 12-digit statistical form ending in "000" (e.g. "310117001000") is accepted
    and shortened. Raises `InvalidIdentifier` (kind "town_code").
    """
    code = _normalise(text, "town_code", "town code", "镇街代码")
    if len(code) == 12 and code.endswith("000"):
        code = code[:9]
    if code not in TOWNS:
        raise _unknown_town(text, code)
    return code


def resolve_town(text: str) -> Town:
    """Return the town named by its code, its Chinese name or its English name.

    Chinese names may omit the 街道/镇 suffix; English names are matched without regard
    to case and may carry a "Subdistrict" or "Town" suffix. Raises `InvalidIdentifier`
    (kind "town_code") if nothing matches.
    """
    folded = _normalise(text, "town_code", "town", "镇街")
    try:
        return TOWNS[validate_town_code(folded)]
    except InvalidIdentifier:
        pass
    words = folded.split()
    if len(words) > 1 and words[-1] in ("SUBDISTRICT", "TOWN"):
        words = words[:-1]
    wanted = "".join(words)
    for town in TOWNS.values():
        short_zh = town.name_zh.removesuffix("街道").removesuffix("镇")
        if wanted in (town.name_zh, short_zh, town.name_en.upper()):
            return town
    raise _unknown_town(text, folded)
