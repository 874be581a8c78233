"""Fixtures for the audit tests: a signing key, a ledger with some history, an intruder's SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from audit.keys import generate_key
from ledger.cli import cli
from ledger.guards import drop_guards
from tests import factories as f


@pytest.fixture(autouse=True)
def signing_key(tmp_path, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    """A fresh Ed25519 key outside the database, named by LEDGER_SIGNING_KEY."""
    path = tmp_path / "keys" / "signing-key.pem"
    monkeypatch.setenv("LEDGER_SIGNING_KEY", str(path))
    generate_key(path)
    return str(path)


def record_history(app: Any) -> None:
    """Budgets, enterprises, awards, payments (approved, rejected, reversed), a revocation."""
    commands = [
        (f.budget(), "olga"),
        (f.budget("B-M06", measure="M06"), "olga"),
        (f.enterprise(), "olga"),
        (f.enterprise(f.USCC_B, name="上海乙公司"), "olga"),
        (f.award(), "olga"),
        (f.award("A-2", uscc=f.USCC_B, amount_fen=3_000_000), "olga"),
        (f.disbursement(), "olga"),
        (f.approve(), "ada"),
        (f.disbursement("D-2", amount_fen=1_000_000), "oscar"),
        ({"type": "reject_disbursement", "reference": "D-2", "reason": "重复"}, "ada"),
        (f.disbursement("D-3", award_reference="A-2", amount_fen=2_000_000), "olga"),
        (f.approve("D-3"), "ada"),
        ({"type": "reverse_disbursement", "reference": "D-3", "reason": "退票"}, "olga"),
        ({"type": "revoke_award", "award_reference": "A-2", "decision_ref": "松市监〔2025〕99号",
          "reason": "不符合条件"}, "olga"),
    ]
    for command, actor in commands:
        app.execute(command, actor)


@pytest.fixture
def ledger(app: Any) -> Any:
    """The `app` fixture with a short history recorded."""
    record_history(app)
    return app


class Intruder:
    """Someone with direct access to the database, who runs raw SQL around the application."""

    def __init__(self, app: Any) -> None:
        self.store = app.store
        self.events = app.recorder.events_table_name
        self.pos = "notification_id" if self.store.is_postgres else "rowid"

    def table(self, name: str) -> str:
        if self.store.is_postgres:
            return f'"{self.store.postgres_schema}"."{name}"'
        return f'"{name}"'

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one statement (``?`` placeholders, ``{events}`` and ``{pos}`` filled in)."""
        sql = sql.replace("{events}", self.table(self.events)).replace("{pos}", self.pos)
        sql = sql.replace("{heads}", self.table("audit_tree_heads"))
        sql = sql.replace("{leaves}", self.table("audit_leaves"))
        sql = sql.replace("{nodes}", self.table("audit_nodes"))
        sql = sql.replace("{verifications}", self.table("audit_verifications"))
        if self.store.is_postgres:
            import psycopg

            with psycopg.connect(self.store.postgres_conninfo(), autocommit=True) as conn:
                cur = conn.execute(sql.replace("?", "%s"), params)
                return cur.fetchall() if cur.description else []
        conn = sqlite3.connect(self.store.sqlite_path, isolation_level=None)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def drop_triggers(self) -> None:
        drop_guards(self.store, [self.events, "audit_tree_heads", "audit_leaves", "audit_nodes"])


@pytest.fixture
def intruder(app: Any) -> Intruder:
    return Intruder(app)


@pytest.fixture
def run_cli(database_url: str) -> Iterator[Any]:
    """Invoke `ledger …` on the test's store; returns click's Result."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli, ["--database-url", database_url, *args], catch_exceptions=False)

    yield run
