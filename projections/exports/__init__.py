"""Spreadsheets out: every list of the views as `.xlsx` or CSV, complete.

`export(app, kind, chosen, fmt, out)` streams every row a filter selects from one snapshot of
the views (`projections.queries.snapshot`) into a sheet (`writers`): a header line with the
views' position and its time (Asia/Shanghai), Chinese headers over the field names, exact yuan
(`#,##0.00`), and a 合计 (total) line. `ledger export` and the web's downloads both call it, so
they write the same file for the same filters. `filter_for(kind, args)` checks the arguments
(`list_filters.BadFilter`, code `invalid_filter`) before anything is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from ledger.shanghai import shanghai_time
from projections.exports.sources import KINDS, SOURCES, columns_for
from projections.exports.writers import write_csv, write_xlsx
from projections.queries.list_filters import BadFilter, ListFilter, parse_filter
from projections.queries.snapshot import snapshot

if TYPE_CHECKING:
    from ledger.application import SupportLedger

__all__ = ["FORMATS", "KINDS", "BadFilter", "Exported", "export", "filename", "filter_for"]

FORMATS = ("xlsx", "csv")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
TITLE_ZH = "松江区质量标准与知识产权扶持台账"


@dataclass(frozen=True)
class Exported:
    """What an export wrote: rows, the fen totals of its yuan columns, the views' position."""

    kind: str
    rows: int
    totals_fen: dict[str, int]
    position: int
    recorded_at: str | None
    header: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows, "totals_fen": self.totals_fen,
                "position": self.position, "recorded_at": self.recorded_at}  # fmt: skip


def filter_for(kind: str, args: Mapping[str, Any]) -> ListFilter:
    """The filter of an export of `kind` from text arguments (raises `BadFilter`)."""
    source = SOURCES[kind]
    return parse_filter(args, source.sorts, source.filters)


def filename(kind: str, fmt: str, position: int | None = None) -> str:
    """A download's file name: `disbursements-17727.xlsx` (the views' position in it)."""
    return f"{kind}{'' if position is None else f'-{position}'}.{fmt}"


def _header(kind: str, chosen: ListFilter, position: int, recorded_at: str | None) -> str:
    source = SOURCES[kind]
    given = chosen.given()
    if chosen.sort:
        given["sort"] = f"{chosen.sort} {'desc' if chosen.descending else 'asc'}"
    filters = "; ".join(f"{k}={v}" for k, v in given.items()) or "无 none"
    return (
        f"{TITLE_ZH} · {source.title_zh} {source.title_en} · 视图位置 views position "
        f"{position:,} · 截至 as of {shanghai_time(recorded_at)} · 导出时间 exported "
        f"{shanghai_time(datetime.now(UTC))} · 筛选 filters: {filters}"
    )


def export(
    app: SupportLedger, kind: str, chosen: ListFilter, fmt: str, out: IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> Exported:  # fmt: skip
    """Write every row of `kind` that `chosen` selects to `out` as `fmt` (xlsx or csv)."""
    if kind not in SOURCES or fmt not in FORMATS:
        raise ValueError(f"no export {kind!r} as {fmt!r}")
    source = SOURCES[kind]
    columns = columns_for(source, app)
    with snapshot(app) as view:
        position = view.position()
        recorded_at = view.recorded_at(position)
        header = _header(kind, chosen, position, recorded_at)
        rows = source.rows(app, view, chosen)
        if progress is not None:
            rows = _counted(rows, progress)
        if fmt == "xlsx":
            totals = write_xlsx(out, header, source.title_zh, columns, rows)
        else:
            totals = write_csv(out, header, columns, rows)
    sums = {col.name[: -len("_yuan")] + "_fen": fen for col, fen in zip(columns, totals.fen, strict=True)
            if fen is not None}  # fmt: skip
    return Exported(kind, totals.count, sums, position, recorded_at, header)


def _counted(rows: Any, progress: Callable[[int], None]) -> Any:
    for n, row in enumerate(rows, start=1):
        if n % 1000 == 0:
            progress(n)
        yield row
