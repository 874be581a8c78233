"""The one paging rule of every list the read side returns.

A list read takes `offset` (or, for the trail, a position to continue after) and `limit`; the
limit is clamped to 1..`PAGE_MAX` and defaults to `PAGE_SIZE`. It answers a `Page`: the
records (it is a sequence of them), where it starts, the limit applied and whether more follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

#: The records a list read returns when no limit is given.
PAGE_SIZE = 50
#: The most records any one list read returns.
PAGE_MAX = 1_000

T = TypeVar("T")


def page_limit(limit: int | None) -> int:
    """A requested limit within the rule: 1..PAGE_MAX, PAGE_SIZE if none was given."""
    return max(1, min(int(limit if limit is not None else PAGE_SIZE), PAGE_MAX))


def page_offset(offset: int | None) -> int:
    return max(0, int(offset or 0))


@dataclass(frozen=True, eq=False)
class Page(Sequence[T]):
    """One page of records: a sequence of them, with its offset, its limit and whether more
    follow. It compares equal to another page, list or tuple of the same records."""

    items: tuple[T, ...]
    offset: int
    limit: int
    has_more: bool

    @property
    def next_offset(self) -> int | None:
        """Where the next page starts (offset paging), or None if this is the last."""
        return self.offset + len(self.items) if self.has_more else None

    @property
    def next_after(self) -> int | None:
        """The position to continue after (the trail's paging), or None if this is the last."""
        return self.items[-1].position if self.has_more else None  # type: ignore[attr-defined]

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...
    def __getitem__(self, index: Any) -> Any:
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Page):
            return (self.items, self.offset, self.limit, self.has_more) == (
                other.items, other.offset, other.limit, other.has_more,
            )  # fmt: skip
        if isinstance(other, list | tuple):
            return self.items == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.items)


def fetch_rows(
    views: Any, sql: str, params: list[Any], offset: int | None, limit: int | None
) -> tuple[list[dict[str, Any]], int, int, bool]:
    """The rows of one page of `sql` (ordered, without LIMIT) under the rule, with the offset
    and limit applied and whether more rows follow (one row more is asked for to know)."""
    limit, offset = page_limit(limit), page_offset(offset)
    rows = views.query(f"{sql} LIMIT {limit + 1} OFFSET {offset}", params)
    return rows[:limit], offset, limit, len(rows) > limit


def fetch_page(
    views: Any, sql: str, params: list[Any], offset: int | None, limit: int | None,
    make: Callable[[dict[str, Any]], T],
) -> Page[T]:  # fmt: skip
    """One page of `sql` (ordered, without LIMIT) as records, each built by `make`."""
    rows, offset, limit, has_more = fetch_rows(views, sql, params, offset, limit)
    return Page(tuple(make(r) for r in rows), offset, limit, has_more)
