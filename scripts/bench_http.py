#!/usr/bin/env python3
"""Commands over HTTP: N clients against a real `ledger serve`, beside raw single-row commits.

For each store, a fresh ledger gets the policy's measures, four budgets, --enterprises
enterprises and two users (an officer and an approver, each with a token). Then `ledger serve`
starts in a subprocess (gunicorn by default; --workers/--threads/--server as `ledger serve`
takes them) and --clients clients, each over its own keep-alive connection, post single
commands as fast as they are answered: per round a `grant_award`, its `record_disbursement`
(officer) and its `approve_disbursement` (approver), --rounds rounds per client. Every answer
must be 200 `recorded`. Printed: accepted commands/s, p50/p99 latency.

In the same run, the same number of clients commit the same number of single rows of the
same size, each in its own transaction, straight through the driver (psycopg on PostgreSQL,
sqlite3 in WAL mode on SQLite) into a bare table: the physical baseline. The ratio is what to
compare; the machine is shared, so absolute figures move from run to run.

    .venv/bin/python scripts/bench_http.py --clients 16
    LEDGER_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python scripts/bench_http.py --clients 16 --backend postgresql

`--code DIR` serves another checkout's code (e.g. a worktree of main) with this script's
environment, for before/after figures from one script.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ITEMS = (("M06", "join_national_standard"), ("M09", "measurement_management_system"),
         ("M10", "overseas_patent_filing"), ("M11", "patent_intensive_product"))  # fmt: skip


def prepare(url: str, enterprises: int) -> tuple[dict[str, str], list[str], int]:
    """A fresh ledger ready for the bench: (tokens by role, enterprises, mean event size)."""
    from ledger.identifiers import TOWNS, make_org_code, make_uscc
    from ledger.storage import open_ledger

    app = open_ledger(url)
    app.define_measures()
    app.register_user("admin", ["admin"], actor="")
    tokens = {"officer": app.register_user("olga", ["officer"], actor="admin"),
              "approver": app.register_user("ada", ["approver"], actor="admin")}  # fmt: skip
    towns = sorted(TOWNS)
    usccs = [make_uscc("91310117" + make_org_code(f"{n:08d}")) for n in range(enterprises)]
    setup: list[tuple[dict[str, Any], str]] = [
        ({"type": "appropriate_budget", "reference": f"B-{code}", "measure": code, "fiscal_year": 2025,
          "amount_fen": 10**12, "decision_ref": "松财预〔2025〕1号"}, "olga")
        for code, _item in ITEMS
    ]
    setup += [({"type": "register_enterprise", "uscc": uscc, "name": f"上海基准测试企业{n:06d}有限公司",
                "town_code": towns[n % len(towns)], "industry": "智能制造"}, "olga")
              for n, uscc in enumerate(usccs)]
    for start in range(0, len(setup), 500):
        results = app.execute_many(setup[start : start + 500])
        assert all(getattr(r, "status", None) == "recorded" for r in results), results[:3]
    page = app.recorder.select_notifications(start=None, limit=5_000)
    size = sum(len(n.state) for n in page) // max(1, len(page))
    app.close()
    return tokens, usccs, size


def commands_of(client: int, rounds: int, usccs: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(role, command) in the order one client sends them."""
    out: list[tuple[str, dict[str, Any]]] = []
    for r in range(rounds):
        n = client * rounds + r
        measure, item = ITEMS[n % len(ITEMS)]
        award, pay = f"AW-{client:03d}-{r:05d}", f"PAY-{client:03d}-{r:05d}"
        out.append(("officer", {"type": "grant_award", "reference": award, "uscc": usccs[n % len(usccs)],
                                "measure": measure, "item": item, "fiscal_year": 2025, "amount_fen": 100_000,
                                "decision_ref": f"松市监〔2025〕{n % 400}号", "granted_on": "2025-04-01"}))  # fmt: skip
        out.append(("officer", {"type": "record_disbursement", "reference": pay, "award_reference": award,
                                "amount_fen": 50_000, "voucher_no": f"V{n:08d}", "paid_on": "2025-05-01"}))  # fmt: skip
        out.append(("approver", {"type": "approve_disbursement", "reference": pay}))
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, serve_args: list[str], code: str | None, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update({"LEDGER_DATABASE_URL": url, "LEDGER_SECRET_KEY": "bench"})
    if code:
        env["PYTHONPATH"] = str(Path(code).resolve())
    ledger = str(Path(sys.executable).parent / "ledger")
    server = subprocess.Popen([ledger, "serve", "--host", "127.0.0.1", "--port", str(port), *serve_args],
                              env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"ledger serve ended:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("ledger serve did not start within 60 s")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children so far (Linux /proc; else 0)."""
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return total
    return total + sum(cpu_seconds(int(child)) for child in children)


def drive(port: int, tokens: dict[str, str], streams: list[list[tuple[str, dict[str, Any]]]]) -> tuple[float, list[float]]:
    """Every client posts its commands one by one; (elapsed s, latencies in s)."""
    latencies: list[list[float]] = [[] for _ in streams]
    failures: list[str] = []
    start = threading.Barrier(len(streams) + 1)

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.connect()
        start.wait()
        for role, command in streams[index]:
            body = json.dumps(command, ensure_ascii=False).encode()
            headers = {"Authorization": f"Bearer {tokens[role]}", "Content-Type": "application/json"}
            began = time.perf_counter()
            connection.request("POST", "/api/v1/commands", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            latencies[index].append(time.perf_counter() - began)
            if response.status != 200 or json.loads(answer)["results"][0]["status"] != "recorded":
                failures.append(f"{response.status} {answer[:300]!r}")
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(streams))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed_s = time.perf_counter() - began
    if failures:
        sys.exit(f"{len(failures)} commands not recorded, e.g. {failures[0]}")
    return elapsed_s, [x for each in latencies for x in each]


def raw_commits(backend: str, url: str, tmp: str, clients: int, per_client: int, size: int) -> tuple[float, list[float]]:
    """`clients` threads, each committing `per_client` single rows in their own transactions."""
    state = b"x" * size
    topic = "ledger.domain.award:Award.DisbursementRecorded"
    insert = "INSERT INTO {t} (originator_id, originator_version, topic, state) VALUES ({p}, {p}, {p}, {p})"
    latencies: list[list[float]] = [[] for _ in range(clients)]
    if backend == "postgresql":
        import psycopg

        from ledger.storage import store_from_url

        conninfo = store_from_url(url).postgres_conninfo()
        schema = f"bench_raw_{uuid.uuid4().hex[:8]}"
        table = f"{schema}.raw"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
            conn.execute(f"CREATE TABLE {table} (originator_id uuid, originator_version int, topic text, "
                         "state bytea, notification_id bigserial primary key, "
                         "UNIQUE (originator_id, originator_version))")  # fmt: skip

        def connect() -> Any:
            return psycopg.connect(conninfo, autocommit=True)

        statement, begin, commit = insert.format(t=table, p="%s"), None, None
    else:
        path = f"{tmp}/raw-{uuid.uuid4().hex[:8]}.sqlite3"
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE raw (originator_id TEXT, originator_version INTEGER, topic TEXT, "
                         "state BLOB, notification_id INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "UNIQUE (originator_id, originator_version))")  # fmt: skip

        def connect() -> Any:
            return sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)

        statement, begin, commit = insert.format(t="raw", p="?"), "BEGIN IMMEDIATE", "COMMIT"
    start = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        conn = connect()
        start.wait()
        for _ in range(per_client):
            began = time.perf_counter()
            if begin:
                conn.execute(begin)
            conn.execute(statement, (str(uuid.uuid4()) if begin else uuid.uuid4(), 1, topic, state))
            if commit:
                conn.execute(commit)
            latencies[index].append(time.perf_counter() - began)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed_s = time.perf_counter() - began
    if backend == "postgresql":
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return elapsed_s, [x for each in latencies for x in each]


def summary(label: str, count: int, elapsed_s: float, latencies: list[float]) -> float:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    rate = count / elapsed_s
    print(f"  {label:<34} {rate:8,.0f} /s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({count:,} in {elapsed_s:.1f} s)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16, help="Concurrent clients.")
    parser.add_argument("--rounds", type=int, default=40, help="Rounds of three commands per client.")
    parser.add_argument("--enterprises", type=int, default=500, help="Enterprises the awards go to.")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append",
                        help="Store(s) to measure (default: both, PostgreSQL if a URL is set).")  # fmt: skip
    parser.add_argument("--workers", type=int, default=None, help="`ledger serve --workers`.")
    parser.add_argument("--threads", type=int, default=None, help="`ledger serve --threads`.")
    parser.add_argument("--serve-arg", action="append", default=[], help="Another `ledger serve` argument.")
    parser.add_argument("--follow", action="store_true", help="Let the server follow the log (default --no-follow).")
    parser.add_argument("--code", default=None, help="Serve the code of this checkout (PYTHONPATH).")
    args = parser.parse_args()
    pg_url = os.environ.get("LEDGER_BENCH_DATABASE_URL") or os.environ.get("LEDGER_TEST_DATABASE_URL")
    backends = args.backend or (["sqlite", "postgresql"] if pg_url else ["sqlite"])
    serve_args = [*(["--workers", str(args.workers)] if args.workers else []),
                  *(["--threads", str(args.threads)] if args.threads else []),
                  *([] if args.follow else ["--no-follow"]), *args.serve_arg]  # fmt: skip
    print(f"{args.clients} clients × {args.rounds * 3} commands; ledger serve {' '.join(serve_args)}"
          + (f" (code from {args.code})" if args.code else "") + "; the machine is shared: compare ratios")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/ledger.sqlite3"
            else:
                if not pg_url:
                    sys.exit("PostgreSQL needs LEDGER_BENCH_DATABASE_URL or LEDGER_TEST_DATABASE_URL")
                url = f"{pg_url}{'&' if '?' in pg_url else '?'}schema=bench_{uuid.uuid4().hex[:8]}"
            tokens, usccs, size = prepare(url, args.enterprises)
            streams = [commands_of(c, args.rounds, usccs) for c in range(args.clients)]
            port = free_port()
            server = start_server(url, port, serve_args, args.code, Path(tmp) / f"serve-{backend}.log")
            try:
                cpu_before = cpu_seconds(server.pid)
                elapsed_s, latencies = drive(port, tokens, streams)
                server_cpu_s = cpu_seconds(server.pid) - cpu_before
            finally:
                server.terminate()
                server.wait(30)
            count = sum(len(s) for s in streams)
            print(f"{backend}:")
            ours = summary("ledger serve, commands over HTTP", count, elapsed_s, latencies)
            print(f"  server CPU per command: {server_cpu_s / count * 1000:.2f} ms "
                  f"(the figure least moved by other work on the machine)")  # fmt: skip
            raw_s, raw_latencies = raw_commits(backend, url, tmp, args.clients, count // args.clients, size)
            raw = summary(f"raw single-row commits ({size} B)", count, raw_s, raw_latencies)
            print(f"  ratio: {ours / raw:.1%} of raw single-row commits")
            if backend == "postgresql":
                _drop_schema(url)


def _drop_schema(url: str) -> None:
    import psycopg

    from ledger.storage import store_from_url

    store = store_from_url(url)
    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.postgres_schema}" CASCADE')


if __name__ == "__main__":
    main()
