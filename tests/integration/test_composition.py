"""One composition, visible (both stores): `open_ledger` hands the application its store and its
batch loader through the constructor; the views recorder and the audit database are parts kept
in the application's typed `extensions`, made once each; nothing is patched onto the
application after it is made."""

from __future__ import annotations

import threading

import pytest
from factories import USCC_A, USCC_B, enterprise

from audit.db import AuditDb, audit_db
from ledger.application import SupportLedger
from ledger.container import Extensions
from ledger.domain import Enterprise
from ledger.storage import open_ledger, store_from_url
from projections.recorder import ViewsRecorderMixin, open_views

#: What `SupportLedger.__init__` sets beyond eventsourcing's `Application.__init__`.
OWN_ATTRIBUTES = {"catalogue", "store", "extensions", "select_events_many"}


def test_the_application_gets_its_store_and_batch_loader_through_its_constructor(
    database_url: str,
) -> None:
    store = store_from_url(database_url)
    opened = open_ledger(database_url)
    try:
        assert opened.store == store
        assert opened.select_events_many is not None
        made_by_constructor = set(vars(opened))
        bare = SupportLedger(env={**store.env, "CREATE_TABLE": "n"}, store=store)
        try:
            assert bare.store is store and bare.select_events_many is None
            # open_ledger sets no attribute the constructor does not (nothing patched on)
            assert made_by_constructor == set(vars(bare))
            assert made_by_constructor >= OWN_ATTRIBUTES
        finally:
            bare.close()
    finally:
        opened.close()


def test_the_batch_loader_reads_many_aggregates_in_version_order(app: SupportLedger) -> None:
    for uscc in (USCC_A, USCC_B):
        app.execute(enterprise(uscc), actor="olga")
    ids = [Enterprise.create_id(USCC_A), Enterprise.create_id(USCC_B)]
    assert app.select_events_many is not None
    found = app.select_events_many(ids)
    assert set(found) == set(ids)
    for aggregate_id in ids:
        versions = [stored.originator_version for stored in found[aggregate_id]]
        assert versions == sorted(versions) and versions[0] == 1
        one_by_one = app.recorder.select_events(aggregate_id)
        assert [s.topic for s in found[aggregate_id]] == [s.topic for s in one_by_one]


def test_the_views_and_the_audit_database_are_parts_kept_in_extensions(
    app: SupportLedger,
) -> None:
    views = open_views(app)
    assert open_views(app) is views
    assert audit_db(app) is audit_db(app)
    assert {ViewsRecorderMixin, AuditDb} <= set(app.extensions.kinds())
    assert not any(name.startswith("_projection") for name in vars(app))


def test_a_part_is_made_once_when_many_threads_ask_at_once() -> None:
    extensions = Extensions()
    made: list[object] = []
    start = threading.Barrier(8)
    got: list[object] = []

    def make() -> object:
        made.append(object())
        return made[-1]

    def ask() -> None:
        start.wait()
        got.append(extensions.get(object, make))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and got == made * 8


def test_a_part_of_another_class_is_refused() -> None:
    extensions = Extensions()
    with pytest.raises(TypeError, match="int part is a str"):
        extensions.get(int, lambda: "not an int")  # type: ignore[arg-type,return-value]
