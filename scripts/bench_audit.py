#!/usr/bin/env python3
"""Benchmark the audit on a large log: verification rate against the raw read rate, proof
latency and replay time.

Usage::

    .venv/bin/python scripts/bench_audit.py [--database-url URL] [--events 200000] [--proofs 1000]

The store (default: a fresh SQLite file under var/bench/) is filled with demo years
(``ledger.demo.load_demo`` for fiscal years 2025, 2026, …) until it holds at least ``--events``
events. The script then, in one run and on the same rows:

1. indexes the Merkle log cold (leaf hashes and node cache) and signs a tree head;
2. reads every event row raw, in one process, with the columns, order and batch size verification
   uses, and nothing else (the raw read rate);
3. runs the full verification (:func:`audit.verify.verify`: stored leaves, recomputed leaves,
   tree heads, node cache; on SQLite with worker processes, LEDGER_AUDIT_WORKERS) and reports
   events/s, wall clock from start to report, and the ratio to the raw read rate;
4. times ``--proofs`` inclusion proofs of random positions (p50/p99) and a consistency proof;
5. times a full replay.

It prints one line per figure and a final JSON line with all of them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit.db import audit_db
from audit.heads import sign_tree_head
from audit.keys import generate_key, key_path
from audit.log import READ_BATCH, update_log
from audit.proofs import consistency_proof, inclusion_proof
from audit.replay import replay
from audit.verify import verify, worker_count
from ledger.demo import load_demo
from ledger.storage import open_ledger
from ledger.tuning import cyclic_gc_paused


def say(text: str) -> None:
    print(text, flush=True)


def fill(app, target: int) -> None:  # type: ignore[no-untyped-def]
    year = 2025
    while app.log_position() < target:
        started = time.perf_counter()
        load_demo(app, fiscal_year=year, password=None)
        say(f"loaded demo year {year}: log at {app.log_position()} "
            f"({time.perf_counter() - started:.1f} s)")  # fmt: skip
        year += 1


def raw_read(app) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """Read every event row with verification's columns, order and batch size; nothing else."""
    db = audit_db(app)
    select = db.sql(
        "SELECT {pos}, originator_id, originator_version, topic, state FROM {events} "
        "WHERE {pos} > ? ORDER BY {pos} LIMIT ?"
    )
    started = time.perf_counter()
    count, last = 0, -(2**62)
    with db.read() as cur:
        while True:
            cur.execute(select, (last, READ_BATCH))
            rows = cur.fetchall()
            if not rows:
                break
            count += len(rows)
            last = rows[-1][0]
            if len(rows) < READ_BATCH:
                break
    return count, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("LEDGER_BENCH_DATABASE_URL"))
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--proofs", type=int, default=1_000)
    parser.add_argument("--untuned", action="store_true", help="verify without pausing the "
                        "garbage collector as `ledger audit verify` does (ledger/tuning.py)")
    args = parser.parse_args()
    url = args.database_url
    Path("var/bench").mkdir(parents=True, exist_ok=True)
    if not url:
        url = f"sqlite:///{Path('var/bench/audit-bench.sqlite3').resolve()}"
    if not os.environ.get("LEDGER_SIGNING_KEY"):  # a key of the benchmark's own, kept for reruns
        os.environ["LEDGER_SIGNING_KEY"] = str(Path("var/bench/bench-signing-key.pem").resolve())
    if not key_path().exists():
        generate_key()
    app = open_ledger(url)
    say(f"store: {app.store.backend} {url}")
    fill(app, args.events)
    figures: dict[str, float | int | str] = {"backend": app.store.backend}
    figures["verify_processes"] = 1 if app.store.is_postgres else worker_count()

    started = time.perf_counter()
    size = update_log(app)
    figures["index_s"] = round(time.perf_counter() - started, 2)
    say(f"indexed the Merkle log: {size} leaves in {figures['index_s']} s")
    started = time.perf_counter()
    head = sign_tree_head(app)
    figures["sign_ms"] = round((time.perf_counter() - started) * 1000, 1)
    say(f"signed tree head of size {head['tree_size']} in {figures['sign_ms']} ms")

    raw_count, raw_s = raw_read(app)
    with contextlib.nullcontext() if args.untuned else cyclic_gc_paused():  # as the command
        report = verify(app)
    assert report.intact, report.findings
    raw_count2, raw_s2 = raw_read(app)  # again after, so caching favours neither side
    raw_rate = max(raw_count / raw_s, raw_count2 / raw_s2)
    verify_rate = report.events_checked / report.duration_s
    figures.update(
        events=report.events_checked,
        raw_read_events_per_s=round(raw_rate),
        verify_events_per_s=round(verify_rate),
        verify_s=report.duration_s,
        verify_to_raw_ratio=round(verify_rate / raw_rate, 3),
    )
    say(f"raw read:  {raw_count} rows, {raw_rate:,.0f} events/s (best of two)")
    say(f"verify:    {report.events_checked} events in {report.duration_s} s "
        f"({figures['verify_processes']} process(es) on up to {os.cpu_count()} CPUs), "
        f"{verify_rate:,.0f} events/s = {verify_rate / raw_rate:.0%} of the raw read rate")  # fmt: skip

    positions = random.Random(7).sample(range(1, app.log_position() + 1), args.proofs)
    latencies = []
    for position in positions:
        started = time.perf_counter()
        inclusion_proof(app, position)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    figures.update(proof_p50_ms=round(statistics.median(latencies), 2), proof_p99_ms=round(p99, 2))
    say(f"inclusion proof: p50 {figures['proof_p50_ms']} ms, p99 {figures['proof_p99_ms']} ms "
        f"({args.proofs} random positions, tree size {size})")  # fmt: skip
    started = time.perf_counter()
    consistency_proof(app, size // 3, size)
    figures["consistency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    say(f"consistency proof {size // 3} → {size}: {figures['consistency_ms']} ms")

    started = time.perf_counter()
    result = replay(app)
    figures["replay_s"] = round(time.perf_counter() - started, 2)
    say(f"replay of the whole log: {figures['replay_s']} s ({result['events']} money events)")
    print(json.dumps(figures))
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
