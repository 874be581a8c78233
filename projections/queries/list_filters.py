"""The filters and sorts of the awards and disbursements lists, checked in one place.

The pages, the JSON API, the downloads and `ledger export` all turn their arguments into a
`ListFilter` with `parse_filter`, so the same arguments select the same rows everywhere. A
value that is not allowed raises `BadFilter` (stable code `invalid_filter`, the field named, a
message in Chinese and English); nothing is read then.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from ledger.command_fields import MEASURE_CODES
from ledger.identifiers import TOWNS
from projections.queries.common import like_escape

#: The states of a disbursement (the status filter's values).
STATUSES = ("pending", "approved", "rejected", "reversed")
#: The stable code of a bad filter or sort value.
BAD_FILTER = "invalid_filter"
#: The arguments a list takes, besides its sort (`sort`, `order`).
FILTER_NAMES = (
    "measure", "item", "town", "fiscal_year", "status", "decision_ref", "voucher_no",
    "date_from", "date_to", "uscc", "award", "actor",
)  # fmt: skip

#: The filters of the awards and disbursements lists (the trail has `actor` too, not `item`…).
LIST_FILTERS = FILTER_NAMES[:-1]

_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_ITEM = re.compile(r"[a-z0-9_]{1,60}")
_USCC_TEXT = re.compile(r"[0-9A-Z]{1,18}")
_MAX_TEXT = 100


class BadFilter(ValueError):
    """A filter or sort value that is not allowed (code `invalid_filter`)."""

    code = BAD_FILTER

    def __init__(self, field: str, message_en: str, message_zh: str) -> None:
        super().__init__(f"{field}: {message_en}")
        self.field = field
        self.message_en = f"filter {field}: {message_en}"
        self.message_zh = f"筛选条件 {field}：{message_zh}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message_en, "message_zh": self.message_zh,
                "details": {self.field: [self.message_en]}}  # fmt: skip


@dataclass(frozen=True)
class ListFilter:
    """What a list of awards or disbursements is narrowed to (None: any) and how it is sorted.

    `date_from`/`date_to` (ISO dates, both inclusive) bound an award's grant date or a
    disbursement's payment date; `decision_ref` and `voucher_no` match any part of the text.
    """

    measure: str | None = None
    item: str | None = None
    town: str | None = None
    fiscal_year: int | None = None
    status: str | None = None
    decision_ref: str | None = None
    voucher_no: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    uscc: str | None = None
    award: str | None = None
    actor: str | None = None
    sort: str | None = None
    descending: bool = False

    def given(self) -> dict[str, Any]:
        """The filters that were given (for a header line, links and `--json`)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name in FILTER_NAMES and getattr(self, f.name) is not None}  # fmt: skip


def _text(name: str, value: str) -> str:
    if _CONTROL.search(value):
        raise BadFilter(name, "must not contain control characters", "不得包含控制字符")
    if len(value) > _MAX_TEXT:
        raise BadFilter(name, f"at most {_MAX_TEXT} characters", f"最多 {_MAX_TEXT} 个字符")
    return value


def _date(name: str, value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat() if len(value) == 10 else _no_date(name)
    except ValueError:
        return _no_date(name)


def _no_date(name: str) -> str:
    raise BadFilter(name, "must be a date YYYY-MM-DD", "须为日期 YYYY-MM-DD")


def _one(name: str, value: str) -> Any:
    if name == "measure":
        if value.upper() not in MEASURE_CODES:
            raise BadFilter(name, "must be a measure code M01..M13", "须为措施代码 M01..M13")
        return value.upper()
    if name == "item":
        if not _ITEM.fullmatch(value):
            raise BadFilter(name, "must be a support item code", "须为扶持事项代码")
        return value
    if name == "town":
        if value not in TOWNS:
            raise BadFilter(name, "must be one of Songjiang's 17 town codes", "须为松江区17个街镇代码之一")
        return value
    if name == "fiscal_year":
        if not (value.isascii() and value.isdigit() and 2000 <= int(value) <= 2100):
            raise BadFilter(name, "must be a year 2000..2100", "须为 2000..2100 的年份")
        return int(value)
    if name == "status":
        if value not in STATUSES:
            raise BadFilter(name, "must be one of " + ", ".join(STATUSES),
                            "须为 pending、approved、rejected、reversed 之一")  # fmt: skip
        return value
    if name in ("date_from", "date_to"):
        return _date(name, value)
    if name == "uscc":
        if not _USCC_TEXT.fullmatch(value.upper()):
            raise BadFilter(name, "must be (the start of) a credit code", "须为统一社会信用代码（或其开头）")
        return value.upper()
    return _text(name, value)


def parse_filter(
    args: Mapping[str, Any], sorts: Mapping[str, str], allowed: tuple[str, ...] = LIST_FILTERS
) -> ListFilter:
    """A `ListFilter` from arguments as text (a page's query, the API's, the CLI's options);
    empty values are not filters. `allowed` are the filters the list has (another one given is
    an error, never ignored); `sorts` its sort keys (a whitelist); `order` is `asc` or `desc`.
    Raises `BadFilter` for the first value not allowed."""
    values: dict[str, Any] = {}
    for name in FILTER_NAMES:
        raw = args.get(name)
        text = "" if raw is None else str(raw).strip()
        if not text:
            continue
        if name not in allowed:
            raise BadFilter(name, "is not a filter of this list", "不是此列表的筛选条件")
        values[name] = _one(name, text)
    if values.get("date_from") and values.get("date_to") and values["date_from"] > values["date_to"]:
        raise BadFilter("date_to", "must not be before date_from", "不得早于 date_from")
    sort = str(args.get("sort") or "").strip()
    if sort and sort not in sorts:
        raise BadFilter("sort", "must be one of " + ", ".join(sorts), "须为 " + "、".join(sorts) + " 之一")
    order = str(args.get("order") or "").strip()
    if order not in ("", "asc", "desc"):
        raise BadFilter("order", "must be asc or desc", "须为 asc 或 desc")
    return ListFilter(**values, sort=sort or None, descending=order == "desc")


def like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere (with ``ESCAPE '\\'``)."""
    return f"%{like_escape(text)}%"


def order_by(sorts: Mapping[str, str], chosen: ListFilter, default: str, tie: str) -> str:
    """ORDER BY of a whitelisted sort key (the default's when none was chosen), then `tie`."""
    key = chosen.sort or default
    direction = "DESC" if chosen.descending else "ASC"
    return f" ORDER BY {sorts[key]} {direction}, {tie} {direction}"
