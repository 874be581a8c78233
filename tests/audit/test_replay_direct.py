"""A replay reads the money events' stored rows directly: the same fields, state and result as
through the domain events, for every money event type and at every position."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from audit.money_rows import money_rows, uuid_text
from audit.replay import _APPLY, REPLAYED_TOPICS, _Books, balance_rows, replay
from audit.replay_snapshots import (
    decode_state,
    encode_state,
    money_events,
    money_fields,
    take_snapshots,
)
from ledger.domain import Budget
from tests import factories as f
from tests.audit.conftest import record_history

#: Beside the audit fixtures' history: the money events it lacks (clawbacks, a budget change).
MORE = [
    ({"type": "order_clawback", "reference": "C-1", "award_reference": "A-1",
      "amount_fen": 1_000_000, "decision_ref": "松市监〔2025〕30号", "reason": "未达绩效"}, "olga"),
    ({"type": "record_clawback_recovery", "reference": "R-1", "clawback_reference": "C-1",
      "amount_fen": 500_000, "voucher_no": "V-R-1", "recovered_on": "2025-08-01"}, "olga"),
    ({"type": "adjust_budget", "reference": "B-M10-ADJ", "measure": "M10", "fiscal_year": 2025,
      "delta_fen": -1_000_000, "decision_ref": "松财〔2025〕9号", "reason": "调减"}, "olga"),
    (f.disbursement("D-4", amount_fen=700_000), "olga"),
]  # fmt: skip


@pytest.fixture
def every_money_event(app: Any) -> Any:
    record_history(app)
    for command, actor in MORE:
        app.execute(command, actor)
    return app


def _end(app: Any) -> int:
    return app.recorder.max_notification_id() or 0


def _as_domain(app: Any, after: int = 0, stop: int | None = None) -> list[tuple]:
    """What the domain events say, in the shape money_fields gives."""
    out = []
    for position, event in money_events(app, after, stop):
        fields = {k: v for k, v in vars(event).items()
                  if k not in ("originator_id", "originator_version")}  # fmt: skip
        out.append((position, type(event), str(event.originator_id), fields))
    return out


def test_the_stored_rows_give_each_money_event_as_its_domain_event_does(
    every_money_event,
) -> None:  # type: ignore[no-untyped-def]
    app = every_money_event
    direct = list(money_fields(app, 0, None))
    assert direct == _as_domain(app)
    assert {cls for _, cls, _, _ in direct} == set(_APPLY)  # every type the replay reads
    # and any window of the log, including an empty one
    end = _end(app)
    for after, stop in ((0, 1), (3, 9), (end // 2, None), (end, None), (5, 5)):
        assert list(money_fields(app, after, stop)) == _as_domain(app, after, stop)


def test_the_state_from_the_stored_rows_equals_the_state_from_the_domain_events_at_every_position(
    every_money_event,
) -> None:  # type: ignore[no-untyped-def]
    app = every_money_event
    from_events, from_rows = _Books(), _Books()
    events = dict(money_events(app, 0, None))
    rows = {p: (cls, oid, fields) for p, cls, oid, fields in money_fields(app, 0, None)}
    assert events.keys() == rows.keys()
    for position in range(1, _end(app) + 1):
        if position in events:
            from_events.apply(events[position])
            from_rows.apply_fields(*rows[position])
        assert encode_state(from_rows) == encode_state(from_events), position
    assert encode_state(decode_state(encode_state(from_rows))) == encode_state(from_events)


def test_replay_from_the_stored_rows_is_the_replay_of_the_domain_events(
    every_money_event, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """At every position and at every event's instant (and just before it), with snapshots."""
    app = every_money_event
    monkeypatch.setenv("LEDGER_REPLAY_SNAPSHOT_EVERY", "5")
    assert take_snapshots(app)
    events = list(money_events(app, 0, None))
    books = _Books()
    for count, (position, event) in enumerate(events, start=1):
        books.apply(event)
        enterprises, measures = balance_rows(books)
        result = replay(app, position=position)
        assert (result["events"], result["enterprises"], result["measures"]) == (
            count, enterprises, measures,
        ), position  # fmt: skip
    for _, event in events:
        for instant in (event.timestamp, event.timestamp - timedelta(microseconds=1)):
            known = _Books()
            for _, e in events:
                if e.timestamp <= instant:
                    known.apply(e)
            result = replay(app, as_of=instant)
            assert (result["enterprises"], result["measures"]) == balance_rows(known), instant
            assert result["events"] == sum(e.timestamp <= instant for _, e in events)


def test_a_row_of_an_upcast_event_class_goes_through_its_upcaster(
    every_money_event, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Were a money event's class versioned (none is today), its stored rows are upcast as any
    reader of the domain events would see them."""
    app = every_money_event
    assert all(getattr(cls, "class_version", 1) == 1 for cls in _APPLY)

    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["amount_fen"] *= 2

    monkeypatch.setattr(Budget.Appropriated, "class_version", 2, raising=False)
    monkeypatch.setattr(Budget.Appropriated, "upcast_v1_v2", staticmethod(upcast_v1_v2),
                        raising=False)  # fmt: skip
    direct = list(money_rows(app, REPLAYED_TOPICS, 0, None))
    assert direct == _as_domain(app)
    appropriated = [fields for _, cls, _, fields in direct if cls is Budget.Appropriated]
    assert appropriated and all(
        fields["amount_fen"] == 2 * f.budget()["amount_fen"] for fields in appropriated
    )


def test_a_stored_originator_id_reads_as_its_uuid_text_in_every_stored_form() -> None:
    for _ in range(20):
        uuid = uuid4()
        text = str(uuid)
        for stored in (uuid.hex, text, uuid.hex.upper(), text.upper(), "{" + text + "}"):
            assert uuid_text(stored) == text == str(UUID(stored))
