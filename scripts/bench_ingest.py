#!/usr/bin/env python3
"""Bulk-import throughput: our import beside raw executemany of the same rows, in one run.

Generates a workload of commands (enterprises, budgets, awards, maker/checker payments), writes
it as a JSON Lines file, imports it with the ledger's importer into a fresh store, and then
inserts the same number of rows of the same size with plain `executemany` (sqlite3 on SQLite,
psycopg on PostgreSQL) into a bare table. Prints events/s for both and the ratio.

    .venv/bin/python scripts/bench_ingest.py --commands 100000
    LEDGER_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python scripts/bench_ingest.py --commands 100000 --backend postgresql

Without --backend both stores are measured (PostgreSQL when LEDGER_BENCH_DATABASE_URL or
LEDGER_TEST_DATABASE_URL is set). Timings are noisy on a shared machine: compare the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger.identifiers import TOWNS, make_org_code, make_uscc  # noqa: E402
from ledger.importer import import_lines, read_jsonl  # noqa: E402
from ledger.storage import open_ledger, store_from_url  # noqa: E402

OFFICERS = ("olga", "oscar")
APPROVER = "ada"


def workload(commands: int, seed: int = 7) -> list[dict]:
    """About `commands` commands: 5% enterprises, budgets, 45% awards, 25% payments, 25% approvals."""
    rng = random.Random(seed)
    towns = sorted(TOWNS)
    n_enterprises = max(100, commands // 20)
    lines: list[dict] = []
    usccs = []
    for n in range(n_enterprises):
        uscc = make_uscc("91310117" + make_org_code(f"{n:08d}"))
        usccs.append(uscc)
        lines.append({"type": "register_enterprise", "uscc": uscc, "name": f"上海基准测试企业{n:06d}有限公司",
                      "town_code": towns[n % len(towns)], "industry": "智能制造", "actor": "olga"})  # fmt: skip
    for code in ("M06", "M09", "M10", "M11"):
        lines.append({"type": "appropriate_budget", "reference": f"B-{code}", "measure": code,
                      "fiscal_year": 2025, "amount_fen": 10**12, "decision_ref": "松财预〔2025〕1号",
                      "actor": "olga"})  # fmt: skip
    items = (("M06", "join_national_standard"), ("M09", "measurement_management_system"),
             ("M10", "overseas_patent_filing"), ("M11", "patent_intensive_product"))  # fmt: skip
    remaining = commands - len(lines)
    awards = remaining * 45 // 100
    for n in range(awards):
        measure, item = items[n % len(items)]
        lines.append({"type": "grant_award", "reference": f"AW-{n:07d}", "uscc": usccs[n % n_enterprises],
                      "measure": measure, "item": item, "fiscal_year": 2025, "amount_fen": 100_000 + n % 900,
                      "decision_ref": f"松市监〔2025〕{n % 400}号", "granted_on": "2025-04-01",
                      "actor": rng.choice(OFFICERS)})  # fmt: skip
    payments = (commands - len(lines)) // 2
    for n in range(payments):
        lines.append({"type": "record_disbursement", "reference": f"PAY-{n:07d}",
                      "award_reference": f"AW-{n % awards:07d}", "amount_fen": 50_000,
                      "voucher_no": f"V{n:08d}", "paid_on": "2025-05-01", "actor": "olga"})  # fmt: skip
        lines.append({"type": "approve_disbursement", "reference": f"PAY-{n:07d}", "actor": APPROVER})
    return lines


def run_import(url: str, path: Path, batch_size: int) -> tuple[float, int, int]:
    app = open_ledger(url)
    app.define_measures()
    app.register_user("admin", ["admin"], actor="")
    for name, roles in (("olga", ["officer"]), ("oscar", ["officer"]), (APPROVER, ["approver"])):
        app.register_user(name, roles, actor="admin")
    before = app.log_position()
    with path.open(encoding="utf-8") as stream:
        started = time.perf_counter()
        report = import_lines(app, read_jsonl(stream), default_actor=None, batch_size=batch_size)
        elapsed_s = time.perf_counter() - started
    assert not report.rejected, report.rejected[:3]
    events = _count_events(app, before)
    size = _mean_state_size(app)
    app.close()
    return elapsed_s, events, size


def _count_events(app, after: int) -> int:  # type: ignore[no-untyped-def]
    total, last = 0, after
    while True:
        page = app.recorder.select_notifications(start=last, limit=10_000, inclusive_of_start=False)
        if not page:
            return total
        total += len(page)
        last = page[-1].id


def _mean_state_size(app) -> int:  # type: ignore[no-untyped-def]
    page = app.recorder.select_notifications(start=None, limit=5_000)
    return sum(len(n.state) for n in page) // max(1, len(page))


def raw_rows(events: int, state_size: int) -> list[tuple]:
    state = b"x" * state_size
    topic = "ledger.domain.award:Award.DisbursementRecorded"
    return [(uuid.uuid4(), 1, topic, state) for _ in range(events)]


def raw_sqlite(path: str, rows: list[tuple], batch: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE raw (originator_id TEXT, originator_version INTEGER, topic TEXT, "
                 "state BLOB, notification_id INTEGER PRIMARY KEY AUTOINCREMENT, "
                 "UNIQUE (originator_id, originator_version))")  # fmt: skip
    data = [(str(r[0]), r[1], r[2], r[3]) for r in rows]
    started = time.perf_counter()
    for i in range(0, len(data), batch):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO raw (originator_id, originator_version, topic, state) "
                         "VALUES (?, ?, ?, ?)", data[i : i + batch])  # fmt: skip
        conn.execute("COMMIT")
    elapsed_s = time.perf_counter() - started
    conn.close()
    return elapsed_s


def raw_postgres(url: str, rows: list[tuple], batch: int) -> float:
    import psycopg

    store = store_from_url(url)
    schema = f"bench_raw_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            conn.execute(f"CREATE TABLE {schema}.raw (originator_id uuid, originator_version int, "
                         "topic text, state bytea, notification_id bigserial primary key, "
                         "UNIQUE (originator_id, originator_version))")  # fmt: skip
            started = time.perf_counter()
            for i in range(0, len(rows), batch):
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(f"INSERT INTO {schema}.raw (originator_id, originator_version, "
                                    "topic, state) VALUES (%s, %s, %s, %s)", rows[i : i + batch])  # fmt: skip
            return time.perf_counter() - started
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=100_000, help="Commands in the workload.")
    parser.add_argument("--batch-size", type=int, default=500, help="Commands per transaction.")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append",
                        help="Store(s) to measure (default: both, PostgreSQL if a URL is set).")  # fmt: skip
    args = parser.parse_args()
    pg_url = os.environ.get("LEDGER_BENCH_DATABASE_URL") or os.environ.get("LEDGER_TEST_DATABASE_URL")
    backends = args.backend or (["sqlite", "postgresql"] if pg_url else ["sqlite"])

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        path = Path(tmp) / "workload.jsonl"
        lines = workload(args.commands)
        path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
        print(f"workload: {len(lines):,} commands in {path.stat().st_size / 1e6:.1f} MB of JSON Lines")
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/ledger.sqlite3"
            else:
                if not pg_url:
                    sys.exit("PostgreSQL needs LEDGER_BENCH_DATABASE_URL or LEDGER_TEST_DATABASE_URL")
                url = f"{pg_url}{'&' if '?' in pg_url else '?'}schema=bench_{uuid.uuid4().hex[:8]}"
            ours_s, events, state_size = run_import(url, path, args.batch_size)
            rows = raw_rows(events, state_size)
            if backend == "sqlite":
                raw_s = raw_sqlite(f"{tmp}/raw.sqlite3", rows, args.batch_size * 3)
            else:
                raw_s = raw_postgres(url, rows, args.batch_size * 3)
                _drop_schema(url)
            ours, raw = events / ours_s, events / raw_s
            print(f"{backend:<10} import: {len(lines):,} commands → {events:,} events in {ours_s:.1f} s "
                  f"= {ours:,.0f} events/s ({len(lines) / ours_s:,.0f} commands/s)")  # fmt: skip
            print(f"{backend:<10} raw executemany: {events:,} rows of {state_size} bytes in {raw_s:.2f} s "
                  f"= {raw:,.0f} rows/s")  # fmt: skip
            print(f"{backend:<10} ratio: {ours / raw:.1%} of raw executemany")


def _drop_schema(url: str) -> None:
    import psycopg

    store = store_from_url(url)
    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.postgres_schema}" CASCADE')


if __name__ == "__main__":
    main()
