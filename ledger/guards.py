"""Append-only guards: database triggers that refuse to change or remove recorded rows.

The ledger never updates or deletes an event (DESIGN §2.1); these triggers make the database
refuse it too, so that a bug, a careless script or a stolen application password cannot rewrite
history quietly. On PostgreSQL a guarded table refuses UPDATE, DELETE and TRUNCATE; on SQLite
(which has no TRUNCATE) it refuses UPDATE and DELETE. Someone who owns the tables can still drop
the triggers, which is why the audit's Merkle log and signed tree heads exist as well, and why
the application should connect as the INSERT-and-SELECT-only role of
``scripts/create_app_role.sql``.

This is storage infrastructure: it imports the database drivers, and nothing from the audit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from ledger.schema import tables_missing

#: The message every refused change raises (tests and operators look for it).
REFUSAL = "append-only table: rows may be inserted and read, never updated or deleted"

#: The name of the PostgreSQL trigger function (one per schema).
PG_FUNCTION = "ledger_refuse_change"

#: A constant for pg_advisory_xact_lock, so concurrent installers do not race.
_PG_LOCK_KEY = 0x5EDCE_6A4D


def install_append_only_guards(store: Any, events_table: str) -> None:
    """Guard the events table of a store (the one eventsourcing created) against change."""
    guard_tables(store, [events_table])


def guard_tables(store: Any, tables: Iterable[str]) -> None:
    """Install the append-only triggers on these tables of the store, where they are missing.

    Table names are unqualified: on PostgreSQL they are looked up in the store's schema. The
    call is idempotent and safe when several processes open the store at once.
    """
    tables = list(tables)
    for table in tables:
        if not table.replace("_", "").isalnum():
            raise ValueError(f"not a plain table name: {table!r}")
    if store.backend == "postgresql":
        _guard_postgres(store, tables)
    else:
        _guard_sqlite(store.sqlite_path, tables)


def trigger_names(table: str) -> list[str]:
    """The names of the triggers that guard a table (the same on both stores)."""
    return [f"{table}_no_update", f"{table}_no_delete", f"{table}_no_truncate"]


def drop_guards(store: Any, tables: Iterable[str]) -> None:
    """Remove the triggers from these tables (for maintenance and for tamper tests only)."""
    if store.backend == "postgresql":
        import psycopg

        schema = store.postgres_schema
        with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
            for table in tables:
                for name in trigger_names(table):
                    conn.execute(f'DROP TRIGGER IF EXISTS "{name}" ON "{schema}"."{table}"')
    else:
        conn = sqlite3.connect(store.sqlite_path, timeout=30, isolation_level=None)
        try:
            for table in tables:
                for name in trigger_names(table)[:2]:
                    conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        finally:
            conn.close()


def _guard_sqlite(path: str, tables: list[str]) -> None:
    if path == ":memory:" or "mode=memory" in path:
        return  # each connection would see another, empty database
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, uri=path.startswith("file:"))
    try:
        existing = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        for table in tables:
            update_name, delete_name, _ = trigger_names(table)
            if update_name in existing and delete_name in existing:
                continue  # no DDL when the guards are there
            conn.execute(
                f'CREATE TRIGGER IF NOT EXISTS "{update_name}" BEFORE UPDATE ON "{table}" '
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
            conn.execute(
                f'CREATE TRIGGER IF NOT EXISTS "{delete_name}" BEFORE DELETE ON "{table}" '
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
    finally:
        conn.close()


def _guard_postgres(store: Any, tables: list[str]) -> None:
    import psycopg

    schema = store.postgres_schema
    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        existing = {
            (row[0], row[1])
            for row in conn.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
                (schema,),
            )
        }
        missing = [t for t in tables if any((t, n) not in existing for n in trigger_names(t))]
        if not missing:
            return  # no DDL when the guards are there
        try:
            _create_pg_guards(conn, schema, missing)
        except psycopg.errors.InsufficientPrivilege:
            triggers = [n for t in missing for n in trigger_names(t) if (t, n) not in existing]
            raise tables_missing(triggers) from None


def _create_pg_guards(conn: Any, schema: str, missing: list[str]) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
        conn.execute(
            f'CREATE OR REPLACE FUNCTION "{schema}"."{PG_FUNCTION}"() RETURNS trigger '
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{REFUSAL} (% on %)', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        for table in missing:
            update_name, delete_name, truncate_name = trigger_names(table)
            for name, when in (
                (update_name, "BEFORE UPDATE ON {t} FOR EACH ROW"),
                (delete_name, "BEFORE DELETE ON {t} FOR EACH ROW"),
                (truncate_name, "BEFORE TRUNCATE ON {t} FOR EACH STATEMENT"),
            ):
                qualified = f'"{schema}"."{table}"'
                conn.execute(f'DROP TRIGGER IF EXISTS "{name}" ON {qualified}')
                conn.execute(
                    f'CREATE TRIGGER "{name}" {when.format(t=qualified)} '
                    f'EXECUTE FUNCTION "{schema}"."{PG_FUNCTION}"()'
                )
