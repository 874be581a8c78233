#!/usr/bin/env python3
"""Benchmark (not a test): a log of a million events, beside the raw read of the same rows.

    .venv/bin/python scripts/bench_scale.py --events 1000000 [--backend sqlite|postgresql|both]
    .venv/bin/python scripts/bench_scale.py --sizes 250000,1000000 --backend postgresql
    .venv/bin/python scripts/bench_scale.py --events 20000          # smoke run, about a minute

For each backend and size it builds, on a fresh store (a temporary SQLite file, or a PostgreSQL
database named ``bench_scale_<random>`` created and dropped), a log of at least N domain events
through ``execute_many`` in big batches (per enterprise: registration, an award, three payments
recorded and approved), signs a tree head, stores the replay snapshots
(:mod:`audit.replay_snapshots`), and measures in the same run:

- raw read: every row of the events table (PostgreSQL: ``COPY (SELECT …) TO STDOUT`` through
  psycopg, every byte read; SQLite: a plain ``SELECT`` fetched in batches) — the physical
  limit any pass over the log must pay;
- rebuild of the views (``ledger project --rebuild`` in a subprocess), full ``audit verify``
  (subprocess, as the CLI runs it), as-of replay at random instants with the snapshots and
  without (subprocesses), each with its peak resident memory (``ru_maxrss`` of the subprocess
  and of its own children, e.g. SQLite's verification workers);
- inclusion proofs at random positions through :func:`audit.proofs.inclusion_proof`, and
  through HTTP against a real ``ledger serve``; the enterprise page and the balances API with
  16 concurrent clients against a server started cold (``LEDGER_CACHE_ENTRIES=0``, so every
  request reads and renders; p99 of the first requests after its processes have loaded the
  application). Each client is a process of its own over its own keep-alive connection, as in
  ``bench_http.py`` (threads of one interpreter would queue for its lock and add that to the
  latencies); beside them, a static file through the same server and clients, the floor any
  request pays; ``--workers 1,2`` measures the server with one and then two processes, and
``--reads-at-once 2,0`` with two read slots per process and then unlimited (web.read_slots).
``--compare-with CHECKOUT`` also verifies, replays the same instants and serves the same requests
with another checkout's code (its .venv) on the same store; ``--http-rounds N`` serves them N
times, the two checkouts in turn, and every answer reports the server's CPU time per request.

``--web-only`` skips verify and the replays (the views are still rebuilt: the pages read them);
``--verify-only`` measures only ``audit verify`` (with ``--compare-with``, the other checkout's
verify and then this one's again, on the same store), and then its pass over the log alone,
without the check of the replay snapshots (whose state grows with the awards and payments).

Progress goes to stderr, one line per phase; the table (or ``--json``) to stdout. Timings on a
shared machine are noisy: read the ratios to the raw read of the same run, and the load average
printed beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

YEAR = 2025
PAYMENTS = 3
OFFICER, APPROVER, VIEWER, PASSWORD = "olga", "ada", "overseer", "bench-scale-pw"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# -- building the log ----------------------------------------------------------------------


def enterprise_commands(n: int) -> list[tuple[dict[str, Any], str]]:
    from ledger.identifiers import make_org_code, make_uscc

    uscc = make_uscc("91310117" + make_org_code(f"{10_000_000 + n:08d}"))
    out: list[tuple[dict[str, Any], str]] = [
        ({"type": "register_enterprise", "uscc": uscc, "name": f"松江规模测试企业{n}",
          "town_code": ("310117001", "310117101", "310117102")[n % 3], "industry": "智能制造"},
         OFFICER),
        ({"type": "grant_award", "reference": f"SA-{n}", "uscc": uscc, "measure": "M06",
          "item": "lead_international_standard", "fiscal_year": YEAR, "amount_fen": 2_000_000,
          "decision_ref": "松市监〔2025〕1号", "granted_on": "2025-03-01"}, OFFICER),
    ]  # fmt: skip
    for k in range(PAYMENTS):
        out += [
            ({"type": "record_disbursement", "reference": f"SD-{n}-{k}", "award_reference": f"SA-{n}",
              "amount_fen": 100_000, "voucher_no": f"V{n}-{k}", "paid_on": "2025-04-01"}, OFFICER),
            ({"type": "approve_disbursement", "reference": f"SD-{n}-{k}"}, APPROVER),
        ]  # fmt: skip
    return out


def build(url: str, events: int) -> dict[str, Any]:
    """Fill a fresh store with at least ``events`` events; sign; store the replay snapshots."""
    from werkzeug.security import generate_password_hash

    from audit.heads import sign_tree_head
    from audit.replay_snapshots import take_snapshots
    from ledger import tuning
    from ledger.storage import open_ledger

    app = open_ledger(url)
    app.define_measures()
    app.register_user("admin", ["admin"], actor="")
    app.register_user(OFFICER, ["officer"], actor="admin")
    app.register_user(APPROVER, ["approver"], actor="admin")
    app.register_user(VIEWER, ["viewer", "auditor"], actor="admin")
    app.set_password_hash(VIEWER, generate_password_hash(PASSWORD), actor="admin")
    app.execute({"type": "appropriate_budget", "reference": "SCALE-B", "measure": "M06",
                 "fiscal_year": YEAR, "amount_fen": 10**12, "decision_ref": "松财〔2025〕9号"},
                OFFICER)  # fmt: skip
    started = time.perf_counter()
    n, chunk = 0, 250
    with tuning.bulk_command():
        while app.log_position() < events:
            batch = [c for k in range(n, n + chunk) for c in enterprise_commands(k)]
            results = app.execute_many(batch)
            bad = [r for r in results if isinstance(r, Exception)]
            if bad:
                raise SystemExit(f"setup command refused: {bad[0]!r}")
            n += chunk
            if (n // chunk) % 40 == 0:
                say(f"  build: {app.log_position():,} events")
    built_s = time.perf_counter() - started
    size = app.log_position()
    say(f"  build: {size:,} events in {built_s:.0f} s; signing")
    sign_tree_head(app)
    started = time.perf_counter()
    made = take_snapshots(app)
    snapshots_s = time.perf_counter() - started
    say(f"  {len(made)} replay snapshots in {snapshots_s:.1f} s")
    token = app.issue_token(VIEWER, actor="admin")
    app.close()
    return {"events": size, "enterprises": n, "build_s": built_s, "snapshots": len(made),
            "snapshots_s": snapshots_s, "token": token}  # fmt: skip


# -- the raw read --------------------------------------------------------------------------


def raw_read(url: str) -> tuple[int, float]:
    """Every row of the events table, as the physical limit: (bytes, seconds)."""
    from ledger.storage import open_ledger

    app = open_ledger(url)
    table = app.recorder.events_table_name
    store = app.store
    started = time.perf_counter()
    total = 0
    if store.is_postgres:
        import psycopg

        with psycopg.connect(store.postgres_conninfo()) as conn, conn.cursor() as cur:
            query = (f'COPY (SELECT notification_id, originator_id, originator_version, topic, '
                     f'state FROM "{store.postgres_schema}"."{table}" ORDER BY notification_id) '
                     "TO STDOUT")  # fmt: skip
            with cur.copy(query) as copy:
                for data in copy:
                    total += len(data)
    else:
        import sqlite3

        conn = sqlite3.connect(store.sqlite_path)
        cur = conn.execute(f'SELECT rowid, originator_id, originator_version, topic, state '
                           f'FROM "{table}" ORDER BY rowid')  # fmt: skip
        while rows := cur.fetchmany(10_000):
            total += sum(len(r[4]) for r in rows)
        conn.close()
    seconds = time.perf_counter() - started
    app.close()
    return total, seconds


# -- phases in subprocesses (for their peak memory) ----------------------------------------


def child(phase: str, url: str, extra: list[str], checkout: Path | None = None) -> dict[str, Any]:
    """Run one phase in a fresh interpreter (of another checkout's venv and script, if given);
    its JSON result plus its peak memory."""
    env = {**os.environ, "LEDGER_DATABASE_URL": url}
    python, script = sys.executable, __file__
    if checkout is not None:
        python = str(checkout / ".venv" / "bin" / "python")
        script = str(checkout / "scripts" / "bench_scale.py")
    done = subprocess.run(
        [python, script, "--child", phase, "--database-url", url, *extra],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_mib() -> float:
    """The peak resident memory of this process, in MiB: VmHWM, the high-water mark of its own
    address space, which exec starts afresh (``ru_maxrss`` would carry over the forking
    parent's). Worker processes it starts (SQLite's verification) are not included."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(phase: str, url: str, args: argparse.Namespace) -> None:
    from ledger import tuning
    from ledger.storage import open_ledger

    app = open_ledger(url)
    result: dict[str, Any] = {}
    started = time.perf_counter()
    if phase == "rebuild":
        from projections.runner import Runner

        with tuning.bulk_command():
            result["events"] = Runner(app).rebuild()
    elif phase in ("verify", "verify-log"):
        import audit.verify
        from audit.verify import verify

        if phase == "verify-log":  # the pass over the log alone: leaves, heads, node cache
            audit.verify._check_replay_snapshots = lambda *_: None
        with tuning.cyclic_gc_paused():
            report = verify(app)
        result.update(intact=report.intact, events=report.events_checked,
                      snapshots_checked=report.replay_snapshots_checked,
                      findings=[f.message for f in report.findings[:3]])  # fmt: skip
    elif phase in ("replay", "replay-full"):
        from audit.replay import replay

        if phase == "replay-full":
            os.environ["LEDGER_REPLAY_SNAPSHOT_EVERY"] = "0"
        instants = json.loads(args.instants)
        times, digests = [], []
        for instant in instants:
            t0 = time.perf_counter()
            out = replay(app, as_of=instant)
            times.append(time.perf_counter() - t0)
            digests.append(hashlib.sha256(json.dumps(out, sort_keys=True).encode()).hexdigest())
        result.update(times=times, digests=digests)
    result["seconds"] = time.perf_counter() - started
    app.close()
    result["peak_mib"] = peak_mib()
    print(json.dumps(result))


# -- proofs and HTTP -----------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def proofs_in_process(url: str, count: int, rng: random.Random) -> list[float]:
    from audit.proofs import inclusion_proof
    from ledger.storage import open_ledger

    app = open_ledger(url)
    end = app.log_position()
    inclusion_proof(app, 1)  # the first opens the pool
    times = []
    for _ in range(count):
        position = rng.randint(1, end)
        t0 = time.perf_counter()
        inclusion_proof(app, position)
        times.append(time.perf_counter() - t0)
    app.close()
    return times


def instants_of(url: str, count: int, rng: random.Random) -> list[str]:
    """``count`` random instants between the first and the last event's timestamp."""
    from ledger.storage import open_ledger

    app = open_ledger(url)
    end = app.log_position()
    first = app.mapper.to_domain_event(app.recorder.select_notifications(start=1, limit=1)[0])
    last_n = app.recorder.select_notifications(start=end, limit=1)[0]
    last = app.mapper.to_domain_event(last_n)
    app.close()
    span = (last.timestamp - first.timestamp).total_seconds()
    picks = sorted(first.timestamp.timestamp() + rng.random() * span for _ in range(count))
    from datetime import UTC, datetime

    return [datetime.fromtimestamp(p, UTC).isoformat() for p in picks]


def usccs_of(url: str) -> list[str]:
    from ledger.storage import open_ledger
    from projections.recorder import open_views

    app = open_ledger(url)
    rows = open_views(app).query("SELECT uscc FROM {q}pv_enterprises ORDER BY uscc")
    app.close()
    return [r["uscc"] for r in rows]


@contextlib.contextmanager
def serving(url: str, threads: int, workers: int | None, reads: int | None = None,
            checkout: Path | None = None) -> Iterator[tuple[int, int]]:  # fmt: skip
    """A ``ledger serve`` on the store (of another checkout's venv and code, if given), its page
    cache off, once its worker processes have loaded the application (bench_http.settled: the
    port opens before they do): its port and process id."""
    from bench_http import settled
    from bench_web import free_port

    port = free_port()
    env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_SECRET_KEY": "bench",
           "LEDGER_CACHE_ENTRIES": "0"}  # fmt: skip
    if reads is not None:
        env["LEDGER_READS_AT_ONCE"] = str(reads)
    ledger_bin = str(Path(sys.executable).parent / "ledger")
    env["PYTHONPATH"] = str(checkout or ROOT)  # this checkout's code, whatever the venv holds
    if checkout is not None:
        ledger_bin = str(checkout / ".venv" / "bin" / "ledger")
    server_args = ["--threads", str(threads)] + (["--workers", str(workers)] if workers else [])
    server = subprocess.Popen(
        [ledger_bin, "serve", "--host", "127.0.0.1", "--port", str(port), *server_args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import socket

        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("ledger serve did not start") from None
                time.sleep(0.2)
        settled(server)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(20)


def page_client(index: int, port: int, paths: list[list[str]], token: str, cookie: str,
                ready: Any) -> tuple[Any, ...]:  # fmt: skip
    """One reader's machine (a process of its own, bench_http.run_clients): its share of the
    paths one by one over one keep-alive connection; every answer must be 200."""
    from bench_http import KeepAlive, timed

    connection = KeepAlive(port)
    requests = [connection.prepare("GET", path, token, cookie=cookie) for path in paths[index]]
    connection.exchange(connection.prepare("GET", "/signin", token, cookie=cookie))  # connected
    ready.wait()
    return timed(connection, requests, lambda status, _answer: status == 200, [])


def first_requests(
    port: int, pid: int, paths: list[str], token: str, cookie: str, clients: int
) -> dict[str, Any]:
    """Each path once, by ``clients`` client processes at a time (each its share, over its own
    keep-alive connection): p50/p99, requests/s, and the server's CPU time per request (all its
    processes). A non-200 answer ends the benchmark."""
    from bench_http import cpu_seconds, run_clients

    shares = [paths[k::clients] for k in range(clients)]
    cpu_before = cpu_seconds(pid)
    elapsed, latencies, _cpu = run_clients(clients, page_client, (port, shares, token, cookie))
    server_cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / max(len(latencies), 1)
    return {"requests": len(latencies), "errors": 0, "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000, "rps": len(latencies) / elapsed,
            "server_cpu_ms": server_cpu_ms}  # fmt: skip


def http_phase(
    url: str, built: dict[str, Any], args: argparse.Namespace, rng: random.Random
) -> dict[str, Any]:
    """The pages and APIs by 16 clients against a cold server; with ``--compare-with``, each
    setting served by that checkout's code first and then by this one, on the same store, with
    the same requests (``--http-rounds`` times, in turn)."""
    import bench_web
    from bench_web import session_cookie

    bench_web.VIEWER, bench_web.PASSWORD = VIEWER, PASSWORD
    usccs = usccs_of(url)
    sample = [rng.choice(usccs) for _ in range(args.requests)]
    positions = [rng.randint(1, built["events"]) for _ in range(args.requests)]
    codes: list[Path | None] = [None]
    if args.compare_with:
        codes.insert(0, Path(args.compare_with).resolve())
    out: dict[str, Any] = {}
    for workers, reads in [(w, r) for w in args.workers for r in args.reads_at_once]:
        suffix = (
            f", {workers} process{'es' if workers > 1 else ''}" if len(args.workers) > 1 else ""
        )
        if len(args.reads_at_once) > 1:
            suffix += f", {reads or 'unlimited'} reads at once"
        for round_no, checkout in [(k, c) for k in range(args.http_rounds) for c in codes]:
            by = "" if not args.compare_with else f", {checkout.name if checkout else 'this code'}"
            if args.http_rounds > 1:
                by += f", round {round_no + 1}"
            with serving(url, args.threads, workers, reads, checkout) as (port, pid):
                cookie = session_cookie(port)
                token = built["token"]
                out["enterprise page" + suffix + by] = first_requests(
                    port, pid, [f"/enterprises/{u}" for u in sample], "", cookie, args.clients
                )
                out["balances API" + suffix + by] = first_requests(
                    port, pid, [f"/api/v1/enterprises/{u}" for u in sample], token, "", args.clients
                )
                out["proof (HTTP)" + suffix + by] = first_requests(
                    port, pid, [f"/api/v1/audit/proofs/{p}" for p in positions], token, "",
                    args.clients,
                )  # fmt: skip
                # the floor: a static file through the same server, clients and connections
                out["static file (the floor)" + suffix + by] = first_requests(
                    port, pid, ["/static/style.css"] * len(sample), "", "", args.clients
                )
    return out


# -- one store -----------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_store(backend: str, pg_url: str, work: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{work}/scale-{uuid.uuid4().hex[:8]}.sqlite3"
        return
    import psycopg

    name = f"bench_scale_{uuid.uuid4().hex[:10]}"
    base, _, _ = pg_url.rpartition("/")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(backend: str, events: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    with fresh_store(backend, args.postgres_url, work) as url:
        say(f"{backend} {events:,}: build")
        built = build(url, events)
        result: dict[str, Any] = {
            "backend": backend,
            **{k: v for k, v in built.items() if k != "token"},
        }
        result["snapshot_every"] = int(os.environ["LEDGER_REPLAY_SNAPSHOT_EVERY"])
        say(f"{backend} {events:,}: raw read")
        raw_bytes, raw_s = min((raw_read(url) for _ in range(2)), key=lambda r: r[1])
        result.update(raw_read_s=raw_s, raw_read_mib=raw_bytes / 2**20)
        say(f"  raw read {raw_s:.2f} s ({raw_bytes / 2**20:.0f} MiB)")
        if not (args.replay_only or args.verify_only):  # the pages read the views
            if args.compare_with and args.rebuild_only:
                other = child("rebuild", url, [], Path(args.compare_with))
                result.update(compare_rebuild_s=other["seconds"],
                              compare_rebuild_peak_mib=other["peak_mib"])  # fmt: skip
                say(f"  rebuild with {args.compare_with}: {other['seconds']:.1f} s, "
                    f"peak {other['peak_mib']:.0f} MiB")  # fmt: skip
            say("  rebuild")
            rebuilt = child("rebuild", url, [])
            result.update(rebuild_s=rebuilt["seconds"], rebuild_peak_mib=rebuilt["peak_mib"])
            say(f"  rebuild {rebuilt['seconds']:.1f} s, peak {rebuilt['peak_mib']:.0f} MiB")
        if args.rebuild_only:
            result["loadavg"] = os.getloadavg()
            say(f"{backend} {events:,}: done (rebuild only)")
            return result
        if not (args.replay_only or args.web_only):
            say("  verify")
            verified = child("verify", url, [])
            if not verified["intact"]:
                raise SystemExit(f"verify found: {verified['findings']}")
            result.update(verify_s=verified["seconds"], verify_peak_mib=verified["peak_mib"],
                          snapshots_checked=verified["snapshots_checked"])  # fmt: skip
            say(f"  verify {verified['seconds']:.1f} s, peak {verified['peak_mib']:.0f} MiB")
            if args.compare_with:
                result.update(verify_phase_compared(url, Path(args.compare_with).resolve()))
            if args.verify_only:
                alone = child("verify-log", url, [])
                result.update(verify_log_s=alone["seconds"], verify_log_peak_mib=alone["peak_mib"])
                say(f"  verify without the snapshot check {alone['seconds']:.1f} s, "
                    f"peak {alone['peak_mib']:.0f} MiB")  # fmt: skip
        if args.verify_only:
            result["loadavg"] = os.getloadavg()
            say(f"{backend} {events:,}: done (verify only)")
            return result
        if not args.web_only:
            say("  replay")
            result.update(replay_phase(url, args, rng))
            say(
                f"  replay p50 {result['replay_p50_s']:.2f} s (full {result['replay_full_p50_s']:.2f} s)"
            )
        if args.replay_only:
            result["loadavg"] = os.getloadavg()
            say(f"{backend} {events:,}: done (replay only)")
            return result
        say("  proofs")
        proofs = proofs_in_process(url, args.proofs, rng)
        result.update(proof_p50_ms=percentile(proofs, 0.5) * 1000,
                      proof_p99_ms=percentile(proofs, 0.99) * 1000)  # fmt: skip
        say(f"  proof p99 {result['proof_p99_ms']:.1f} ms; HTTP (cold server)")
        result["http"] = http_phase(url, built, args, rng)
        result["clients"] = args.clients
        result["loadavg"] = os.getloadavg()
        say(f"{backend} {events:,}: done")
    return result


def verify_phase_compared(url: str, checkout: Path) -> dict[str, Any]:
    """``audit verify`` with another checkout's code on the same store, then this code again
    (on a shared machine one pair is noise)."""
    out: dict[str, Any] = {"verify_compare_with": str(checkout)}
    for key, code in (("verify_compare", checkout), ("verify_again", None)):
        say(f"  verify ({code.name if code else 'this code again'})")
        done = child("verify", url, [], code)
        if not done["intact"]:
            raise SystemExit(f"verify ({code or 'this code'}) found: {done['findings']}")
        out.update({f"{key}_s": done["seconds"], f"{key}_peak_mib": done["peak_mib"]})
    return out


def spread(n: int, k: int) -> list[int]:
    """``k`` of the indexes of ``n`` sorted instants, evenly spread and always with the last
    (the latest instant holds the largest state: the first alone would flatter the memory)."""
    k = min(k, n)
    if k <= 0:
        return []
    if k == 1:
        return [n - 1]
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def replay_phase(url: str, args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    """As-of replays at random instants from the snapshots, and some from the start of the log
    (same results required); with ``--compare-with``, the same instants replayed by another
    checkout's code right after, on the same store (same results required too)."""
    picked = instants_of(url, args.replays, rng)
    instants = json.dumps(picked)
    fast = child("replay", url, ["--instants", instants])
    chosen = spread(len(picked), args.full_replays)
    slow = child("replay-full", url, ["--instants", json.dumps([picked[i] for i in chosen])])
    if [fast["digests"][i] for i in chosen] != slow["digests"]:
        raise SystemExit("replay from snapshots differs from the full replay")
    out = dict(
        replay_p50_s=statistics.median(fast["times"]), replay_max_s=max(fast["times"]),
        replay_peak_mib=fast["peak_mib"], replay_times=fast["times"],
        replay_full_p50_s=statistics.median(slow["times"]), replay_full_max_s=max(slow["times"]),
        replay_full_peak_mib=slow["peak_mib"], replay_full_times=slow["times"],
    )  # fmt: skip
    if args.compare_with:
        checkout = Path(args.compare_with).resolve()
        other = child("replay", url, ["--instants", instants], checkout)
        if other["digests"] != fast["digests"]:
            raise SystemExit(f"replay of {checkout} differs from this checkout's")
        again = child("replay", url, ["--instants", instants])  # this code once more, after
        out.update(
            compare_with=str(checkout), compare_p50_s=statistics.median(other["times"]),
            compare_max_s=max(other["times"]), compare_peak_mib=other["peak_mib"],
            compare_times=other["times"], replay_again_p50_s=statistics.median(again["times"]),
            replay_again_max_s=max(again["times"]), replay_again_times=again["times"],
        )  # fmt: skip
    return out


def table(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        raw = r["raw_read_s"]
        lines += [
            f"\n{r['backend']}: {r['events']:,} events ({r['enterprises']:,} enterprises), built in "
            f"{r['build_s']:.0f} s, {r['snapshots']} replay snapshots (every {r['snapshot_every']:,}) in "
            f"{r['snapshots_s']:.1f} s; "
            f"load average {' '.join(f'{x:.2f}' for x in r['loadavg'])}",
            f"  {'raw read of the events table':<44}{raw:>9.2f} s   1.00×  "
            f"({r['raw_read_mib']:.0f} MiB)",
        ]
        for name, key in (
            ("rebuild of the views", "rebuild"),
            ("  the same with the other checkout's code", "compare_rebuild"),
            ("audit verify (full)", "verify"),
            (f"  the same, then {Path(r.get('verify_compare_with', '')).name}", "verify_compare"),
            ("  the same, then this code again", "verify_again"),
            ("  the log alone (no replay snapshot check)", "verify_log"),
        ):
            if f"{key}_s" not in r:
                continue  # --replay-only, or nothing compared
            s = r[f"{key}_s"]
            lines.append(
                f"  {name:<44}{s:>9.2f} s {s / raw:>6.1f}×  peak {r[f'{key}_peak_mib']:.0f} MiB"
            )
        lines += (
            []
            if "replay_p50_s" not in r
            else [  # --web-only
                f"  {'as-of replay, snapshots: p50 / max':<44}{r['replay_p50_s']:>9.2f} s "
                f"{r['replay_p50_s'] / raw:>6.2f}×  max {r['replay_max_s']:.2f} s, "
                f"peak {r['replay_peak_mib']:.0f} MiB",
                f"  {'as-of replay, full log: p50 / max (' + str(len(r['replay_full_times'])) + ')':<44}{r['replay_full_p50_s']:>9.2f} s "
                f"{r['replay_full_p50_s'] / raw:>6.2f}×  max {r['replay_full_max_s']:.2f} s, "
                f"peak {r['replay_full_peak_mib']:.0f} MiB",
            ]
        )
        if "compare_with" in r:
            lines += [
                f"  {'  the same, then ' + Path(r['compare_with']).name + ': p50 / max':<44}"
                f"{r['compare_p50_s']:>9.2f} s {r['compare_p50_s'] / raw:>6.2f}×  "
                f"max {r['compare_max_s']:.2f} s, peak {r['compare_peak_mib']:.0f} MiB",
                f"  {'  the same, then this code again: p50 / max':<44}"
                f"{r['replay_again_p50_s']:>9.2f} s {r['replay_again_p50_s'] / raw:>6.2f}×  "
                f"max {r['replay_again_max_s']:.2f} s",
            ]
        if "proof_p50_ms" not in r:
            continue  # --replay-only
        lines.append(
            f"  {'inclusion proof (in process): p50 / p99':<44}{r['proof_p50_ms']:>9.2f} ms"
            f"          p99 {r['proof_p99_ms']:.2f} ms"
        )
        for name, h in r["http"].items():
            lines.append(
                f"  {name + ' (cold, ' + str(r['clients']) + ' clients)':<44}{h['p50_ms']:>9.1f} ms          "
                f"p99 {h['p99_ms']:.1f} ms, {h['rps']:.0f} req/s, {h['requests']} req, "
                f"{h['errors']} errors, server CPU {h['server_cpu_ms']:.2f} ms/req"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sizes", help="comma-separated sizes (instead of --events)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("LEDGER_TEST_DATABASE_URL", DEFAULT_PG),
                        help="a server and database to create the bench databases from")  # fmt: skip
    parser.add_argument("--proofs", type=int, default=1_000)
    parser.add_argument("--replays", type=int, default=20, help="random instants replayed")
    parser.add_argument(
        "--full-replays",
        type=int,
        default=3,
        help="of those, replayed from the start of the log too (slow): the latest, and the rest "
        "spread evenly",
    )
    parser.add_argument(
        "--snapshot-every",
        type=int,
        help="LEDGER_REPLAY_SNAPSHOT_EVERY (default 50,000, or N/20 below 1M)",
    )
    parser.add_argument("--replay-only", action="store_true",
                        help="after the build and the raw read, only the replays")  # fmt: skip
    parser.add_argument("--web-only", action="store_true",
                        help="after the build and the raw read, only the proofs and the HTTP reads")  # fmt: skip
    parser.add_argument("--rebuild-only", action="store_true",
                        help="after the build and the raw read, only the rebuild of the views "
                        "(with --compare-with, the other checkout's rebuild first)")  # fmt: skip
    parser.add_argument("--verify-only", action="store_true",
                        help="after the build and the raw read, only audit verify")  # fmt: skip
    parser.add_argument("--compare-with", metavar="CHECKOUT",
                        help="also verify, replay the same instants, and serve the same HTTP "
                        "requests, "
                        "with this checkout's code (its .venv and scripts/bench_scale.py), on the "
                        "same store")  # fmt: skip
    parser.add_argument("--requests", type=int, default=1_000, help="HTTP requests per endpoint")
    parser.add_argument("--http-rounds", type=int, default=1,
                        help="serve the HTTP reads this many times (with --compare-with, the two "
                        "checkouts in turn each time: on a shared machine one pair is noise)")  # fmt: skip
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--threads", type=int, default=16, help="server threads")
    parser.add_argument("--workers", type=lambda v: [int(w) for w in v.split(",")], default=[0],
                        help="server processes, comma-separated to measure each in turn "
                        "(default: as `ledger serve`)")  # fmt: skip
    parser.add_argument("--reads-at-once", type=lambda v: [int(r) for r in v.split(",")], default=[None],
                        help="LEDGER_READS_AT_ONCE of the server, comma-separated to measure each "
                        "in turn (0: unlimited; default: the server's)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--instants", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.database_url, args)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [args.events]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    key = work / "signing-key.pem"
    from audit.keys import generate_key

    generate_key(key)
    os.environ["LEDGER_SIGNING_KEY"] = str(key)
    results = []
    try:
        for backend in backends:
            for size in sizes:
                every = args.snapshot_every or min(50_000, max(1_000, size // 20))
                os.environ["LEDGER_REPLAY_SNAPSHOT_EVERY"] = str(every)
                results.append(measure(backend, size, args, work))
                print(table(results[-1:]), flush=True)
    finally:
        for path in work.glob("*"):
            with contextlib.suppress(OSError):
                path.unlink()
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
