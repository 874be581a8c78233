"""Where the ledger keeps its events: `LEDGER_DATABASE_URL` → eventsourcing settings.

- unset: a SQLite file `var/ledger.sqlite3` under the current directory (created as needed);
- `sqlite:///absolute/path.sqlite3`: another SQLite file;
- `postgresql://user[:password]@host[:port]/dbname[?schema=name]`: PostgreSQL through psycopg 3,
  in its own schema (default `ledger`), with the pool sizes and timeouts set explicitly below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_SQLITE_PATH = Path("var") / "ledger.sqlite3"
DEFAULT_POSTGRES_SCHEMA = "ledger"


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
    if path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
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
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
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
    }
    return Store("postgresql", url, env)


def prepare_store(store: Store) -> None:
    """Create what the store needs before the library can create its tables (the schema)."""
    if store.is_postgres:
        import psycopg  # an infrastructure detail, kept out of the domain

        with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{store.postgres_schema}"')


def open_ledger(url: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    """Open the SupportLedger on the store the URL (or `LEDGER_DATABASE_URL`) names."""
    from ledger.application import SupportLedger
    from ledger.guards import install_append_only_guards

    store = store_from_url(url)
    prepare_store(store)
    app = SupportLedger(env=store.env, **kwargs)
    app.store = store  # type: ignore[attr-defined]
    install_append_only_guards(store, app.recorder.events_table_name)
    return app
