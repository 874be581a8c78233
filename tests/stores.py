"""Test stores: the PostgreSQL URL for tests (or a visible skip) and schema clean-up."""

from __future__ import annotations

import os

import pytest

from ledger.storage import store_from_url

POSTGRES_URL_VARIABLE = "LEDGER_TEST_DATABASE_URL"


def postgres_base_url() -> str:
    """The PostgreSQL URL for tests, or skip (fail, when PostgreSQL is required)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE, "").strip()
    if not url:
        reason = f"PostgreSQL tests need {POSTGRES_URL_VARIABLE}=postgresql://user@host:port/db"
        if os.environ.get("LEDGER_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (LEDGER_TEST_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    return url


def drop_schema(url: str) -> None:
    import psycopg

    store = store_from_url(url)
    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.postgres_schema}" CASCADE')
