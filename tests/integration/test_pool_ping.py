"""Pooled PostgreSQL connections are pinged only when idle or when the server wrote to them.

A connection in steady use is handed out without a round trip; one whose session the server
ended (a restart, `pg_terminate_backend`) has the server's goodbye waiting on its socket, so it
is pinged, fails, and is replaced before anyone uses it, however recently it was used.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from stores import drop_schema, postgres_base_url

from ledger.storage import PingWhenIdle, open_ledger, store_from_url

#: Generous: the machine is shared; nothing asserts how long anything takes.
DEADLINE_S = 120.0


@pytest.fixture
def one_connection_ledger() -> Iterator[Any]:
    """A ledger on PostgreSQL whose pool holds exactly one connection."""
    base = postgres_base_url()
    url = f"{base}{'&' if '?' in base else '?'}schema=t_{uuid.uuid4().hex[:16]}&pool_size=1&max_overflow=0"
    app = open_ledger(url)
    yield app
    app.close()
    drop_schema(url)


def backend_pid(app: Any) -> int:
    with app.recorder.datastore.get_connection() as conn:
        return int(conn.pgconn.backend_pid)


def terminate(app: Any, pid: int) -> None:
    """End that server session and wait until the server has let it go."""
    with psycopg.connect(
        store_from_url(app.store.url).postgres_conninfo(), autocommit=True
    ) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        deadline = time.monotonic() + DEADLINE_S
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the session did not end"
            time.sleep(0.05)


def test_the_pool_pings_only_idle_connections(one_connection_ledger: Any) -> None:
    check = one_connection_ledger.recorder.datastore.pool._check
    assert isinstance(check, PingWhenIdle) and check.idle_s == 1.0


def test_a_recently_used_connection_the_server_ended_is_replaced_before_use(
    one_connection_ledger: Any,
) -> None:
    app = one_connection_ledger
    app.log_position()
    pid = backend_pid(app)
    terminate(app, pid)
    # used a moment ago, so no ping for its age: the server's goodbye on the socket gets it pinged.
    # select_events_many is the store's own query, without eventsourcing's retries.
    assert app.select_events_many([uuid.uuid4()]) == {}
    assert backend_pid(app) != pid


def test_a_connection_in_steady_use_is_not_pinged(one_connection_ledger: Any) -> None:
    app = one_connection_ledger
    app.log_position()
    pings: list[Any] = []
    check = app.recorder.datastore.pool._check
    from psycopg_pool import ConnectionPool

    original = ConnectionPool.check_connection
    ConnectionPool.check_connection = staticmethod(
        lambda conn: pings.append(conn) or original(conn)
    )
    check.idle_s = 3600.0  # however slow the machine, these hand-outs are "recent"
    try:
        for _ in range(5):
            app.log_position()
        assert pings == []
        check.idle_s = 0.0  # every hand-out is "idle" now: each is pinged
        app.log_position()
        assert len(pings) == 1
    finally:
        ConnectionPool.check_connection = staticmethod(original)
