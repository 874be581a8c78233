"""What the store already holds, and whether this database user may add to it.

`ledger init`, run by the owner of the store, creates every table (the events, the views, the
audit's, the credentials, the web's). Every other command then only reads and writes rows, so it
can run as the least-privilege role of ``scripts/create_app_role.sql``, which may not create
anything. The packages that keep tables in the store look here before they create one: when
everything exists they send no DDL at all; when something is missing and this user may not
create it, they raise :class:`OwnerRequired`, which the CLI reports (in Chinese and English)
with exit status 2 instead of a traceback.

This is storage infrastructure: it imports the database drivers, and nothing from the other
packages.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any


class OwnerRequired(RuntimeError):
    """Something in the store must be created or changed by its owner (`ledger init`)."""

    def __init__(self, code: str, message_en: str, message_zh: str, missing: Sequence[str] = ()):
        super().__init__(message_en)
        self.code = code
        self.message_en = message_en
        self.message_zh = message_zh
        self.missing = list(missing)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message_en,
            "message_zh": self.message_zh,
        }
        if self.missing:
            body["details"] = {"missing": self.missing}
        return body


def tables_missing(missing: Sequence[str]) -> OwnerRequired:
    """The error for tables (or their indexes and guards) this user may not create."""
    names = ", ".join(missing)
    return OwnerRequired(
        "tables_missing",
        f"the store lacks {names}, and this database user may not create them: "
        "run `ledger init` as the owner of the store",
        f"存储中缺少 {names}，当前数据库用户无权创建：请以存储所有者身份运行 `ledger init`",
        missing,
    )


def existing_names(store: Any, names: Iterable[str]) -> set[str]:
    """Which of these tables, indexes or triggers (unqualified names) exist in the store."""
    names = list(names)
    if not names:
        return set()
    if store.backend == "postgresql":
        import psycopg

        schema = store.postgres_schema
        with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = ANY(%s) "
                "UNION SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND t.tgname = ANY(%s)",
                (schema, names, schema, names),
            ).fetchall()
        return {row[0] for row in rows}
    path = store.sqlite_path
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, uri=path.startswith("file:"))
    try:
        marks = ", ".join("?" for _ in names)
        rows = conn.execute(f"SELECT name FROM sqlite_master WHERE name IN ({marks})", names)
        return {row[0] for row in rows.fetchall()}
    finally:
        conn.close()


def missing_names(store: Any, names: Iterable[str]) -> list[str]:
    """These names, less those that exist in the store (in the order given)."""
    names = list(names)
    found = existing_names(store, names)
    return [name for name in names if name not in found]


def may_create(store: Any) -> bool:
    """Whether this database user may create tables in the store (SQLite: always)."""
    if store.backend != "postgresql":
        return True
    import psycopg

    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT has_schema_privilege(current_user, %s, 'CREATE')", (store.postgres_schema,)
        ).fetchone()
    return bool(row and row[0])


def require_creatable(store: Any, names: Iterable[str]) -> list[str]:
    """The names among these that are missing; raise :class:`OwnerRequired` if any is and
    this user may not create them. An empty list means: send no DDL."""
    missing = missing_names(store, names)
    if missing and not may_create(store):
        raise tables_missing(missing)
    return missing
