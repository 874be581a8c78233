"""Reading the event log for the audit's own recomputations (replay, trail, checks).

Events are read in position order in bounded batches and decoded with the application's own
mapper (the stored form is the ledger's; how to *interpret* it is the audit's business). Readers
dispatch on the domain's event classes (`ledger.domain.events`); a filter by topic passes
topics derived from those classes. Nothing here uses the projections.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: Events decoded per read.
BATCH = 2_000


def iter_events(
    app: SupportLedger,
    *,
    stop_position: int | None = None,
    topics: Sequence[str] = (),
    batch: int = BATCH,
) -> Iterator[tuple[int, Any]]:
    """``(position, domain event)`` for every event up to ``stop_position`` (inclusive)."""
    last: int | None = None
    while True:
        notifications = app.recorder.select_notifications(
            start=last,
            limit=batch,
            stop=stop_position,
            topics=list(topics),
            inclusive_of_start=False,
        )
        for notification in notifications:
            yield notification.id, app.mapper.to_domain_event(notification)
        if len(notifications) < batch:
            return
        last = notifications[-1].id


def as_aware(value: datetime | str) -> datetime:
    """An instant from a datetime or ISO text; naive values are taken as UTC."""
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
