"""Benchmark the projections: rebuild rate beside the read-and-decode rate, and live lag.

On a fresh store (a temporary SQLite file, and/or a new PostgreSQL schema dropped afterwards)
it records at least `--events` events with `execute_many` in big batches, then measures in the
same run:

- read + decode: reading every event in pages and decoding it with the application's mapper,
  which is the least any projection must do;
- rebuild: `Runner.rebuild()`, i.e. the same reading and decoding plus applying every event to
  every view and committing (view rows + position) once per batch;
- live lag (PostgreSQL): a `ledger worker` process follows the log while writer threads send
  about `--rate` commands per second; the lag of a command is the time from its commit until
  the views' position reaches the position it returned.

Usage:
    .venv/bin/python scripts/bench_projections.py --events 200000 \\
        --postgres-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from ledger import tuning
from ledger.identifiers import make_org_code, make_uscc
from ledger.storage import open_ledger, store_from_url
from projections.runner import Runner

YEAR = 2025
PAYMENTS_PER_AWARD = 3
EVENTS_PER_ENTERPRISE = 2 + 4 + 4 * PAYMENTS_PER_AWARD  # register, grant, record + approve


def uscc_for(n: int) -> str:
    return make_uscc("91310117" + make_org_code(f"{n:08d}"))


def enterprise_commands(n: int) -> list[tuple[dict[str, Any], str]]:
    """One enterprise, one award, three approved payments: 18 events."""
    uscc = uscc_for(1_000_000 + n)
    out: list[tuple[dict[str, Any], str]] = [
        ({"type": "register_enterprise", "uscc": uscc, "name": f"基准企业{n}",
          "town_code": ("310117001", "310117101", "310117102")[n % 3], "industry": "制造"},
         "olga"),
        ({"type": "grant_award", "reference": f"BA-{n}", "uscc": uscc, "measure": "M06",
          "item": "lead_international_standard", "fiscal_year": YEAR, "amount_fen": 2_000_000,
          "decision_ref": "松市监〔2025〕1号", "granted_on": "2025-03-01"}, "olga"),
    ]  # fmt: skip
    for k in range(PAYMENTS_PER_AWARD):
        out += [
            ({"type": "record_disbursement", "reference": f"BD-{n}-{k}", "award_reference": f"BA-{n}",
              "amount_fen": 100_000, "voucher_no": f"V{n}-{k}", "paid_on": "2025-04-01"}, "olga"),
            ({"type": "approve_disbursement", "reference": f"BD-{n}-{k}"}, "ada"),
        ]  # fmt: skip
    return out


def populate(app: Any, events: int, say: Any) -> int:
    app.define_measures()
    app.register_user("admin", ["admin"], actor="")
    app.register_user("olga", ["officer"], actor="admin")
    app.register_user("ada", ["approver"], actor="admin")
    app.execute({"type": "appropriate_budget", "reference": "BENCH-B", "measure": "M06",
                 "fiscal_year": YEAR, "amount_fen": 10**12, "decision_ref": "松财〔2025〕9号"},
                "olga")  # fmt: skip
    enterprises = events // EVENTS_PER_ENTERPRISE + 1
    started = time.monotonic()
    chunk = 250  # enterprises per execute_many (2,000 commands)
    for first in range(0, enterprises, chunk):
        commands = [c for n in range(first, min(first + chunk, enterprises))
                    for c in enterprise_commands(n)]  # fmt: skip
        results = app.execute_many(commands)
        bad = [r for r in results if isinstance(r, Exception)]
        if bad:
            raise SystemExit(f"setup command refused: {bad[0]!r}")
        if (first // chunk) % 10 == 0:
            say(f"  recorded {app.log_position():,} events "
                f"({time.monotonic() - started:.0f} s)")  # fmt: skip
    say(f"  recorded {app.log_position():,} events in {time.monotonic() - started:.1f} s")
    return enterprises


def count_bench_enterprises(app: Any) -> int:
    """How many bench enterprises a kept store holds (their awards are BA-0 … BA-(n−1))."""
    from ledger.domain import Award

    low, high = 0, 10_000_000
    while low < high:  # the first n with no award BA-n
        middle = (low + high) // 2
        if app.find(Award, f"BA-{middle}") is None:
            high = middle
        else:
            low = middle + 1
    return low


def read_and_decode(app: Any, page: int) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    position = 0
    decode = app.mapper.to_domain_event
    while True:
        notifications = app.recorder.select_notifications(
            start=position, limit=page, inclusive_of_start=False
        )
        if not notifications:
            break
        for n in notifications:
            decode(n)
        count += len(notifications)
        position = notifications[-1].id
    return count, time.perf_counter() - started


#: The process-wide switches each --tuning applies around a rebuild (see ledger/tuning.py).
TUNINGS = {
    "command": tuning.bulk_command,  # as `ledger project --rebuild` does
    "gc": tuning.cyclic_gc_paused,
    "none": contextlib.nullcontext,
}
TUNING = "command"


def rebuild(app: Any, batch_size: int) -> tuple[int, float]:
    started = time.perf_counter()
    with TUNINGS[TUNING]():
        count = Runner(app, batch_size=batch_size).rebuild()
    return count, time.perf_counter() - started


def throughput(app: Any, batch_size: int, say: Any) -> dict[str, float]:
    rates: dict[str, list[float]] = {"read": [], "rebuild": []}
    for _round in range(2):  # interleaved, so both see the same cache conditions
        count, seconds = read_and_decode(app, batch_size)
        rates["read"].append(count / seconds)
        count, seconds = rebuild(app, batch_size)
        rates["rebuild"].append(count / seconds)
    read = max(rates["read"])
    built = max(rates["rebuild"])
    say(f"  read + decode: {read:,.0f} events/s   rebuild: {built:,.0f} events/s   "
        f"ratio {built / read:.0%}   (events {count:,}, batch {batch_size:,})")  # fmt: skip
    return {"read": read, "rebuild": built, "events": count}


def live_lag(url: str, app: Any, enterprises: int, rate: float, seconds: float, say: Any) -> None:
    import psycopg

    env = {**os.environ, "LEDGER_DATABASE_URL": url}
    ledger_bin = str(Path(sys.executable).parent / "ledger")
    worker = subprocess.Popen([ledger_bin, "worker"], env=env, stderr=subprocess.DEVNULL)
    store = store_from_url(url)
    try:
        # Wait until the worker has loaded its state and follows: a probe command must show.
        from projections.queries import enterprise_balances

        run = uuid.uuid4().hex[:8]  # fresh references, so a kept store can be used again
        probe = app.execute(
            {"type": "record_disbursement", "reference": f"LAG-{run}-PROBE", "award_reference": "BA-0",
             "amount_fen": 1_000, "voucher_no": "LP", "paid_on": "2025-06-01"}, "olga")  # fmt: skip
        enterprise_balances(app, uscc_for(1_000_000), min_position=probe.position, timeout_s=300)
        time.sleep(1.0)
        samples: list[tuple[float, int]] = []
        stop = threading.Event()

        def observe() -> None:
            with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
                sql = (f'SELECT notification_id FROM "{store.postgres_schema}".projection_tracking '
                       "WHERE application_name = 'projections'")  # fmt: skip
                while not stop.is_set():
                    (position,) = conn.execute(sql).fetchone()  # type: ignore[misc]
                    samples.append((time.perf_counter(), position))
                    time.sleep(0.002)

        commits: list[tuple[float, int]] = []
        lock = threading.Lock()
        writers = 4
        interval_s = writers / rate

        def write(k: int) -> None:
            n = k
            next_at = time.perf_counter()
            end_at = next_at + seconds
            while time.perf_counter() < end_at:
                outcome = app.execute(
                    {"type": "record_disbursement", "reference": f"LAG-{run}-{n}",
                     "award_reference": f"BA-{n % enterprises}", "amount_fen": 1_000,
                     "voucher_no": f"L{run}-{n}", "paid_on": "2025-06-01"}, "olga")  # fmt: skip
                with lock:
                    commits.append((time.perf_counter(), outcome.position))
                n += writers
                next_at += interval_s
                time.sleep(max(0.0, next_at - time.perf_counter()))

        observer = threading.Thread(target=observe)
        observer.start()
        threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(1.0)
        stop.set()
        observer.join()
        lags = []
        cursor = 0
        samples.sort()
        for committed_at, position in sorted(commits):
            while cursor < len(samples) and samples[cursor][0] < committed_at:
                cursor += 1
            for seen_at, seen in samples[cursor:]:
                if seen >= position:
                    lags.append(max(0.0, seen_at - committed_at))
                    break
        lags.sort()
        achieved = len(commits) / seconds
        p50 = statistics.median(lags)
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        say(f"  live lag at {achieved:.0f} commands/s for {seconds:.0f} s "
            f"({len(lags)} of {len(commits)} commands seen): p50 {p50 * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms")  # fmt: skip
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "LEDGER_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))  # fmt: skip
    parser.add_argument("--rate", type=float, default=200.0, help="commands/s for the lag test")
    parser.add_argument("--lag-seconds", type=float, default=20.0)
    parser.add_argument(
        "--keep", metavar="URL", action="append", default=[],
        help="use (and keep) this store instead of a fresh one; it is filled only if it has "
        "fewer than --events events (repeat for a SQLite and a PostgreSQL store)",
    )  # fmt: skip
    parser.add_argument(
        "--tuning", choices=tuple(TUNINGS), default="command",
        help="process-wide switches around each rebuild: those of `ledger project` (default), "
        "the paused garbage collector only, or none (ledger/tuning.py)",
    )  # fmt: skip
    args = parser.parse_args()
    global TUNING
    TUNING = args.tuning

    def say(text: str) -> None:
        print(text, flush=True)

    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    kept = {store_from_url(url).backend: url for url in args.keep}
    for backend in backends:
        if backend in kept:
            url = kept[backend]
        elif backend == "sqlite":
            directory = tempfile.mkdtemp(prefix="bench-projections-")
            url = f"sqlite:///{directory}/ledger.sqlite3"
        else:
            base = args.postgres_url
            url = f"{base}{'&' if '?' in base else '?'}schema=bench_{uuid.uuid4().hex[:10]}"
        say(f"{backend}: {url}")
        app = open_ledger(url)
        try:
            if backend in kept and app.log_position() >= args.events:
                enterprises = count_bench_enterprises(app)
                say(f"  using the {app.log_position():,} events already recorded")
            else:
                enterprises = populate(app, args.events, say)
            throughput(app, args.batch_size, say)
            if backend == "postgresql" and args.lag_seconds > 0:
                live_lag(url, app, enterprises, args.rate, args.lag_seconds, say)
        finally:
            app.close()
            if backend in kept:
                pass
            elif backend == "postgresql":
                import psycopg

                store = store_from_url(url)
                with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{store.postgres_schema}" CASCADE')
            else:
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
