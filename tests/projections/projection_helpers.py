"""Helpers for the projection tests: fresh stores, snapshots of every view, bulk commands."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from factories import synthetic_uscc
from stores import drop_schema, postgres_base_url

from ledger.application import SupportLedger
from ledger.storage import open_ledger
from projections import tables
from projections.recorder import open_views

USERS = (("olga", ["officer"]), ("oscar", ["officer"]), ("ada", ["approver"]))


def fresh_url(backend: str, directory: Path) -> str:
    """A URL of an empty store: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        return f"sqlite:///{directory}/{uuid.uuid4().hex[:12]}.sqlite3"
    base = postgres_base_url()
    return f"{base}{'&' if '?' in base else '?'}schema=t_{uuid.uuid4().hex[:16]}"


@contextlib.contextmanager
def fresh_ledger(backend: str, directory: Path) -> Iterator[SupportLedger]:
    """A ledger on an empty store with measures and users; the store is removed afterwards."""
    url = fresh_url(backend, directory)
    app = open_ledger(url)
    try:
        app.define_measures()
        app.register_user("admin", ["admin"], actor="")
        for name, roles in USERS:
            app.register_user(name, roles, actor="admin")
        yield app
    finally:
        app.close()
        if backend != "sqlite":
            drop_schema(url)


def snapshot(app: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row of every view table, in key order, and the views' position."""
    views = open_views(app)
    out = {
        table.name: views.query(f"SELECT * FROM {{q}}{table.name} ORDER BY {', '.join(table.key)}")
        for table in tables.ALL_TABLES
    }
    out["position"] = [{"position": views.position()}]
    return out


def bulk_commands(enterprises: int, year: int = 2025) -> list[tuple[dict[str, Any], str]]:
    """About ten events per enterprise: register, grant, record and approve a payment."""
    commands: list[tuple[dict[str, Any], str]] = [
        ({"type": "appropriate_budget", "reference": "BULK-B", "measure": "M06",
          "fiscal_year": year, "amount_fen": 10**12, "decision_ref": "松财〔2025〕9号"}, "olga"),
    ]  # fmt: skip
    for n in range(enterprises):
        uscc = synthetic_uscc(500_000 + n)
        commands += [
            ({"type": "register_enterprise", "uscc": uscc, "name": f"企业{n}",
              "town_code": "310117001" if n % 2 else "310117101", "industry": "制造"}, "olga"),
            ({"type": "grant_award", "reference": f"BA-{n}", "uscc": uscc, "measure": "M06",
              "item": "lead_international_standard", "fiscal_year": year,
              "amount_fen": 1_000_000 + n, "decision_ref": "松市监〔2025〕1号",
              "granted_on": "2025-03-01"}, "olga"),
            ({"type": "record_disbursement", "reference": f"BD-{n}", "award_reference": f"BA-{n}",
              "amount_fen": 500_000, "voucher_no": f"V{n}", "paid_on": "2025-04-01"}, "olga"),
            ({"type": "approve_disbursement", "reference": f"BD-{n}"}, "ada"),
        ]  # fmt: skip
    return commands
