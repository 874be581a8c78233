"""`ledger init` creates every table up front, on both stores; afterwards `ledger project`,
`ledger serve` and `ledger audit sign|verify` create nothing (on PostgreSQL a role without
CREATE proves the same: tests/audit/test_app_role.py)."""

from __future__ import annotations

import importlib.util
import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from processes import http_get, run_ledger, serving

from ledger.cli_plugins import TABLES_GROUP, create_tables
from ledger.storage import open_ledger, store_from_url
from projections import tables as views

#: What `ledger init` must have made before any other command runs.
EXPECTED_TABLES = {
    "audit_leaves", "audit_nodes", "audit_tree_heads", "audit_verifications",
    *(table.name for table in views.ALL_TABLES),
}  # fmt: skip
EXPECTED_GUARDED = {"audit_leaves", "audit_nodes", "audit_tree_heads", "audit_verifications"}


def schema_objects(database_url: str) -> set[tuple[str, str]]:
    """(kind, name) of every table, index and trigger of the store."""
    store = store_from_url(database_url)
    if store.backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(store.sqlite_path)
        try:
            return {(kind, name) for kind, name in conn.execute(
                "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}  # fmt: skip
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'i' THEN 'index' ELSE c.relkind::text "
            "END, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s UNION SELECT 'trigger', t.tgname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND NOT t.tgisinternal",
            (store.postgres_schema, store.postgres_schema),
        ).fetchall()
    return {(kind, name) for kind, name in rows}


def test_ledger_init_creates_every_table_and_later_commands_create_none(
    database_url: str, tmp_path: Path
) -> None:
    key_env = {"LEDGER_SIGNING_KEY": str(tmp_path / "key.pem")}
    done = run_ledger(database_url, "init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    after_init = schema_objects(database_url)
    tables = {name for kind, name in after_init if kind == "table"}
    assert tables >= EXPECTED_TABLES, EXPECTED_TABLES - tables
    assert {"tracking", "projection_tracking"} & tables  # the views' position
    assert any(name.endswith("_events") for name in tables)
    if importlib.util.find_spec("ledger.credentials") is not None:
        assert "ledger_credentials" in tables
    triggers = {name for kind, name in after_init if kind == "trigger"}
    for table in EXPECTED_GUARDED:
        assert {f"{table}_no_update", f"{table}_no_delete"} <= triggers, table
    indexes = {name for kind, name in after_init if kind == "index"}
    for table in views.ALL_TABLES:
        assert {views.index_name(table, column) for column in table.indexes} <= indexes

    added = run_ledger(database_url, "users", "add", "admin", "--role", "admin", "--json",
                       cwd=tmp_path)  # fmt: skip
    assert added.returncode == 0, added.stderr
    token = json.loads(added.stdout)["token"]
    for args in (["project"], ["audit", "keygen"], ["audit", "sign"], ["audit", "verify"]):
        done = run_ledger(database_url, *args, cwd=tmp_path, env=key_env)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    with serving(database_url, cwd=tmp_path) as base:
        status, body = http_get(f"{base}/api/v1/status", token)
        assert status == 200, body
        status, body = http_get(f"{base}/measures", token)
        assert status == 200, body
    assert schema_objects(database_url) == after_init


def test_init_calls_every_installed_table_creator(database_url: str) -> None:
    app = open_ledger(database_url)
    try:
        called = create_tables(app)
    finally:
        app.close()
    declared = [f"{point.module}.{point.attr}" for point in entry_points(group=TABLES_GROUP)]
    assert sorted(called) == sorted(["ledger.credentials.create_credentials_table", *declared])
    assert {"projections.recorder.create_tables", "audit.db.create_tables",
            "web.cli.create_tables"} <= set(called)  # fmt: skip


@pytest.mark.parametrize("module", ["projections.recorder", "audit.db", "web.cli"])
def test_each_plugin_package_contributes_a_table_creator(module: str) -> None:
    assert callable(importlib.import_module(module).create_tables)
