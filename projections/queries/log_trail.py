"""The audit trail as the views index it, and how far the views have got.

Each trail entry's summaries are written when it is read, from its event in the log
(`projections.trail.render`); recorded times read back as ISO text in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from projections.queries.common import DEFAULT_TIMEOUT_S, Record, read_views, reader, ready
from projections.queries.paging import PAGE_SIZE, Page, fetch_rows
from projections.tables import TRACKING_NAME
from projections.trail import recorded_text, recorded_us, render

if TYPE_CHECKING:
    from ledger.application import SupportLedger


@dataclass(frozen=True)
class TrailEntry(Record):
    """One event in the audit trail."""

    position: int
    recorded_at: str
    actor: str | None
    aggregate_type: str
    aggregate_id: str
    event_type: str
    summary_en: str
    summary_zh: str
    uscc: str | None
    award_reference: str | None
    measure: str | None
    doc_ref: str | None


def _instant(value: datetime | str) -> int:
    """An instant as the trail stores it (naive instants are taken as UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return recorded_us(value)


def _trail_sql(
    filters: dict[str, str | None], from_at: datetime | str | None, to_at: datetime | str | None,
    after_position: int | None, newest_first: bool,
) -> tuple[str, list[Any]]:  # fmt: skip
    sql = "SELECT * FROM {q}pv_trail WHERE 1 = 1"
    params: list[Any] = []
    for column, value in filters.items():
        if value:
            sql += f" AND {column} = %s"
            params.append(value)
    if from_at is not None:
        sql += " AND recorded_at >= %s"
        params.append(_instant(from_at))
    if to_at is not None:
        sql += " AND recorded_at < %s"
        params.append(_instant(to_at))
    if after_position is not None:
        sql += " AND position > %s" if not newest_first else " AND position < %s"
        params.append(after_position)
    return sql + f" ORDER BY position {'DESC' if newest_first else 'ASC'}", params


def _entries(app: SupportLedger, views: Any, rows: list[dict[str, Any]]) -> tuple[TrailEntry, ...]:
    return tuple(
        TrailEntry(
            position=int(r["position"]), recorded_at=recorded_text(r["recorded_at"]),
            actor=r["actor"], aggregate_type=aggregate_type, aggregate_id=aggregate_id,
            event_type=event_type, summary_en=en, summary_zh=zh, uscc=r["uscc"],
            award_reference=r["award_reference"], measure=r["measure"], doc_ref=r["doc_ref"],
        )
        for r, (aggregate_type, aggregate_id, event_type, en, zh) in zip(
            rows, render(app, views.query, rows), strict=True
        )
    )  # fmt: skip


def trail(
    app: SupportLedger,
    *,
    uscc: str | None = None,
    award_reference: str | None = None,
    actor: str | None = None,
    measure: str | None = None,
    from_at: datetime | str | None = None,
    to_at: datetime | str | None = None,
    after_position: int | None = None,
    limit: int = PAGE_SIZE,
    newest_first: bool = False,
    min_position: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Page[TrailEntry]:
    """Trail entries matching every filter given, in log order (or newest first); paged.

    `from_at` is inclusive and `to_at` exclusive (naive instants are taken as UTC); page on with
    `after_position` (in the order asked for: `Page.next_after`).
    """
    views = ready(app, min_position, timeout_s)
    filters = {
        "uscc": uscc.strip().upper() if uscc else None,
        "award_reference": award_reference,
        "actor": actor,
        "measure": measure.strip().upper() if measure else None,
    }
    sql, params = _trail_sql(filters, from_at, to_at, after_position, newest_first)
    rows, _, limit, has_more = fetch_rows(views, sql, params, 0, limit)
    return Page(_entries(app, views, rows), 0, limit, has_more)


@dataclass(frozen=True)
class ViewsPosition(Record):
    """How far the views have got: their position, that event's recorded time, the log's end."""

    position: int
    recorded_at: str | None
    log_position: int

    @property
    def lag(self) -> int:
        """Positions between the views and the end of the log (an upper bound on events)."""
        return max(0, self.log_position - self.position)


def views_at(app: SupportLedger) -> int:
    """The position every view has reached (one cheap query)."""
    return read_views(app).position()


def views_position(app: SupportLedger) -> ViewsPosition:
    """The position every view has reached, when that event was recorded, and the log's end.

    With no replica, the three come from one statement (one snapshot, one round trip); on a
    replica, the log's end is the primary's, so that the lag counts the replication's too."""
    views = read_views(app)
    same_store = reader(app) is app
    log_end = (
        f", (SELECT MAX({views.notification_id_column}) FROM {{q}}{app.recorder.events_table_name})"
        " AS log_position"
        if same_store
        else ""
    )
    rows = views.query(  # the position and its event's time in one statement: one snapshot
        f"SELECT t.notification_id AS position, p.recorded_at{log_end} "
        f"FROM {views.tracking_table} t "
        "LEFT JOIN {q}pv_trail p ON p.position = t.notification_id WHERE t.application_name = %s",
        [TRACKING_NAME],
    )
    found = rows[0] if rows else {"position": 0, "recorded_at": None}
    if same_store and rows:
        log_position = found["log_position"]
    else:
        log_position = app.recorder.max_notification_id()
    return ViewsPosition(
        position=int(found["position"] or 0),
        recorded_at=None if found["recorded_at"] is None else recorded_text(found["recorded_at"]),
        log_position=int(log_position or 0),
    )
