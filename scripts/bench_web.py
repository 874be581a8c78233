#!/usr/bin/env python3
"""Benchmark the oversight web under a real WSGI server with concurrent clients.

Loads the demo year into a SQLite store (or the store --database-url names), adds synthetic
awards, payments and approvals until the log holds at least --events events, brings the views
up to date, starts `ledger serve` (waitress) in a subprocess, and then, for each of the
dashboard, an enterprise page and the balances API, runs --clients concurrent clients over
keep-alive connections for --seconds seconds. Prints p50/p99 latency and requests per second.

    .venv/bin/python scripts/bench_web.py --events 0          # demo scale
    .venv/bin/python scripts/bench_web.py --events 200000     # ≥ 200,000 events

The store is kept under var/ and reused by later runs (loading is idempotent).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OFFICER, APPROVER, VIEWER = "bench.officer", "bench.approver", "overseer"
BENCH_ENTERPRISES = 2_000
PASSWORD = "demo"


def load(url: str, events: int) -> tuple[str, str]:
    """Fill the store to at least `events` events; return (a busy enterprise, a viewer token)."""
    from werkzeug.security import generate_password_hash

    from ledger.demo import load_demo
    from ledger.identifiers import make_org_code, make_uscc
    from ledger.storage import open_ledger
    from projections.runner import catch_up

    app = open_ledger(url)
    started = time.perf_counter()
    load_demo(app)
    for name, roles in ((OFFICER, ["officer"]), (APPROVER, ["approver"])):
        if app.get_user(name) is None:
            app.register_user(name, roles, actor="admin")
    if app.get_user(VIEWER).password_hash is None:
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
    token = app.issue_token(VIEWER, actor="admin")
    print(f"store ready: {app.log_position():,} events ({applied:,} projected now) in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
    busy = usccs[0] if app.log_position() > 30_000 else _busiest(app)
    app.close()
    return busy, token


def _busiest(app: Any) -> str:
    from projections.recorder import open_views

    rows = open_views(app).query(
        "SELECT uscc FROM {q}pv_enterprise_balances ORDER BY awards DESC, uscc LIMIT 1"
    )
    return rows[0]["uscc"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, threads: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_SECRET_KEY": "bench"}
    ledger = str(ROOT / ".venv" / "bin" / "ledger")
    server = subprocess.Popen(
        [ledger, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)],
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


def run(port: int, path: str, headers: dict[str, str], clients: int, seconds: float) -> dict[str, Any]:
    """`clients` threads request `path` over keep-alive connections for `seconds` seconds."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while time.perf_counter() < stop_at:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="at least this many events (0: demo only)")
    parser.add_argument("--database-url", help="default: sqlite under var/, one file per scale")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint")
    parser.add_argument("--threads", type=int, default=16, help="server worker threads")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{ROOT}/var/bench-web-{args.events}.sqlite3"
    uscc, token = load(url, args.events)
    port = free_port()
    server = start_server(url, port, args.threads)
    try:
        cookie = session_cookie(port)
        targets = [
            ("dashboard", "/", {"Cookie": cookie}),
            ("enterprise page", f"/enterprises/{uscc}", {"Cookie": cookie}),
            ("balances API", f"/api/v1/enterprises/{uscc}", {"Authorization": f"Bearer {token}"}),
        ]
        for _, path, headers in targets:  # warm up
            run(port, path, headers, 2, 1.0)
        print(f"\n{args.clients} clients, {args.seconds:g} s each, waitress with {args.threads} threads, {url}")
        print(f"{'endpoint':<18}{'requests':>10}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
        for name, path, headers in targets:
            r = run(port, path, headers, args.clients, args.seconds)
            print(f"{name:<18}{r['requests']:>10}{r['errors']:>8}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}{r['rps']:>10.1f}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
