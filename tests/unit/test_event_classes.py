"""The event classes are declared explicitly in their aggregates, and their stored form is the one
main recorded before they were (topics, field names and field order unchanged).

`data/events_before_issue13.json` is a full history (`event_history.record_full_history`)
recorded by main at add858f, when most event classes were still made by `@event("Name")`.
"""

from __future__ import annotations

import ast
import inspect
import json
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from event_history import record_full_history, stored_history
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

import ledger.domain as domain
from ledger.demo import load_demo
from ledger.domain import Award, Budget, Enterprise, Financing, PatentTransfer, User
from ledger.domain.events import AGGREGATE_OF, AGGREGATES, event_classes
from ledger.storage import open_ledger

BEFORE = json.loads((Path(__file__).parent / "data" / "events_before_issue13.json").read_text())

#: Declared for stores made before secrets left the log; never recorded any more.
LEGACY_ONLY = {get_topic(User.PasswordSet)}


def aggregates() -> list[type]:
    found = [getattr(domain, n) for n in domain.__all__ if isinstance(getattr(domain, n), type)]
    assert set(found) == set(AGGREGATES)  # the index knows every aggregate
    return found


DECLARED = {get_topic(cls) for aggregate in aggregates() for cls in event_classes(aggregate)}


def test_every_event_class_is_declared_in_its_aggregates_source() -> None:
    for aggregate in aggregates():
        tree = ast.parse(inspect.getsource(inspect.getmodule(aggregate)))
        (node,) = (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == aggregate.__name__)
        declared = {n.name for n in node.body if isinstance(n, ast.ClassDef)}
        made = {cls.__name__ for cls in event_classes(aggregate)}
        assert made == declared, aggregate.__name__
        for cls in event_classes(aggregate):
            assert AGGREGATE_OF[cls] is aggregate
            assert get_topic(cls) == f"{aggregate.__module__}:{aggregate.__name__}.{cls.__name__}"
            assert resolve_topic(get_topic(cls)) is cls


def test_the_history_recorded_by_main_covers_every_declared_event_class() -> None:
    assert {e["topic"] for e in BEFORE} == DECLARED - LEGACY_ONLY


def _insert(app: Any, history: list[dict[str, Any]]) -> None:
    app.recorder.insert_events([
        StoredEvent(UUID(e["originator_id"]), e["originator_version"], e["topic"],
                    e["state"].encode("utf-8"))
        for e in history
    ])  # fmt: skip


def test_events_recorded_by_main_load_into_the_declared_classes_unchanged(database_url: str) -> None:
    app = open_ledger(database_url)
    try:
        _insert(app, BEFORE)
        stored = app.recorder.select_notifications(start=None, limit=len(BEFORE) + 1)
        assert len(stored) == len(BEFORE)
        for notification in stored:
            event = app.mapper.to_domain_event(notification)
            assert type(event) is resolve_topic(notification.topic)
            assert get_topic(type(event)) == notification.topic
            # Encoded again, it is the very bytes main stored: same fields, same order.
            again = app.mapper.to_stored_event(event)
            assert (again.topic, again.state) == (notification.topic, bytes(notification.state))
        last_version = {UUID(e["originator_id"]): e["originator_version"] for e in BEFORE}
        for originator_id, version in last_version.items():
            assert app.repository.get(originator_id).version == version
        a1 = app.repository.get(Award.create_id("A-1"))
        assert (a1.granted_fen, a1.paid_fen, a1.reversed_fen, a1.clawback_ordered_fen,
                a1.clawback_recovered_fen) == (10_000_000, 5_000_000, 2_000_000, 3_000_000,
                                               1_000_000)  # fmt: skip
        a2 = app.repository.get(Award.create_id("A-2"))
        assert (a2.is_revoked, a2.revoked_fen, a2.paid_fen) == (True, 2_500_000, 1_500_000)
        budget = app.repository.get(Budget.create_id("M10", 2025))
        assert budget.remaining_fen == 500_000_000 - 1_000_000 - (10_000_000 + 4_000_000 - 2_500_000)
        enterprise = app.repository.get(Enterprise.create_id("9144030071526726XG"))
        assert (enterprise.name, enterprise.town_code) == ("上海样例新材料有限公司", "310117102")
        transfer = app.repository.get(PatentTransfer.create_id("T-1"))
        assert (transfer.revenue_fen, str(transfer.terminated_on)) == (12_345_600, "2025-06-01")
        financing = app.repository.get(Financing.create_id("F-1"))
        assert (financing.drawn_fen, financing.repaid_fen) == (300_000_000, 100_000_000)
        assert str(financing.defaulted_on) == "2025-09-10"
        assert app.get_user("olga").roles == {"officer"}
        assert app.get_user("admin").tokens == {}
    finally:
        app.close()


def _fields(history: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The field names each topic's events store, in their stored order."""
    out: dict[str, list[str]] = {}
    for e in history:
        names = list(json.loads(e["state"]))
        assert out.setdefault(e["topic"], names) == names, e["topic"]
    return out


def test_a_full_history_recorded_now_stores_what_main_stored(database_url: str) -> None:
    app = open_ledger(database_url)
    try:
        record_full_history(app)
        now = stored_history(app)
    finally:
        app.close()
    assert {e["topic"] for e in now} == DECLARED - LEGACY_ONLY
    assert Counter(e["topic"] for e in now) == Counter(e["topic"] for e in BEFORE)
    assert _fields(now) == _fields(BEFORE)


@pytest.mark.slow
def test_a_demo_store_holds_only_declared_event_classes(database_url: str) -> None:
    app = open_ledger(database_url)
    try:
        load_demo(app, password=None)
        topics = {e["topic"] for e in stored_history(app)}
    finally:
        app.close()
    assert topics <= DECLARED
    # Everything a year of work records; the rest are user, catalogue and legacy events.
    assert DECLARED - topics == {get_topic(c) for c in (
        User.PasswordSet, User.PasswordChanged, User.RoleGranted, User.RoleRevoked,
        User.TokenRevoked, domain.Measure.ItemAdded, domain.Measure.ItemRetired,
        Enterprise.Updated)}  # fmt: skip


def test_audit_checks_read_a_log_whose_catalogue_gained_an_item(database_url: str) -> None:
    """`Measure.ItemAdded` carries one `item`, not `items` (the checks once read `items` from it
    and failed on every store whose catalogue had gained an item)."""
    from audit.checks import run_checks

    app = open_ledger(database_url)
    try:
        record_full_history(app)
        findings = run_checks(app, now="2025-12-31T00:00:00Z")
    finally:
        app.close()
    assert findings and all(found == [] for found in findings.values()), findings


def test_readers_of_the_log_dispatch_on_event_classes_not_on_names() -> None:
    """No topic strings and no class-name chains in the packages that read events."""
    root = Path(__file__).resolve().parents[2]
    for package in ("projections", "audit", "web"):
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for needle in ('"ledger.domain.', "'ledger.domain.", "__qualname__"):
                assert needle not in text, (path.relative_to(root), needle)
