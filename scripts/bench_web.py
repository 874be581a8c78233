#!/usr/bin/env python3
"""Benchmark the oversight web under a real WSGI server with concurrent clients.

Loads the demo year into a SQLite store (or the store --database-url names), adds synthetic
awards, payments and approvals until the log holds at least --events events, brings the views
up to date, starts `ledger serve` in a subprocess (the server and worker processes it uses by
default: gunicorn where processes can fork, else waitress; or --server/--workers), and then runs --clients
concurrent clients over keep-alive connections for --seconds seconds against the dashboard
(a fiscal year at random per request), an enterprise page and the balances API (an enterprise
at random per request, out of every enterprise the views know). Prints p50/p99 latency and
requests per second.

The web keeps rendered bodies per views position (web/cache.py), and no write happens during
the bench, so each endpoint is measured three ways:

- cold: a server started with LEDGER_CACHE_ENTRIES=0, so every request reads and renders;
- mixed: a freshly started server with its cache on: the first request for each enterprise
  renders it, later ones for the same enterprise are served from the cache;
- warm: the same server after every enterprise (and year) was asked for once.

    .venv/bin/python scripts/bench_web.py --events 0          # demo scale
    .venv/bin/python scripts/bench_web.py --events 200000     # ≥ 200,000 events

The store is kept under var/ and reused by later runs (loading is idempotent).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OFFICER, APPROVER, VIEWER = "bench.officer", "bench.approver", "overseer"
BENCH_ENTERPRISES = 2_000
PASSWORD = "songjiang-demo"


def load(url: str, events: int) -> tuple[list[str], list[int], str]:
    """Fill the store to at least `events` events; return (every enterprise, every year, a token)."""
    from werkzeug.security import generate_password_hash

    from ledger.demo import load_demo
    from ledger.identifiers import make_org_code, make_uscc
    from ledger.storage import open_ledger
    from projections.recorder import open_views
    from projections.runner import catch_up

    app = open_ledger(url)
    started = time.perf_counter()
    load_demo(app)
    for name, roles in ((OFFICER, ["officer"]), (APPROVER, ["approver"])):
        if app.get_user(name) is None:
            app.register_user(name, roles, actor="admin")
    if not app.get_user(VIEWER).password_set:
        app.set_password_hash(VIEWER, generate_password_hash(PASSWORD), actor="admin")

    usccs = [make_uscc("91310117" + make_org_code(f"{70_000_000 + n:08d}")) for n in range(BENCH_ENTERPRISES)]
    year = 2026
    while app.log_position() < events and year <= 2100:
        batch: list[tuple[dict[str, Any], str]] = [
            ({"type": "appropriate_budget", "reference": f"BENCH-B-{year}", "measure": "M10",
              "fiscal_year": year, "amount_fen": 10**12, "decision_ref": f"松财〔{year}〕1号"}, OFFICER),
        ]  # fmt: skip
        for n, uscc in enumerate(usccs):
            batch.append(({"type": "register_enterprise", "uscc": uscc, "name": f"松江基准测试企业{n:04d}有限公司",
                           "town_code": "310117001", "industry": "智能制造"}, OFFICER))  # fmt: skip
            ref = f"BENCH-A-{year}-{n}"
            batch.append(({"type": "grant_award", "reference": ref, "uscc": uscc, "measure": "M10",
                           "item": "high_value_patent_cultivation", "fiscal_year": year,
                           "amount_fen": 5_000_000, "decision_ref": f"松市监〔{year}〕9号",
                           "granted_on": f"{year}-03-01"}, OFFICER))  # fmt: skip
            batch.append(({"type": "record_disbursement", "reference": f"BENCH-D-{year}-{n}",
                           "award_reference": ref, "amount_fen": 5_000_000,
                           "voucher_no": f"V-{year}-{n}", "paid_on": f"{year}-04-01"}, OFFICER))  # fmt: skip
            batch.append(({"type": "approve_disbursement", "reference": f"BENCH-D-{year}-{n}"}, APPROVER))
        for start in range(0, len(batch), 1000):
            results = app.execute_many(batch[start : start + 1000])
            bad = [r for r in results if isinstance(r, Exception)]
            assert not bad, bad[:3]
        print(f"  log position {app.log_position():,} (fiscal year {year})", file=sys.stderr)
        year += 1
    applied = catch_up(app)
    open_views(app).create_indexes()  # a store kept from before an index was added gets it too
    token = app.issue_token(VIEWER, actor="admin")
    print(f"store ready: {app.log_position():,} events ({applied:,} projected now) in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
    views = open_views(app)
    every = [r["uscc"] for r in views.query("SELECT uscc FROM {q}pv_enterprises ORDER BY uscc")]
    years = [int(r["fiscal_year"]) for r in views.query(
        "SELECT DISTINCT fiscal_year FROM {q}pv_measure_balances ORDER BY fiscal_year")]  # fmt: skip
    app.close()
    return every, years, token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, threads: int, cache: bool, server_args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_SECRET_KEY": "bench",
           "LEDGER_CACHE_ENTRIES": os.environ.get("LEDGER_CACHE_ENTRIES", "5000") if cache else "0"}
    ledger = str(ROOT / ".venv" / "bin" / "ledger")
    server = subprocess.Popen(
        [ledger, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads), *server_args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def session_cookie(port: int) -> str:
    """Sign in as the viewer through the form (CSRF token and all); return the Cookie header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/signin")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    body = urlencode({"name": VIEWER, "password": PASSWORD, "csrf_token": csrf})
    conn.request("POST", "/signin", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})  # fmt: skip
    response = conn.getresponse()
    response.read()
    assert response.status == 302, response.status
    return response.getheader("Set-Cookie", "").split(";")[0]


def drive(port: int, next_path: Callable[[], str | None], headers: dict[str, str], clients: int,
          timeout_s: float = 30.0) -> dict[str, Any]:  # fmt: skip
    """`clients` threads request `next_path()` over keep-alive connections until it gives None:
    requests, errors (non-200), p50/p99 latency and requests/s."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
        mine: list[float] = []
        while (path := next_path()) is not None:
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - t0)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "rps": len(latencies) / elapsed,
    }


def each_once(paths: list[str]) -> Callable[[], str | None]:
    """A `next_path` for `drive` that hands out each path once, then None (thread-safe)."""
    todo = list(paths)
    lock = threading.Lock()

    def next_path() -> str | None:
        with lock:
            return todo.pop() if todo else None

    return next_path


def run(port: int, path: Callable[[], str], headers: dict[str, str], clients: int,
        seconds: float) -> dict[str, Any]:  # fmt: skip
    """`clients` threads request `path()` over keep-alive connections for `seconds` seconds."""
    stop_at = time.perf_counter() + seconds
    return drive(port, lambda: path() if time.perf_counter() < stop_at else None, headers, clients)


def prefill(port: int, paths: list[str], headers: dict[str, str], clients: int) -> None:
    """Ask for each path once (so that every body is kept), `clients` at a time."""
    drive(port, each_once(paths), headers, clients, timeout_s=60.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="at least this many events (0: demo only)")
    parser.add_argument("--database-url", help="default: sqlite under var/, one file per scale")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint and mode")
    parser.add_argument("--threads", type=int, default=16, help="server threads in all")
    parser.add_argument("--server", choices=["gunicorn", "waitress"], help="default: as `ledger serve`")
    parser.add_argument("--workers", type=int, help="server processes (gunicorn); default: as `ledger serve`")
    parser.add_argument("--modes", default="cold,mixed,warm", help="which of cold, mixed, warm to run")
    parser.add_argument("--endpoints", default="dashboard,enterprise page,balances API",
                        help="which of them to run (comma-separated)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    url = args.database_url or f"sqlite:///{ROOT}/var/bench-web-{args.events}.sqlite3"
    usccs, years, token = load(url, args.events)
    rng = random.Random(args.seed)
    pick_lock = threading.Lock()

    def at_random(paths: list[str]) -> Callable[[], str]:
        def path() -> str:
            with pick_lock:
                return rng.choice(paths)

        return path

    pages = [f"/enterprises/{u}" for u in usccs]
    apis = [f"/api/v1/enterprises/{u}" for u in usccs]
    dashboards = ["/", *(f"/?year={y}" for y in years)]
    from web.cli import default_server, default_workers

    server_name = args.server or default_server()
    workers = (args.workers or default_workers()) if server_name == "gunicorn" else 1
    server_args = ["--server", server_name, "--workers", str(workers)]
    print(f"\n{args.clients} clients, {args.seconds:g} s each, `ledger serve` with {server_name}: "
          f"{workers} process(es), {args.threads} threads in all, {url}")  # fmt: skip
    print(f"each request asks for one of {len(usccs):,} enterprises (or {len(dashboards)} dashboard years) "
          f"at random; no writes during the run")  # fmt: skip
    print(f"{'endpoint':<18}{'mode':<7}{'requests':>10}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
    for cache in (False, True):
        wanted = [m for m in modes if (m != "cold") == cache]
        if not wanted:
            continue
        port = free_port()
        server = start_server(url, port, args.threads, cache, server_args)
        try:
            cookie = {"Cookie": session_cookie(port)}
            bearer = {"Authorization": f"Bearer {token}"}
            targets = [
                ("dashboard", dashboards, cookie),
                ("enterprise page", pages, cookie),
                ("balances API", apis, bearer),
            ]
            targets = [t for t in targets if t[0] in args.endpoints.split(",")]
            run(port, lambda: "/api/v1/status", bearer, 2, 1.0)  # warm up the process, not the cache
            for mode in wanted:
                for name, paths, headers in targets:
                    if mode == "warm":
                        prefill(port, paths, headers, args.clients)
                    r = run(port, at_random(paths), headers, args.clients, args.seconds)
                    print(f"{name:<18}{mode:<7}{r['requests']:>10}{r['errors']:>8}{r['p50_ms']:>10.1f}"
                          f"{r['p99_ms']:>10.1f}{r['rps']:>10.1f}", flush=True)  # fmt: skip
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
