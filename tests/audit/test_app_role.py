"""scripts/create_app_role.sql: after `ledger init` as the owner, every command the application
runs works as the role, and the role cannot rewrite history (PostgreSQL: SQLite has no roles,
see tests/integration/test_init_creates_everything.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import factories as f
import psycopg
import pytest
from processes import LEDGER, http_get, ledger_env, run_ledger, serving
from stores import drop_schema, postgres_base_url

from ledger.storage import store_from_url

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "create_app_role.sql"
#: Generous: the machine is shared; nothing asserts how long anything takes.
WORK_DEADLINE_S = 180.0


@dataclass(frozen=True)
class RoleStore:
    owner_url: str
    role_url: str
    role: str
    schema: str
    token: str  # the API token of `admin`
    cwd: Path
    key_env: dict[str, str]

    def owner_sql(self, sql: str) -> list[tuple]:
        with psycopg.connect(store_from_url(self.owner_url).postgres_conninfo(),
                             autocommit=True) as conn:  # fmt: skip
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    def views_position(self) -> int:
        return self.owner_sql(
            f'SELECT notification_id FROM "{self.schema}".projection_tracking '
            "WHERE application_name = 'projections'"
        )[0][0]

    def as_role(self, *args: str, input_text: str | None = None,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
        return run_ledger(self.role_url, *args, cwd=self.cwd, input_text=input_text,
                          env={**self.key_env, **(env or {})})  # fmt: skip


def _psql() -> str:
    psql = shutil.which("psql")
    if psql is None:
        message = "the role script runs under psql, which is not installed"
        if os.environ.get("LEDGER_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " (LEDGER_TEST_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    return psql


def _grant(owner_url: str, role: str) -> None:
    """Run scripts/create_app_role.sql as the owner for this role (again: it is idempotent)."""
    owner = store_from_url(owner_url)
    _ok(subprocess.run(
        [_psql(), owner.postgres_conninfo(), "-q", "-v", f"schema={owner.postgres_schema}",
         "-v", f"role={role}", "-v", "password=secret", "-f", str(SCRIPT)],
        capture_output=True, text=True, timeout=120,
    ))  # fmt: skip


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, (done.args, done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture
def role_store(tmp_path: Path) -> Iterator[RoleStore]:
    """A fresh schema set up by `ledger init` as the owner, and a role of this test's own
    (roles are global to the server, which other test runs share) made by the script."""
    _psql()
    base = postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    owner_url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    role = f"ledger_app_{uuid.uuid4().hex[:12]}"
    owner = store_from_url(owner_url)
    key = tmp_path / "signing-key.pem"
    key_env = {"LEDGER_SIGNING_KEY": str(key)}
    try:
        _ok(run_ledger(owner_url, "init", cwd=tmp_path))
        _ok(run_ledger(owner_url, "audit", "keygen", cwd=tmp_path, env=key_env))
        added = _ok(run_ledger(owner_url, "users", "add", "admin", "--role", "admin", "--role", "officer", "--json",
                               cwd=tmp_path))  # fmt: skip
        token = json.loads(added.stdout)["token"]
        _grant(owner_url, role)
        parts = urlsplit(owner_url)
        netloc = f"{role}:secret@{parts.hostname}:{parts.port or 5432}"
        role_url = urlunsplit(parts._replace(netloc=netloc))
        yield RoleStore(owner_url, role_url, role, schema, token, tmp_path, key_env)
    finally:
        drop_schema(owner_url)
        with psycopg.connect(owner.postgres_conninfo(), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE "{role}"')


def _write_commands(path: Path, *commands: dict) -> Path:
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in commands))
    return path


def _wait_for(what: str, check) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WORK_DEADLINE_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done: {what}")
        time.sleep(0.2)


def test_every_command_of_the_application_runs_as_the_app_role(role_store: RoleStore) -> None:
    rs = role_store
    events = f'"{rs.schema}".supportledger_events'
    # ledger import FILE
    batch = _write_commands(rs.cwd / "first.jsonl", f.enterprise(), f.budget(), f.award())
    imported = _ok(rs.as_role("--as", "admin", "import", str(batch), "--json"))
    assert json.loads(imported.stdout.strip().splitlines()[-1])["accepted"] == 3
    # ledger project
    _ok(rs.as_role("project"))
    end = rs.owner_sql(f"SELECT max(notification_id) FROM {events}")[0][0]
    assert rs.views_position() == end
    # ledger audit sign, ledger audit verify
    _ok(rs.as_role("audit", "sign"))
    verified = _ok(rs.as_role("audit", "verify", "--json"))
    assert json.loads(verified.stdout)["intact"] is True
    assert rs.owner_sql(f'SELECT count(*) FROM "{rs.schema}".audit_verifications')[0][0] == 1

    # ledger serve: a real server, a page and an API read
    with serving(rs.role_url, cwd=rs.cwd) as base:
        status, body = http_get(f"{base}/api/v1/status", rs.token)
        assert status == 200, body
        assert json.loads(body)["views_position"] == end
        status, body = http_get(f"{base}/measures", rs.token)
        assert status == 200, body
        assert "M10" in body
        status, body = http_get(f"{base}/signin")
        assert status == 200, body

    # ledger worker: follows the log and signs, then stops cleanly on SIGTERM
    heads_before = rs.owner_sql(f'SELECT count(*) FROM "{rs.schema}".audit_tree_heads')[0][0]
    worker = subprocess.Popen(
        [LEDGER, "worker", "--batch-size", "100"],
        env={**ledger_env(rs.role_url), **rs.key_env, "LEDGER_AUDIT_SIGN_INTERVAL_S": "1"},
        cwd=rs.cwd, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _ok(rs.as_role("--as", "admin", "record", json.dumps(f.disbursement())))
        end = rs.owner_sql(f"SELECT max(notification_id) FROM {events}")[0][0]
        _wait_for("the worker applies the new event to the views",
                  lambda: rs.views_position() == end)
        _wait_for("the worker signs a head covering the new event", lambda: rs.owner_sql(
            f'SELECT count(*) FROM "{rs.schema}".audit_tree_heads WHERE tree_size = {end}'
        )[0][0] == 1)  # fmt: skip
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=120) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    stderr = worker.stderr.read() if worker.stderr else ""
    assert "worker stopped" in stderr and "Traceback" not in stderr, stderr
    assert rs.owner_sql(f'SELECT count(*) FROM "{rs.schema}".audit_tree_heads')[0][0] > heads_before
    assert json.loads(_ok(rs.as_role("audit", "verify", "--json")).stdout)["intact"] is True


def test_the_app_role_cannot_change_or_remove_history_nor_create(role_store: RoleStore) -> None:
    rs = role_store
    _ok(rs.as_role("audit", "sign"))
    _ok(rs.as_role("audit", "verify"))
    s = f'"{rs.schema}"'
    refused = [
        f"DELETE FROM {s}.audit_verifications",
        f"UPDATE {s}.audit_verifications SET exit_code = 0",
        f"TRUNCATE {s}.audit_verifications",
        f"UPDATE {s}.supportledger_events SET topic = topic",
        f"DELETE FROM {s}.supportledger_events",
        f"TRUNCATE {s}.supportledger_events",
        f"UPDATE {s}.audit_tree_heads SET root_hash = root_hash",
        f"DELETE FROM {s}.audit_tree_heads",
        f"TRUNCATE {s}.audit_tree_heads",
        f"UPDATE {s}.audit_leaves SET leaf_hash = leaf_hash",
        f"DELETE FROM {s}.audit_leaves",
        f"TRUNCATE {s}.audit_leaves",
        f"DELETE FROM {s}.audit_nodes",
        f"TRUNCATE {s}.pv_trail",
        f"DROP TRIGGER supportledger_events_no_update ON {s}.supportledger_events",
        f"DROP TRIGGER audit_verifications_no_delete ON {s}.audit_verifications",
        f"DROP TABLE {s}.audit_verifications",
        f"CREATE TABLE {s}.intruder (a int)",
        f"CREATE TABLE IF NOT EXISTS {s}.audit_leaves (a int)",
    ]
    conninfo = store_from_url(rs.role_url).postgres_conninfo()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for sql in refused:
            with pytest.raises(psycopg.Error):
                conn.execute(sql)
    counts = rs.owner_sql(
        f"SELECT (SELECT count(*) FROM {s}.audit_verifications), "
        f"(SELECT count(*) FROM {s}.audit_tree_heads), (SELECT count(*) FROM {s}.audit_leaves)"
    )[0]
    assert counts[0] == 1 and counts[1] == 1 and counts[2] > 0
    # rebuilding the views recreates their tables: the owner's job, said plainly
    rebuilt = rs.as_role("project", "--rebuild")
    assert rebuilt.returncode == 2, (rebuilt.stdout, rebuilt.stderr)
    assert "permission_denied" in rebuilt.stderr and "Traceback" not in rebuilt.stderr
    # the verification history is append-only for its owner too (the triggers)
    with pytest.raises(psycopg.Error, match="append-only"):
        rs.owner_sql(f"DELETE FROM {s}.audit_verifications")


def test_a_table_missing_for_the_app_role_says_run_ledger_init(role_store: RoleStore) -> None:
    rs = role_store
    rs.owner_sql(f'DROP TABLE "{rs.schema}".pv_trail')
    for args in (["project"], ["worker"], ["serve", "--port", "1"]):
        done = rs.as_role(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "tables_missing" in done.stderr and "ledger init" in done.stderr, done.stderr
        assert "pv_trail" in done.stderr and "所有者" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
    assert not rs.owner_sql(f"SELECT to_regclass('\"{rs.schema}\".pv_trail')")[0][0]
    _ok(run_ledger(rs.owner_url, "init", cwd=rs.cwd))  # the owner puts it back...
    denied = rs.as_role("project")  # ...without grants on it, which the error says
    assert denied.returncode == 2, (denied.stdout, denied.stderr)
    assert "permission_denied" in denied.stderr and "create_app_role.sql" in denied.stderr
    assert "Traceback" not in denied.stderr, denied.stderr
    _grant(rs.owner_url, rs.role)  # ...and runs the script again
    _ok(rs.as_role("project"))


def test_the_role_script_refuses_a_store_before_ledger_init(tmp_path: Path) -> None:
    psql = _psql()
    base = postgres_base_url()
    url = f"{base}{'&' if '?' in base else '?'}schema=t_{uuid.uuid4().hex[:16]}"
    store = store_from_url(url)
    role = f"ledger_app_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{store.postgres_schema}"')
        done = subprocess.run(
            [psql, store.postgres_conninfo(), "-q", "-v", f"schema={store.postgres_schema}",
             "-v", f"role={role}", "-v", "password=secret", "-f", str(SCRIPT)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode != 0
        assert "run `ledger init` as the owner first" in done.stderr, done.stderr
        with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
            assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None
    finally:
        drop_schema(url)
