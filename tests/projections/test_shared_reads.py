"""`queries.shared_reads()`: the views' queries of one page share one pooled connection, give it
back at the end, and fail as they would outside (then go on, on a fresh connection)."""

from __future__ import annotations

import threading
from typing import Any

import factories as f
import pytest

from ledger.application import SupportLedger
from projections import queries
from projections.recorder import open_views
from projections.runner import catch_up


def in_use(views: Any) -> int:
    """Connections of the views' pool now handed out (either store's pool)."""
    pool = views.datastore.pool
    if hasattr(pool, "num_in_use"):  # eventsourcing's pool (SQLite)
        return int(pool.num_in_use)
    stats = pool.get_stats()  # psycopg_pool
    return int(stats["pool_size"] - stats["pool_available"])


def seeded(app: SupportLedger) -> Any:
    for command in (f.enterprise(), f.budget(), f.award()):
        app.execute(command, "olga")
    catch_up(app)
    return open_views(app)


def test_the_queries_share_one_connection_and_give_it_back(app: SupportLedger) -> None:
    views = seeded(app)
    alone = [queries.enterprise(app, f.USCC_A), queries.awards_of(app, f.USCC_A),
             queries.views_position(app)]  # fmt: skip
    before = in_use(views)
    with queries.shared_reads():
        shared = [queries.enterprise(app, f.USCC_A)]
        assert in_use(views) == before + 1  # taken at the first query, and kept
        shared += [queries.awards_of(app, f.USCC_A), queries.views_position(app)]
        assert in_use(views) == before + 1  # the later ones took no other
    assert in_use(views) == before  # given back at the end
    assert shared == alone


def test_a_failed_query_fails_as_outside_and_the_next_one_works(app: SupportLedger) -> None:
    views = seeded(app)
    before = in_use(views)
    with pytest.raises(Exception) as outside:
        views.query("SELECT no_such_column FROM {q}pv_enterprises")
    with queries.shared_reads():
        queries.enterprise(app, f.USCC_A)
        with pytest.raises(Exception) as inside:
            views.query("SELECT no_such_column FROM {q}pv_enterprises")
        assert type(inside.value) is type(outside.value)  # the store's error, as outside
        assert in_use(views) == before  # that connection is not kept for the next query
        assert queries.enterprise(app, f.USCC_A) is not None
    assert in_use(views) == before


def test_each_thread_has_its_own(app: SupportLedger) -> None:
    views = seeded(app)
    before = in_use(views)
    inside = threading.Event()
    done = threading.Event()
    seen: list[int] = []

    def other_page() -> None:
        with queries.shared_reads():
            queries.enterprise(app, f.USCC_A)
            inside.set()
            done.wait(10)

    other = threading.Thread(target=other_page)
    other.start()
    try:
        assert inside.wait(10)
        with queries.shared_reads():
            queries.enterprise(app, f.USCC_A)
            seen.append(in_use(views))
    finally:
        done.set()
        other.join(10)
    assert seen == [before + 2]  # one each: a connection is never used by two threads at once
    assert in_use(views) == before
