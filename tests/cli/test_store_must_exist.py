"""A mistyped store is an error: every command but `ledger init` refuses a store that does not
exist — with a bilingual message and exit 2 — and creates nothing (no SQLite file, no `var/`
directory, no PostgreSQL schema or table). `ledger init` then creates it.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import factories as f
import pytest
from click.testing import CliRunner, Result
from stores import drop_schema, postgres_base_url

from ledger.cli import cli
from ledger.storage import store_from_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def commands(tmp_path: Path) -> list[list[str]]:
    """Every command that opens the store, each with arguments it would accept on a real one."""
    lines = tmp_path / "commands.jsonl"
    lines.write_text(json.dumps(f.enterprise(), ensure_ascii=False) + "\n", "utf-8")
    found = [
        ["record", json.dumps(f.enterprise(), ensure_ascii=False)],
        ["import", str(lines)],
        ["show", "award", "A-1"],
        ["users", "add", "vic", "--role", "viewer"],
        ["project"],
        ["audit", "verify"],
        ["demo"],
        ["serve", "--port", str(free_port()), "--server", "waitress"],
        ["serve", "--port", str(free_port())],  # gunicorn, where it runs
    ]
    users = cli.commands["users"]
    if "list" in getattr(users, "commands", {}):  # `ledger users list` comes with issue 8, item 2
        found.append(["users", "list"])
    return found


def run(args: list[str], database_url: str | None) -> Result:
    env = {"LEDGER_DATABASE_URL": database_url, "LEDGER_ACTOR": "admin"}
    return CliRunner().invoke(cli, args, env=env)


def assert_refused(result: Result, args: list[str]) -> None:
    assert result.exit_code == 2, (args, result.output, result.exception)
    assert "账本不存在" in result.output and "no such store" in result.output, (args, result.output)
    assert "ledger init" in result.output, (args, result.output)
    assert "serving" not in result.output, (args, result.output)  # serve failed before binding


def assert_init_creates(database_url: str | None) -> None:
    result = run(["init"], database_url)
    assert result.exit_code == 0, result.output
    result = run(["record", json.dumps(f.enterprise(), ensure_ascii=False)], database_url)
    assert result.exit_code == 1 and "unknown_actor" in result.output, result.output  # the store works


@pytest.mark.parametrize("where", ["absent file", "default path", "empty file"])
def test_sqlite_store_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    monkeypatch.chdir(tmp_path)
    url: str | None
    if where == "default path":  # LEDGER_DATABASE_URL unset: var/ledger.sqlite3 here
        url, path = None, tmp_path / "var" / "ledger.sqlite3"
    else:
        path = tmp_path / "typo" / "dir" / "ledger.sqlite3"
        url = f"sqlite:///{path}"
        if where == "empty file":  # a file that is not a ledger
            path.parent.mkdir(parents=True)
            path.write_bytes(b"")
    for args in commands(tmp_path):
        assert_refused(run(args, url), args)
    if where == "empty file":
        assert path.read_bytes() == b""
    else:
        assert not path.parent.exists()
        assert not (tmp_path / "typo").exists() and not (tmp_path / "var").exists()
    assert_init_creates(url)
    assert path.is_file()


def schema_state(url: str) -> tuple[bool, int]:
    """(the schema exists, how many tables it has)."""
    import psycopg

    store = store_from_url(url)
    with psycopg.connect(store.postgres_conninfo()) as conn:
        row: Any = conn.execute(
            "SELECT to_regnamespace(%s) IS NOT NULL, "
            "(SELECT count(*) FROM pg_tables WHERE schemaname = %s)",
            (store.postgres_schema, store.postgres_schema),
        ).fetchone()
    return bool(row[0]), int(row[1])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = postgres_base_url()
    url = f"{base}{'&' if '?' in base else '?'}schema=t_{uuid.uuid4().hex[:16]}"
    yield url
    drop_schema(url)


@pytest.mark.parametrize("where", ["absent schema", "empty schema"])
def test_postgres_store_must_exist(tmp_path: Path, postgres_url: str, where: str) -> None:
    if where == "empty schema":  # the schema is there, the ledger's events table is not
        import psycopg

        store = store_from_url(postgres_url)
        with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{store.postgres_schema}"')
    before = schema_state(postgres_url)
    assert before == (where == "empty schema", 0)
    for args in commands(tmp_path):
        assert_refused(run(args, postgres_url), args)
    assert schema_state(postgres_url) == before
    assert_init_creates(postgres_url)
    exists, tables = schema_state(postgres_url)
    assert exists and tables >= 1


def test_an_unreachable_postgres_database_is_a_usage_error(tmp_path: Path) -> None:
    base = postgres_base_url()
    parts = base.split("?")[0].rsplit("/", 1)
    url = f"{parts[0]}/no_such_db_{uuid.uuid4().hex[:8]}"
    result = run(["project"], url)
    assert result.exit_code == 2, (result.output, result.exception)
    assert "无法连接" in result.output and "cannot connect" in result.output, result.output
