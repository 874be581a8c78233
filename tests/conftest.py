"""Fixtures shared by every test: a ledger on each store, its users, command factories.

Every test that takes `app` (or `database_url`) runs twice: on a SQLite file and on
PostgreSQL. The PostgreSQL run needs `LEDGER_TEST_DATABASE_URL` (for example
postgresql://postgres@127.0.0.1:5432/test); without it those runs are skipped with that reason,
unless `LEDGER_TEST_REQUIRE_POSTGRES=1` (as in CI), which turns the skip into a failure.
Each PostgreSQL test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from stores import drop_schema, postgres_base_url

from ledger.application import SupportLedger
from ledger.storage import open_ledger, store_from_url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, empty store URL: a SQLite file, or a PostgreSQL schema of the test's own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/ledger.sqlite3"
        return
    base = postgres_base_url()
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}schema=t_{uuid.uuid4().hex[:16]}"
    yield url
    drop_schema(url)


@pytest.fixture
def backend(database_url: str) -> str:
    return store_from_url(database_url).backend


@pytest.fixture
def app(database_url: str) -> Iterator[SupportLedger]:
    """A ledger on a fresh store with the policy's measures defined and four users:
    `admin` (admin), `olga` and `oscar` (officers), `ada` (approver), `vic` (viewer)."""
    ledger = open_ledger(database_url)
    ledger.define_measures()
    ledger.register_user("admin", ["admin"], actor="")
    for name, roles in (
        ("olga", ["officer"]),
        ("oscar", ["officer"]),
        ("ada", ["approver"]),
        ("vic", ["viewer"]),
    ):
        ledger.register_user(name, roles, actor="admin")
    yield ledger
    ledger.close()
