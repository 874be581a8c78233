"""Batches of events: on PostgreSQL written by binary COPY (ledger/log_recorder_postgres.py, every
batch, one command's or an import's), on SQLite by executemany; the same rows either way.

Both stores: every event of a large batch gets its leaf, positions follow the insert order
without gaps, the log verifies, a later small write follows on, and a batch that clashes with a
stored event is refused whole (nothing of it, leaves included, is kept), a single event too.
"""

from __future__ import annotations

import io
import json

import factories as f
import pytest
from eventsourcing.persistence import IntegrityError

from audit.verify import verify
from ledger.application import SupportLedger
from ledger.importer import import_lines, read_jsonl

ENTERPRISES = 120  # each: its event and its receipt, so one batch of 240 events


def import_enterprises(app: SupportLedger, numbers: range) -> None:
    lines = [json.dumps(f.enterprise(f.synthetic_uscc(n), name=f"上海批量{n}有限公司", actor="olga"),
                        ensure_ascii=False) for n in numbers]  # fmt: skip
    report = import_lines(app, read_jsonl(io.StringIO("\n".join(lines) + "\n")), default_actor=None,
                          batch_size=len(lines))  # fmt: skip
    assert not report.rejected, report.rejected[:3]


def positions_and_leaves(app: SupportLedger) -> tuple[list[int], int]:
    from audit.log import log_size

    notifications = app.recorder.select_notifications(start=None, limit=100_000)
    return [n.id for n in notifications], log_size(app)


def test_a_large_batch_is_recorded_whole_with_its_leaves(app: SupportLedger) -> None:
    before = app.log_position()
    import_enterprises(app, range(ENTERPRISES))
    assert app.log_position() - before == 2 * ENTERPRISES
    app.execute(f.enterprise(f.USCC_A), "olga")  # a small write after it: the next positions
    positions, leaves = positions_and_leaves(app)
    if app.store.is_postgres:  # the sequence moved with the copy: no gap, no reuse
        assert positions == list(range(1, len(positions) + 1))
    assert leaves == len(positions)
    report = verify(app)
    assert report.intact, report.findings


def test_a_large_batch_that_clashes_is_refused_whole(app: SupportLedger) -> None:
    import_enterprises(app, range(ENTERPRISES))
    positions_before, leaves_before = positions_and_leaves(app)
    # the same stored events again: the store's uniqueness refuses the whole batch
    stored = [app.mapper.to_stored_event(e) for e in _fresh_events(app, ENTERPRISES)]
    from ledger.domain import Enterprise

    clash = app.recorder.select_events(Enterprise.create_id(f.synthetic_uscc(0)))[0]
    with pytest.raises(IntegrityError):
        app.recorder.insert_events([*stored, clash])
    assert positions_and_leaves(app) == (positions_before, leaves_before)
    with pytest.raises(IntegrityError):  # one event alone, as one command's save
        app.recorder.insert_events([clash])
    assert positions_and_leaves(app) == (positions_before, leaves_before)
    assert verify(app).intact


def _fresh_events(app: SupportLedger, count: int) -> list:  # type: ignore[type-arg]
    """`count` new events (enterprises not yet registered), not saved."""
    from ledger.domain import Enterprise

    events = []
    for n in range(count):
        enterprise = Enterprise(uscc=f.synthetic_uscc(50_000 + n), name=f"上海新企业{n}有限公司",
                                town_code=f.TOWN, industry="智能制造", actor="olga")  # fmt: skip
        events.extend(enterprise.collect_events())
    return events
