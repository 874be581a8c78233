"""Where the ledger keeps its events: `LEDGER_DATABASE_URL` → eventsourcing settings.

- unset: a SQLite file `var/ledger.sqlite3` under the current directory;
- `sqlite:///absolute/path.sqlite3`: another SQLite file;
- `postgresql://user[:password]@host[:port]/dbname[?schema=name]`: PostgreSQL through psycopg 3,
  in its own schema (default `ledger`), with the pool sizes and timeouts set explicitly below.

A pooled PostgreSQL connection is pinged before it is handed out only when it has not been
handed out for `PING_IDLE_S` (1 s; `?ping_idle_s=` in the URL, 0 pings every time): a busy
server's hot connections skip the round trip, an idle one is checked as before
(`POSTGRES_PRE_PING`).

Only `ledger init` creates a store (`open_ledger(url, create=True)`, the default for library
callers and tests); every other command opens with `create=False`, so a mistyped URL or path
is refused (`StoreMissing`) and nothing is made: no SQLite file or directory, no schema.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

if TYPE_CHECKING:
    from ledger.application import SupportLedger

DEFAULT_SQLITE_PATH = Path("var") / "ledger.sqlite3"
DEFAULT_POSTGRES_SCHEMA = "ledger"
#: A pooled connection handed out again within this many seconds is not pinged first.
PING_IDLE_S = 1.0


@dataclass(frozen=True)
class Store:
    """A parsed store location: which backend, and the eventsourcing settings for it."""

    backend: str  # "sqlite" or "postgresql"
    url: str
    env: dict[str, str]

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgresql"

    @property
    def sqlite_path(self) -> str:
        assert self.backend == "sqlite"
        return self.env["SQLITE_DBNAME"]

    @property
    def postgres_schema(self) -> str:
        assert self.is_postgres
        return self.env["POSTGRES_SCHEMA"]

    def postgres_conninfo(self) -> str:
        """A libpq connection string for direct connections (projections, audit, tests)."""
        assert self.is_postgres
        e = self.env
        parts = {
            "dbname": e["POSTGRES_DBNAME"],
            "host": e["POSTGRES_HOST"],
            "port": e["POSTGRES_PORT"],
            "user": e["POSTGRES_USER"],
        }
        if e.get("POSTGRES_PASSWORD"):
            parts["password"] = e["POSTGRES_PASSWORD"]
        return " ".join(f"{k}='{v}'" for k, v in parts.items())


class StoreError(ValueError):
    """`LEDGER_DATABASE_URL` names no store the ledger can use."""


class StoreMissing(StoreError):
    """The store the URL names does not exist (yet): only `ledger init` creates one."""

    def __init__(self, what_en: str, what_zh: str) -> None:
        self.message_en = (
            f"{what_en}; check --database-url / LEDGER_DATABASE_URL for a typo, "
            "or run `ledger init` to create a new store there"
        )
        self.message_zh = f"{what_zh}；请检查 --database-url / LEDGER_DATABASE_URL 是否写错，或运行 `ledger init` 在此新建账本"
        super().__init__(f"账本不存在：{self.message_zh}\nno such store: {self.message_en}")


class StoreUnreachable(StoreError):
    """The PostgreSQL server or database the URL names cannot be reached."""


def store_from_url(url: str | None = None) -> Store:
    """Parse a store URL (default: `LEDGER_DATABASE_URL`, else the SQLite file under var/)."""
    if url is None:
        url = os.environ.get("LEDGER_DATABASE_URL", "").strip()
    if not url:
        return _sqlite_store(str(DEFAULT_SQLITE_PATH), url="")
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/") or path == "/":
            raise StoreError(
                f"{url!r} names no SQLite file; use sqlite:///absolute/path/to/file.sqlite3"
            )
        return _sqlite_store(path, url=url)
    if parts.scheme in ("postgresql", "postgres"):
        return _postgres_store(url)
    raise StoreError(
        f"LEDGER_DATABASE_URL {url!r} is neither sqlite:///… nor postgresql://…"
    )


def _sqlite_store(path: str, url: str) -> Store:
    env = {
        "PERSISTENCE_MODULE": "ledger.log_recorder_sqlite:LeafIndexingSQLiteFactory",
        "SQLITE_DBNAME": path,
        "SQLITE_LOCK_TIMEOUT": "30",
        "CREATE_TABLE": "y",
    }
    return Store("sqlite", url or f"sqlite:///{path}", env)


def _postgres_store(url: str) -> Store:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise StoreError(f"{url!r} names no database; use postgresql://user@host:port/dbname")
    schema = query.get("schema", [DEFAULT_POSTGRES_SCHEMA])[0]
    if not schema.replace("_", "").isalnum():
        raise StoreError(f"schema {schema!r} must be letters, digits and underscores")
    env = {
        "PERSISTENCE_MODULE": "ledger.log_recorder_postgres:LeafIndexingPostgresFactory",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname or "localhost",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or os.environ.get("USER", "postgres")),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_POOL_SIZE": query.get("pool_size", ["5"])[0],
        "POSTGRES_MAX_OVERFLOW": query.get("max_overflow", ["10"])[0],
        "POSTGRES_MAX_WAITING": "100",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "10",
        "POSTGRES_PRE_PING": "y",
        "CREATE_TABLE": "y",
        # ours, not eventsourcing's: see `PingWhenIdle`
        "LEDGER_PING_IDLE_S": query.get("ping_idle_s", [str(PING_IDLE_S)])[0],
    }
    return Store("postgresql", url, env)


class PingWhenIdle:
    """The pool's check of a connection before it is handed out: a ping (as psycopg_pool's
    `check_connection`, what `POSTGRES_PRE_PING` installs), but only for a connection that was
    not handed out within the last `idle_s` seconds, or whose socket has something to read.

    An idle connection in autocommit mode has nothing to read unless the server wrote to it
    unasked, which it does when it ends the session (a restart, `pg_terminate_backend`, an
    idle timeout): such a connection is pinged, fails, and the pool replaces it, as before.
    A connection in steady use with nothing pending has just worked: no round trip. (A
    network that silently drops a connection is noticed by neither the ping's absence nor,
    reliably, its presence; eventsourcing's recorders retry on a fresh connection.)"""

    def __init__(self, idle_s: float) -> None:
        self.idle_s = idle_s

    def __call__(self, conn: Any) -> None:
        from psycopg_pool import ConnectionPool

        now = time.monotonic()
        last = getattr(conn, "_ledger_handed_out_at", None)
        if last is None or not 0 <= now - last < self.idle_s or _has_input(conn):
            ConnectionPool.check_connection(conn)
        conn._ledger_handed_out_at = now


def _has_input(conn: Any) -> bool:
    """Whether the server wrote to this idle connection (or its socket is gone)."""
    import select

    try:
        readable, _, failed = select.select([conn.pgconn.socket], [], [conn.pgconn.socket], 0)
    except (OSError, ValueError, AttributeError):
        return True
    return bool(readable or failed)


def _ping_only_idle_connections(app: Any, env: dict[str, str]) -> None:
    """Replace the pool's every-time ping by `PingWhenIdle` (when the store pings at all)."""
    pool = getattr(getattr(getattr(app, "recorder", None), "datastore", None), "pool", None)
    idle_s = float(env.get("LEDGER_PING_IDLE_S") or 0)
    if pool is not None and getattr(pool, "_check", None) is not None and idle_s > 0:
        pool._check = PingWhenIdle(idle_s)  # psycopg_pool 3.x keeps the check there


#: A pg_advisory_lock key: processes opening the same database set it up one at a time.
_SETUP_LOCK_KEY = 0x5EDCE_0001


def open_ledger(url: str | None = None, *, create: bool = True, **kwargs: Any) -> SupportLedger:
    """Open the SupportLedger on the store the URL (or `LEDGER_DATABASE_URL`) names.

    With `create` (the default, and what `ledger init` passes), the first opening creates what
    is missing (the SQLite file and its directory, the PostgreSQL schema, the tables, the
    append-only triggers). Without it, a store whose SQLite file, PostgreSQL schema or events
    table is absent raises `StoreMissing` and nothing is created. On PostgreSQL, processes that
    open the store at the same moment take turns (an advisory lock), because concurrent
    `CREATE … IF NOT EXISTS` statements can fail there; once everything exists, no DDL is sent
    at all, so the application may connect as a role that can only INSERT and SELECT.
    """
    store = store_from_url(url)
    if not store.is_postgres:
        if _is_sqlite_file(store.sqlite_path):
            if create:
                Path(store.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
            else:
                _require_sqlite_ledger(store.sqlite_path)
        return compose(store, store.env, **kwargs)
    import psycopg  # an infrastructure detail, kept out of the domain

    schema = store.postgres_schema
    try:
        conn = psycopg.connect(store.postgres_conninfo(), autocommit=True)
    except psycopg.OperationalError as exc:
        raise StoreUnreachable(
            f"无法连接 PostgreSQL 账本 cannot connect to the PostgreSQL store: {str(exc).strip()}"
        ) from None
    with conn:
        schema_exists, table_exists = _postgres_ledger_exists(conn, schema)
        if not create:
            if not (schema_exists and table_exists):
                db = store.env["POSTGRES_DBNAME"]
                raise StoreMissing(
                    f"PostgreSQL database {db!r} has no ledger schema {schema!r}"
                    + ("" if not schema_exists else " (its events table is absent)"),
                    f"PostgreSQL 数据库 {db!r} 中没有账本模式 {schema!r}"
                    + ("" if not schema_exists else "（其事件表不存在）"),
                )
            return compose(store, {**store.env, "CREATE_TABLE": "n"}, **kwargs)
        conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK_KEY,))
        try:
            schema_exists, table_exists = _postgres_ledger_exists(conn, schema)
            if not schema_exists:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            env = {**store.env, "CREATE_TABLE": "n" if table_exists else "y"}
            return compose(store, env, **kwargs)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))


#: How long a read on a replica waits to connect (or for a free connection) before it fails:
#: a stopped replica should answer 503 at once, not hold the request for the primary's 10 s.
REPLICA_CONNECT_TIMEOUT_S = "2"


def open_read_ledger(url: str) -> SupportLedger:
    """Open the ledger on a read-only PostgreSQL streaming replica (hot standby) of the store.

    The replica holds the same schema (physical replication), so nothing is created or
    changed there; reads that cannot reach it fail within `REPLICA_CONNECT_TIMEOUT_S` with one
    of `UNREACHABLE_ERRORS`. Raises `StoreError` for a URL that is not PostgreSQL, and
    `StoreUnreachable` / `StoreMissing` as `open_ledger(create=False)` does.
    """
    store = store_from_url(url)
    if not store.is_postgres:
        raise StoreError(
            f"LEDGER_READ_DATABASE_URL {url!r} must name a PostgreSQL streaming replica "
            "(postgresql://…); a SQLite store has none"
        )
    replica = Store(store.backend, store.url, {**store.env,
                                               "POSTGRES_CONNECT_TIMEOUT": REPLICA_CONNECT_TIMEOUT_S})  # fmt: skip
    return _open_existing_postgres(replica)


def _open_existing_postgres(store: Store) -> SupportLedger:
    """The ledger on an existing PostgreSQL store, sending no DDL (a standby refuses any)."""
    import psycopg

    try:
        conn = psycopg.connect(store.postgres_conninfo(), autocommit=True,
                               connect_timeout=int(store.env["POSTGRES_CONNECT_TIMEOUT"]))  # fmt: skip
    except psycopg.OperationalError as exc:
        raise StoreUnreachable(
            f"无法连接 PostgreSQL 账本 cannot connect to the PostgreSQL store: {str(exc).strip()}"
        ) from None
    with conn:
        schema_exists, table_exists = _postgres_ledger_exists(conn, store.postgres_schema)
    if not (schema_exists and table_exists):
        db, schema = store.env["POSTGRES_DBNAME"], store.postgres_schema
        raise StoreMissing(f"PostgreSQL database {db!r} has no ledger schema {schema!r}",
                           f"PostgreSQL 数据库 {db!r} 中没有账本模式 {schema!r}")  # fmt: skip
    return compose(store, {**store.env, "CREATE_TABLE": "n"})


def _unreachable_errors() -> tuple[type[Exception], ...]:
    import psycopg  # the audit's and the schema checks' own connections raise psycopg's
    from eventsourcing.persistence import InterfaceError, OperationalError

    return (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


#: What a read raises when its database cannot be reached (a stopped replica or primary): the
#: web answers these with 503 `store_unavailable`, never a traceback.
UNREACHABLE_ERRORS: tuple[type[Exception], ...] = _unreachable_errors()


#: The tables eventsourcing keeps the ledger's events in, on each store.
_POSTGRES_EVENTS_TABLE = "supportledger_events"  # named after the application, SupportLedger
_SQLITE_EVENTS_TABLE = "stored_events"


def _postgres_ledger_exists(conn, schema: str) -> tuple[bool, bool]:  # type: ignore[no-untyped-def]
    """(the schema exists, its events table exists)."""
    row = conn.execute(
        "SELECT to_regnamespace(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
        (schema, f'"{schema}".{_POSTGRES_EVENTS_TABLE}'),
    ).fetchone()
    return (bool(row[0]), bool(row[1])) if row else (False, False)


def _is_sqlite_file(path: str) -> bool:
    """A path on disk (not `:memory:` nor a `file:` URI)."""
    return path != ":memory:" and not path.startswith("file:")


def _require_sqlite_ledger(path: str) -> None:
    """Raise `StoreMissing` unless the SQLite file exists and holds the events table.

    The file is opened read-only (`mode=ro`), which never creates it.
    """
    import sqlite3

    if not Path(path).is_file():
        raise StoreMissing(f"SQLite file {path} does not exist", f"SQLite 文件 {path} 不存在")
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_SQLITE_EVENTS_TABLE,)
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreMissing(
            f"{path} is not a ledger's SQLite file ({exc})", f"{path} 不是账本的 SQLite 文件（{exc}）"
        ) from None
    if found is None:
        raise StoreMissing(
            f"SQLite file {path} holds no ledger (no events table)",
            f"SQLite 文件 {path} 中没有账本（无事件表）",
        )


def compose(store: Store, env: dict[str, str], **kwargs: Any) -> SupportLedger:
    """Compose the application on this store: its settings, the store itself and the store's
    batch loader go in through the constructor; then the append-only guards are installed."""
    from ledger.application import SupportLedger
    from ledger.guards import install_append_only_guards

    app = SupportLedger(
        env=env, store=store, load_events_many=partial(select_events_many, store),
        load_events_after=partial(select_events_after, store), **kwargs
    )
    if store.is_postgres:
        _ping_only_idle_connections(app, env)
    install_append_only_guards(store, app.recorder.events_table_name)
    return app


def select_events_many(store: Store, recorder: Any, aggregate_ids: list[UUID]) -> dict[UUID, list[Any]]:
    """The stored events of many aggregates in one query: {id: [StoredEvent, …]} in version order.

    The application asks this once per batch for the receipts, enterprises and awards its
    commands name, so a bulk import does not spend one round trip per aggregate.
    """
    if not aggregate_ids:
        return {}
    if store.is_postgres:
        return _select_events(store, recorder, [("originator_id = ANY(%s)", [list(aggregate_ids)])])
    ids = list(dict.fromkeys(aggregate_ids))
    return _select_events(store, recorder, [
        (f"originator_id IN ({','.join(['%s'] * len(chunk))})", chunk)
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500))
    ])  # fmt: skip


def select_events_after(
    store: Store, recorder: Any, after: Mapping[UUID, int]
) -> dict[UUID, list[Any]]:
    """The stored events of a few aggregates after the given versions, in one query: {id:
    [StoredEvent, …]} in version order (none for one stored no further).

    A batch asks this once for the measures and budgets its commands name, which the
    repository caches: one query brings them all up to date, where the repository's own
    fast-forward asks once for each. Each id is one index range (an OR of them: a handful).
    """
    pairs = list(after.items())
    return _select_events(store, recorder, [
        (" OR ".join(["(originator_id = %s AND originator_version > %s)"] * len(chunk)),
         [value for pair in chunk for value in pair])
        for chunk in (pairs[i : i + 100] for i in range(0, len(pairs), 100))
    ])  # fmt: skip


def _select_events(
    store: Store, recorder: Any, queries: list[tuple[str, list[Any]]]
) -> dict[UUID, list[Any]]:
    """The stored events each (WHERE clause, parameters) selects, {id: [StoredEvent, …]} in
    version order, read on one connection. The clauses are the callers' own text, with `%s`
    placeholders; ids are given as UUIDs (on SQLite, which stores them as hex, turned so)."""
    from eventsourcing.persistence import StoredEvent

    found: dict[UUID, list[Any]] = {}
    table = recorder.events_table_name
    select = "SELECT originator_id, originator_version, topic, state FROM {table} WHERE {where} "
    order = "ORDER BY originator_id, originator_version"
    if store.is_postgres:
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL, Identifier

        qualified = SQL("{}.{}").format(Identifier(store.postgres_schema), Identifier(table))
        # a statement reads one snapshot: no BEGIN/ROLLBACK round trips around it; rows as
        # tuples (the pool's connections make dicts, a dict per row a bulk import pays for)
        with (
            recorder.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            for where, params in queries:
                statement = SQL(select.replace("{where}", where) + order).format(table=qualified)
                cursor.execute(statement, params)
                for originator_id, version, topic, state in cursor.fetchall():
                    found.setdefault(originator_id, []).append(
                        StoredEvent(originator_id, version, topic, bytes(state))
                    )
        return found
    with recorder.datastore.transaction(commit=False) as cursor:
        for where, params in queries:
            by_hex = {value.hex: value for value in params if isinstance(value, UUID)}
            cursor.execute(
                select.format(table=table, where=where.replace("%s", "?")) + order,
                [value.hex if isinstance(value, UUID) else value for value in params],
            )
            for originator_hex, version, topic, state in cursor.fetchall():
                aggregate_id = by_hex[originator_hex]
                found.setdefault(aggregate_id, []).append(
                    StoredEvent(aggregate_id, version, topic, state)
                )
    return found
