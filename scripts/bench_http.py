#!/usr/bin/env python3
"""Commands over HTTP: N clients against a real `ledger serve`, beside raw single-row commits.

For each store, a fresh ledger gets the policy's measures, four budgets, --enterprises
enterprises and two users (an officer and an approver, each with a token). Then `ledger serve`
starts in a subprocess (gunicorn by default; --workers/--threads/--server as `ledger serve`
takes them) and --clients clients, each a process of its own over its own keep-alive
connection (so that the clients do not queue for one interpreter's lock), post single
commands as fast as they are answered: per round a `grant_award`, its `record_disbursement`
(officer) and its `approve_disbursement` (approver), --rounds rounds per client. Every answer
must be 200 `recorded`. Printed: accepted commands/s, p50/p99 latency.

After the commands, the same server answers as many GETs of a static file and of
`/api/v1/status` (a token checked, a JSON answer) through the same clients and connections: the
floors, the most requests a second this server, these clients and this machine allow before a
command is checked or stored (`--no-floors` leaves them out).

In the same run, the same number of client processes commit the same number of single rows of the
same size, each in its own transaction, straight through the driver (psycopg on PostgreSQL,
sqlite3 in WAL mode on SQLite) into a bare table: the physical baseline. The ratio is what to
compare; the machine is shared, so absolute figures move from run to run.

    .venv/bin/python scripts/bench_http.py --clients 16
    LEDGER_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python scripts/bench_http.py --clients 16 --backend postgresql

`--code DIR` also serves another checkout's code (e.g. `git worktree add /tmp/base main`) with
its own `.venv/bin/ledger` if it has one (its own entry points), else this script's environment, before this checkout's, each on a fresh ledger, for the before/after
ratio from one run:

    LEDGER_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python scripts/bench_http.py --clients 16 --rounds 40 --backend postgresql --code /tmp/base
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
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
        (
            {
                "type": "appropriate_budget",
                "reference": f"B-{code}",
                "measure": code,
                "fiscal_year": 2025,
                "amount_fen": 10**12,
                "decision_ref": "松财预〔2025〕1号",
            },
            "olga",
        )
        for code, _item in ITEMS
    ]
    setup += [
        (
            {
                "type": "register_enterprise",
                "uscc": uscc,
                "name": f"上海基准测试企业{n:06d}有限公司",
                "town_code": towns[n % len(towns)],
                "industry": "智能制造",
            },
            "olga",
        )
        for n, uscc in enumerate(usccs)
    ]
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


def start_server(
    url: str, port: int, serve_args: list[str], code: str | None, log: Path
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update({"LEDGER_DATABASE_URL": url, "LEDGER_SECRET_KEY": "bench"})
    if code:
        env["PYTHONPATH"] = str(Path(code).resolve())
    ledger = str(Path(sys.executable).parent / "ledger")
    if code and (Path(code) / ".venv" / "bin" / "ledger").is_file():
        ledger = str(Path(code) / ".venv" / "bin" / "ledger")  # its own entry points
    server = subprocess.Popen([ledger, "serve", "--host", "127.0.0.1", "--port", str(port), *serve_args],
                              env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"ledger serve ended:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return settled(server)
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("ledger serve did not start within 60 s")


def settled(
    server: subprocess.Popen[bytes], quiet_s: float = 0.5, limit_s: float = 60.0
) -> subprocess.Popen[bytes]:
    """The server once its worker processes have started (the port opens before they load the
    application): its processes' CPU time has stopped growing for `quiet_s`. Otherwise the
    first clients' connections would all land on the first worker ready, and the others'
    start-up would be counted as the commands' CPU."""
    deadline = time.monotonic() + limit_s
    before = cpu_seconds(server.pid)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = cpu_seconds(server.pid)
        if now - before < 0.02 * quiet_s:
            break
        before = now
    return server


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


def run_clients(count: int, client: Any, args: tuple[Any, ...]) -> tuple[float, list[float], float]:
    """`client(index, *args, ready)` in `count` processes at once (forked: none steals the GIL
    from another, as separate officers' machines would not); each connects, waits at the
    barrier, then returns (start, end, latencies, failures). (elapsed s, latencies, client CPU s)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    ready = context.Barrier(count)
    answers = context.Queue()

    def body(index: int) -> None:
        try:
            answers.put((index, client(index, *args, ready)))
        except BaseException as exc:  # reported below, never a hung bench
            answers.put((index, (0.0, 0.0, [], [f"client {index} failed: {exc!r}"], 0.0)))

    processes = [context.Process(target=body, args=(i,), daemon=True) for i in range(count)]
    for process in processes:
        process.start()
    found = [answers.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(30)
    starts = [a[1][0] for a in found if a[1][2]]
    ends = [a[1][1] for a in found if a[1][2]]
    failures = [f for a in found for f in a[1][3]]
    if failures:
        sys.exit(f"{len(failures)} commands not recorded, e.g. {failures[0]}")
    cpu_s = sum(a[1][4] for a in found)
    return max(ends) - min(starts), [x for a in found for x in a[1][2]], cpu_s


class KeepAlive:
    """An HTTP/1.1 client over one keep-alive socket, with the requests prepared beforehand:
    a few microseconds per request, where http.client takes a few hundred (the clients share
    the server's cores, so what they spend is the server's loss). Answers must carry a
    Content-Length (Flask's do)."""

    def __init__(self, port: int) -> None:
        self.host = f"127.0.0.1:{port}"
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = b""

    def prepare(
        self, method: str, path: str, token: str, body: bytes = b"", cookie: str = ""
    ) -> bytes:
        """A request signed in by the bearer ``token`` or, if it is empty, by the session
        ``cookie`` (a ``name=value`` pair)."""
        signed_in = f"Authorization: Bearer {token}" if token else f"Cookie: {cookie}"
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{signed_in}\r\n"
                + (f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else "")
                + "\r\n")  # fmt: skip
        return head.encode() + body

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send a prepared request; (status, body) of its answer."""
        self.sock.sendall(request)
        data = self.pending
        while (end := data.find(b"\r\n\r\n")) < 0:
            data += self._recv()
        head, rest = data[:end], data[end + 4 :]
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
        while len(rest) < length:
            rest += self._recv()
        self.pending = rest[length:]
        return int(head[9:12]), rest[:length]

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self.sock.close()


def http_client(
    index: int, port: int, tokens: dict[str, str], streams: list[Any], ready: Any
) -> tuple[Any, ...]:
    """One officer's machine: its commands one by one over one keep-alive connection."""
    failures: list[str] = []
    connection = KeepAlive(port)
    requests = [connection.prepare("POST", "/api/v1/commands", tokens[role],
                                   json.dumps(command, ensure_ascii=False).encode())
                for role, command in streams[index]]  # fmt: skip
    # one read first, not measured: the connection is served and the token known
    status, _answer = connection.exchange(
        connection.prepare("GET", "/api/v1/status", tokens["officer"])
    )
    if status != 200:
        failures.append(f"status {status}")
    ready.wait()
    return timed(connection, requests, _recorded, failures)


def floor_client(
    _index: int, port: int, path: str, token: str, count: int, ready: Any
) -> tuple[Any, ...]:
    """One client's `count` GETs of `path` over one keep-alive connection (the floors)."""
    connection = KeepAlive(port)
    request = connection.prepare("GET", path, token)
    failures: list[str] = []
    status, _answer = connection.exchange(request)  # one first, not measured, as the commands'
    if status != 200:
        failures.append(f"status {status}")
    ready.wait()
    return timed(connection, [request] * count, lambda status, _answer: status == 200, failures)


#: What the same server answers beside the commands, through the same clients and connections:
#: the least any request costs (a static file: the HTTP server and Flask's routing) and the least
#: an API request does (a token checked, a JSON answer, no command and no store read).
FLOORS = (("HTTP floor: a static file", "/static/style.css", None),
          ("API floor: /api/v1/status with a token", "/api/v1/status", "officer"))  # fmt: skip


def _recorded(status: int, answer: bytes) -> bool:
    return status == 200 and json.loads(answer)["results"][0]["status"] == "recorded"


def timed(
    connection: KeepAlive, requests: list[bytes], ok: Any, failures: list[str]
) -> tuple[Any, ...]:
    """Send the prepared requests one by one, each answer checked by ``ok(status, body)``, then
    close: (start, end, latencies, failures, client CPU s), as `run_clients` takes them."""
    latencies = []
    cpu_before, began = time.process_time(), time.perf_counter()
    for request in requests:
        sent = time.perf_counter()
        status, answer = connection.exchange(request)
        latencies.append(time.perf_counter() - sent)
        if not ok(status, answer):
            failures.append(f"{status} {answer[:300]!r}")
    ended = time.perf_counter()
    connection.close()
    return began, ended, latencies, failures, time.process_time() - cpu_before


def drive(
    port: int, tokens: dict[str, str], streams: list[list[tuple[str, dict[str, Any]]]]
) -> tuple[float, list[float], float]:
    """Every client posts its commands one by one; (elapsed s, latencies in s, client CPU s)."""
    return run_clients(len(streams), http_client, (port, tokens, streams))


def raw_commits(
    backend: str, url: str, tmp: str, clients: int, per_client: int, size: int
) -> tuple[float, list[float]]:
    """`clients` processes, each committing `per_client` single rows in their own transactions."""
    if backend == "postgresql":
        import psycopg

        from ledger.storage import store_from_url

        conninfo = store_from_url(url).postgres_conninfo()
        schema = f"bench_raw_{uuid.uuid4().hex[:8]}"
        target = f"{schema}.raw"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
            conn.execute(f"CREATE TABLE {target} (originator_id uuid, originator_version int, topic text, "
                         "state bytea, notification_id bigserial primary key, "
                         "UNIQUE (originator_id, originator_version))")  # fmt: skip
    else:
        conninfo, target = f"{tmp}/raw-{uuid.uuid4().hex[:8]}.sqlite3", "raw"
        with sqlite3.connect(conninfo) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE raw (originator_id TEXT, originator_version INTEGER, topic TEXT, "
                         "state BLOB, notification_id INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "UNIQUE (originator_id, originator_version))")  # fmt: skip
    try:
        elapsed_s, latencies, _cpu_s = run_clients(
            clients, raw_client, (backend, conninfo, target, per_client, size)
        )
    finally:
        if backend == "postgresql":
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return elapsed_s, latencies


def raw_client(_index: int, backend: str, conninfo: str, target: str, per_client: int, size: int,
               ready: Any) -> tuple[Any, ...]:  # fmt: skip
    """One writer straight through the driver: `per_client` single-row transactions."""
    state = b"x" * size
    topic = "ledger.domain.award:Award.DisbursementRecorded"
    insert = "INSERT INTO {t} (originator_id, originator_version, topic, state) VALUES ({p}, {p}, {p}, {p})"
    if backend == "postgresql":
        import psycopg

        conn: Any = psycopg.connect(conninfo, autocommit=True)
        statement, begin, commit = insert.format(t=target, p="%s"), None, None
    else:
        conn = sqlite3.connect(conninfo, isolation_level=None, timeout=30)
        statement, begin, commit = insert.format(t=target, p="?"), "BEGIN IMMEDIATE", "COMMIT"
    latencies: list[float] = []
    ready.wait()
    cpu_before, began = time.process_time(), time.perf_counter()
    for _ in range(per_client):
        sent = time.perf_counter()
        if begin:
            conn.execute(begin)
        conn.execute(statement, (str(uuid.uuid4()) if begin else uuid.uuid4(), 1, topic, state))
        if commit:
            conn.execute(commit)
        latencies.append(time.perf_counter() - sent)
    ended = time.perf_counter()
    conn.close()
    return began, ended, latencies, [], time.process_time() - cpu_before


def summary(label: str, count: int, elapsed_s: float, latencies: list[float]) -> float:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    rate = count / elapsed_s
    print(
        f"  {label:<34} {rate:8,.0f} /s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({count:,} in {elapsed_s:.1f} s)"
    )
    return rate


def serve_once(backend: str, pg_url: str | None, tmp: str, args: argparse.Namespace, serve_args: list[str],
               code: str | None, label: str) -> tuple[float, int, int]:  # fmt: skip
    """One fresh ledger served by one checkout's code and driven: (commands/s, count, mean event size)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp}/ledger-{uuid.uuid4().hex[:8]}.sqlite3"
    else:
        url = f"{pg_url}{'&' if '?' in (pg_url or '') else '?'}schema=bench_{uuid.uuid4().hex[:8]}"
    try:
        tokens, usccs, size = prepare(url, args.enterprises)
        streams = [commands_of(c, args.rounds, usccs) for c in range(args.clients)]
        port = free_port()
        server = start_server(
            url, port, serve_args, code, Path(tmp) / f"serve-{backend}-{port}.log"
        )
        count = sum(len(s) for s in streams)
        try:
            cpu_before = cpu_seconds(server.pid)
            elapsed_s, latencies, client_cpu_s = drive(port, tokens, streams)
            server_cpu_s = cpu_seconds(server.pid) - cpu_before
            floors = []
            for floor_label, path, role in FLOORS if args.floors else ():
                cpu_before = cpu_seconds(server.pid)
                floor_args = (port, path, tokens[role] if role else "", count // args.clients)
                floor_s, floor_latencies, _cpu = run_clients(args.clients, floor_client, floor_args)
                floor_cpu_s = cpu_seconds(server.pid) - cpu_before
                floors.append((floor_label, floor_s, floor_latencies, floor_cpu_s))
        finally:
            server.terminate()
            server.wait(30)
        rate = summary(label, count, elapsed_s, latencies)
        print(f"  {'':<34} server CPU {server_cpu_s / count * 1000:.2f} ms/command, "
              f"clients' CPU {client_cpu_s / count * 1000:.2f} ms/command")  # fmt: skip
        for floor_label, floor_s, floor_latencies, floor_cpu_s in floors:
            served = len(floor_latencies)
            floor_rate = summary(f"  {floor_label}", served, floor_s, floor_latencies)
            print(f"  {'':<34} server CPU {floor_cpu_s / served * 1000:.2f} ms/request; "
                  f"the commands {rate / floor_rate:.1%} of its rate")  # fmt: skip
        return rate, count, size
    finally:
        if backend == "postgresql":
            _drop_schema(url)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--clients", type=int, default=16, help="Concurrent clients (one process each)."
    )
    parser.add_argument(
        "--rounds", type=int, default=40, help="Rounds of three commands per client."
    )
    parser.add_argument(
        "--enterprises", type=int, default=500, help="Enterprises the awards go to."
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append",
                        help="Store(s) to measure (default: both, PostgreSQL if a URL is set).")  # fmt: skip
    parser.add_argument("--workers", type=int, default=None, help="`ledger serve --workers`.")
    parser.add_argument("--threads", type=int, default=None, help="`ledger serve --threads`.")
    parser.add_argument(
        "--serve-arg", action="append", default=[], help="Another `ledger serve` argument."
    )
    parser.add_argument(
        "--follow", action="store_true", help="Let the server follow the log (default --no-follow)."
    )
    parser.add_argument("--no-floors", dest="floors", action="store_false",
                        help="Do not also serve, after the commands, as many static-file and "
                             "API-status requests through the same server and clients (the floors).")  # fmt: skip
    parser.add_argument("--code", action="append", default=[], metavar="DIR",
                        help="Also serve this checkout's code (PYTHONPATH), beside this one's, for "
                             "before/after figures from one run (e.g. a `git worktree add /tmp/base main`).")  # fmt: skip
    args = parser.parse_args()
    pg_url = os.environ.get("LEDGER_BENCH_DATABASE_URL") or os.environ.get(
        "LEDGER_TEST_DATABASE_URL"
    )
    backends = args.backend or (["sqlite", "postgresql"] if pg_url else ["sqlite"])
    if "postgresql" in backends and not pg_url:
        sys.exit("PostgreSQL needs LEDGER_BENCH_DATABASE_URL or LEDGER_TEST_DATABASE_URL")
    for code in args.code:
        if not (Path(code) / "ledger" / "__init__.py").is_file():
            sys.exit(f"--code {code}: no ledger package there")
    serve_args = [*(["--workers", str(args.workers)] if args.workers else []),
                  *(["--threads", str(args.threads)] if args.threads else []),
                  *([] if args.follow else ["--no-follow"]), *args.serve_arg]  # fmt: skip
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    print(f"{args.clients} clients × {args.rounds * 3} commands; ledger serve {' '.join(serve_args)}; "
          f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          "(the machine may be shared: compare ratios)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        for backend in backends:
            print(f"{backend}:")
            rates = {}
            for code in args.code:  # the code before first, then this checkout's
                rates[code], _count, _size = serve_once(backend, pg_url, tmp, args, serve_args, code,
                                                        f"code of {code}")  # fmt: skip
            ours, count, size = serve_once(backend, pg_url, tmp, args, serve_args, None,
                                           "this checkout, commands over HTTP")  # fmt: skip
            raw_s, raw_latencies = raw_commits(
                backend, pg_url or "", tmp, args.clients, count // args.clients, size
            )
            raw = summary(f"raw single-row commits ({size} B)", count, raw_s, raw_latencies)
            print(f"  ratio: this checkout {ours / raw:.1%} of raw single-row commits"
                  + "".join(f"; {code} {rate / raw:.1%}, this checkout {ours / rate:.2f}× it"
                            for code, rate in rates.items()))  # fmt: skip
            print(f"  load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _drop_schema(url: str) -> None:
    import psycopg

    from ledger.storage import store_from_url

    store = store_from_url(url)
    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.postgres_schema}" CASCADE')


if __name__ == "__main__":
    main()
