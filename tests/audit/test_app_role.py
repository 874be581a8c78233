"""scripts/create_app_role.sql: a role that can append and read, and cannot rewrite history."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from audit.heads import sign_tree_head
from audit.verify import verify
from ledger.application import SupportLedger
from ledger.guards import install_append_only_guards
from ledger.storage import store_from_url

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "create_app_role.sql"


def test_the_app_role_appends_and_reads_but_cannot_change_or_drop(app, backend) -> None:  # type: ignore[no-untyped-def]
    if backend != "postgresql":
        pytest.skip("roles are a PostgreSQL matter")
    if shutil.which("psql") is None:
        pytest.skip("needs psql")
    sign_tree_head(app)
    store = app.store
    role = f"ledger_app_{uuid.uuid4().hex[:8]}"
    conninfo = store.postgres_conninfo()
    subprocess.run(
        ["psql", conninfo, "-q", "-v", f"schema={store.postgres_schema}", "-v", f"role={role}",
         "-v", "password=secret", "-f", str(SCRIPT)],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    try:
        parts = urlsplit(store.url)
        host = f"{parts.hostname}:{parts.port or 5432}"
        as_role = store_from_url(urlunsplit(parts._replace(netloc=f"{role}:secret@{host}")))
        ledger = SupportLedger(env={**as_role.env, "CREATE_TABLE": "n"})
        ledger.store = as_role  # type: ignore[attr-defined]
        install_append_only_guards(as_role, ledger.recorder.events_table_name)
        try:
            ledger.register_user("zoe", ["officer"], actor="admin")
            assert sign_tree_head(ledger)["tree_size"] == ledger.log_position()
            assert verify(ledger).intact
        finally:
            ledger.close()
        schema = store.postgres_schema
        events = f'"{schema}".{app.recorder.events_table_name}'
        with psycopg.connect(as_role.postgres_conninfo(), autocommit=True) as conn:
            for sql in (
                f"UPDATE {events} SET topic = topic",
                f"DELETE FROM {events}",
                f"TRUNCATE {events}",
                f'DELETE FROM "{schema}".audit_tree_heads',
                f'DROP TRIGGER {app.recorder.events_table_name}_no_update ON {events}',
                f'CREATE TABLE "{schema}".intruder (a int)',
            ):
                with pytest.raises(psycopg.Error):
                    conn.execute(sql)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')
