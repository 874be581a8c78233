#!/usr/bin/env python3
"""Bulk-import throughput: our import beside raw executemany of the same rows, in one run.

Generates a workload of commands (enterprises, budgets, awards, maker/checker payments), writes
it as a JSON Lines file, imports it with the ledger's importer into a fresh store, and then
inserts the very rows the import stored (the same ids, versions, topics and state bytes) with
plain `executemany` (sqlite3 on SQLite, psycopg on PostgreSQL) into a bare table with the same
key. Prints events/s for both and the ratio.

    .venv/bin/python scripts/bench_ingest.py --commands 20000 --backend sqlite
    .venv/bin/python scripts/bench_ingest.py --commands 20000 --backend postgresql

PostgreSQL is LEDGER_BENCH_DATABASE_URL, else LEDGER_TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/test (each run in a schema of its own, dropped after).
Without --backend both stores are measured (PostgreSQL when one of those variables is set).
`--code DIR` also imports with the ledger of another checkout (say, `git worktree add
/tmp/base-import main`), in a subprocess, into a fresh store of its own, so before and after
print side by side in one run, and compares what the two imports stored.
`--untuned` does the same with this checkout's ledger, without the process-wide switches
`ledger import` applies (ledger/tuning.py).
Timings are noisy on a shared machine: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The checkout whose ledger imports (set for the subprocess of `--code DIR`).
CODE_ROOT = Path(os.environ.get("BENCH_INGEST_CODE_ROOT") or ROOT)
sys.path.insert(0, str(CODE_ROOT))
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

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
        lines.append(
            {"type": "approve_disbursement", "reference": f"PAY-{n:07d}", "actor": APPROVER}
        )
    return lines


def run_import(url: str, path: Path, batch_size: int, untuned: bool = False) -> dict:
    """Import the workload file into a fresh store; its time, its events and their digest."""
    app = open_ledger(url)
    app.define_measures()
    app.register_user("admin", ["admin"], actor="")
    for name, roles in (("olga", ["officer"]), ("oscar", ["officer"]), (APPROVER, ["approver"])):
        app.register_user(name, roles, actor="admin")
    before = app.log_position()
    with path.open(encoding="utf-8") as stream, _as_ledger_import_runs(untuned):
        started, cpu_started = time.perf_counter(), time.process_time()
        report = import_lines(app, read_jsonl(stream), default_actor=None, batch_size=batch_size)
        elapsed_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    assert not report.rejected, report.rejected[:3]
    rows = _stored_rows(app, before)
    app.close()
    return {"elapsed_s": elapsed_s, "cpu_s": cpu_s, "events": len(rows), "digest": _digest(rows),
            "rows": rows}  # fmt: skip


def _as_ledger_import_runs(untuned: bool) -> contextlib.AbstractContextManager:
    """The process-wide switches `ledger import` applies in the checkout that imports (none in
    one from before they existed, none with --untuned)."""
    from ledger import tuning

    switch = getattr(tuning, "old_objects_unscanned", None)
    return contextlib.nullcontext() if untuned or switch is None else switch()


def _stored_rows(app, after: int) -> list[tuple]:  # type: ignore[no-untyped-def]
    """(originator_id, version, topic, state) of every event after position `after`."""
    rows, last = [], after
    while True:
        page = app.recorder.select_notifications(start=last, limit=10_000, inclusive_of_start=False)
        if not page:
            return rows
        rows.extend((n.originator_id, n.originator_version, n.topic, bytes(n.state)) for n in page)
        last = page[-1].id


def _digest(rows: list[tuple]) -> str:
    """What the events say, in log order, with their ids (from the commands' references) and
    without their recording times (which differ between two runs of the same import)."""
    h = hashlib.sha256()
    for oid, version, topic, state in rows:
        body = json.loads(state)
        body.pop("timestamp", None)
        oid_hex = oid.hex if isinstance(oid, uuid.UUID) else str(oid)
        h.update(
            f"{oid_hex}\n{version}\n{topic}\n".encode() + json.dumps(body, sort_keys=True).encode()
        )
    return h.hexdigest()


def _import_elsewhere(code: Path, url: str, path: Path, batch_size: int, untuned: bool) -> dict:
    """`run_import` with the ledger of another checkout (or this one), in a subprocess."""
    env = {**os.environ, "BENCH_INGEST_CODE_ROOT": str(code)}
    done = subprocess.run(
        [sys.executable, __file__, "--import-only", url, str(path), str(batch_size)]
        + (["--untuned"] if untuned else []),
        env=env, cwd=code, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def raw_sqlite(path: str, rows: list[tuple], batch: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE raw (originator_id TEXT, originator_version INTEGER, topic TEXT, "
                 "state BLOB, notification_id INTEGER PRIMARY KEY AUTOINCREMENT, "
                 "UNIQUE (originator_id, originator_version))")  # fmt: skip
    data = [
        (r[0].hex if isinstance(r[0], uuid.UUID) else str(r[0]), r[1], r[2], r[3]) for r in rows
    ]
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
    if sys.argv[1:2] == ["--import-only"]:  # the subprocess of --code DIR
        url, path, batch_size = sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
        result = run_import(url, path, batch_size, untuned=sys.argv[5:6] == ["--untuned"])
        result.pop("rows")
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commands", type=int, default=100_000, help="Commands in the workload.")
    parser.add_argument("--batch-size", type=int, default=500, help="Commands per transaction.")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append",
                        help="Store(s) to measure (default: both, PostgreSQL if a URL is set).")  # fmt: skip
    parser.add_argument(
        "--code", type=Path, help="Another checkout to import with too (before/after)."
    )
    parser.add_argument("--untuned", action="store_true",
                        help="Also import with this checkout's ledger without the process-wide "
                        "switches `ledger import` applies (ledger/tuning.py), in a subprocess.")  # fmt: skip
    args = parser.parse_args()
    pg_env = os.environ.get("LEDGER_BENCH_DATABASE_URL") or os.environ.get(
        "LEDGER_TEST_DATABASE_URL"
    )
    backends = args.backend or (["sqlite", "postgresql"] if pg_env else ["sqlite"])
    pg_url = pg_env or DEFAULT_PG_URL
    print(f"load average: {_load()}")

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        path = Path(tmp) / "workload.jsonl"
        lines = workload(args.commands)
        path.write_text(
            "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
        )
        print(
            f"workload: {len(lines):,} commands in {path.stat().st_size / 1e6:.1f} MB of JSON Lines"
        )
        for backend in backends:
            measure(backend, args, path, len(lines), tmp, pg_url)
    print(f"load average: {_load()}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(
    backend: str, args: argparse.Namespace, path: Path, commands: int, tmp: str, pg_url: str
) -> None:
    """One store: the other checkout's import (with --code), ours, then raw executemany."""

    def fresh_url(name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp}/{name}.sqlite3"
        return f"{pg_url}{'&' if '?' in pg_url else '?'}schema=bench_{uuid.uuid4().hex[:8]}"

    # (label, the checkout, untuned, what the speed-up is over) of each import in a subprocess
    runs = [("base", args.code.resolve(), False, str(args.code))] if args.code else []
    if args.untuned:
        runs.append(("untuned", ROOT, True, "this ledger untuned"))
    others: list[tuple[str, str, dict]] = []
    for label, code, untuned, over in runs:
        other_url = fresh_url(label)
        try:
            other = _import_elsewhere(code, other_url, path, args.batch_size, untuned)
            others.append((label, over, other))
        finally:
            if backend == "postgresql":
                _drop_schema(other_url)
    url = fresh_url("ledger")
    try:
        ours = run_import(url, path, args.batch_size)
        rows = ours.pop("rows")
        if backend == "sqlite":
            raw_s = raw_sqlite(f"{tmp}/raw.sqlite3", rows, args.batch_size * 3)
        else:
            raw_s = raw_postgres(url, rows, args.batch_size * 3)
    finally:
        if backend == "postgresql":
            _drop_schema(url)
    events = ours["events"]
    raw = events / raw_s
    state_size = sum(len(r[3]) for r in rows) // max(1, len(rows))
    print(f"{backend:<10} raw executemany: the {events:,} stored rows (mean state {state_size} "
          f"bytes) in {raw_s:.2f} s = {raw:,.0f} rows/s")  # fmt: skip
    for label, _over, result in [*others, ("import", "", ours)]:
        rate = result["events"] / result["elapsed_s"]
        print(f"{backend:<10} {label:<6} {commands:,} commands → {result['events']:,} events "
              f"in {result['elapsed_s']:.2f} s = {rate:,.0f} events/s "
              f"({commands / result['elapsed_s']:,.0f} commands/s) = {rate / raw:.1%} of raw; "
              f"this process's CPU {result['cpu_s']:.2f} s")  # fmt: skip
    for _label, over, other in others:
        same = "the same" if other["digest"] == ours["digest"] else "DIFFERENT"
        print(f"{backend:<10} speed-up: {other['elapsed_s'] / ours['elapsed_s']:.2f}× over "
              f"{over}; {same} events stored (ids, versions, topics, states but times)")  # fmt: skip


def _drop_schema(url: str) -> None:
    import psycopg

    store = store_from_url(url)
    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.postgres_schema}" CASCADE')


if __name__ == "__main__":
    main()
