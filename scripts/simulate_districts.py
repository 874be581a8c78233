#!/usr/bin/env python3
"""Sixteen district logs on one machine: aggregate throughput, a shared witness, a federated read.

Each of Shanghai's 16 districts gets a ledger store of its own (its own SQLite file, or its own
PostgreSQL database, uniquely named and dropped afterwards), its own log origin
(``ledger.<pinyin>.sh.gov.cn/qsip-2025``) and its own Ed25519 signing key. One process per
district (processes, not threads: the GIL) then records a district's year in miniature, all 16
at once: enterprises and awards arrive in sheet batches (``execute_many``, ``--batch-size``
commands per call, as an import does), budgets, payments and approvals one command at a time
(an officer at a desk), and, every ``--sign-every-s`` seconds, what ``ledger worker`` does: the
views catch up, a tree head (checkpoint) is signed if the log grew, and the newest checkpoint is
submitted to the witness (``audit.witness_client.submit_pending``, the worker's own code path).

One ``ledger witness serve`` process witnesses all 16 logs. After the run, a burst phase measures
what that witness sustains: 16 processes each submit ``--witness-burst`` fresh checkpoints of a
log of their own (an in-memory tree, as ``scripts/bench_witness.py`` does) as fast as they are
cosigned, beside the same witness's answer to an empty request (``GET /``) from the same 16
clients: the HTTP floor.

The raw baseline, from the same run: 16 processes, one per district, commit the same number of
transactions of the same number of rows of the same mean size into a bare table (sqlite3 in WAL
mode into a file of their own; psycopg into a table in the district's database), straight
through the driver, all 16 at once.

Then the overseer's federated read: the city total of every district's measure balances, read
through ``projections.queries`` from each district's own views and summed.

    .venv/bin/python scripts/simulate_districts.py --commands 2000
    LEDGER_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python scripts/simulate_districts.py --commands 2000 --backend postgresql

``--commands`` is per district. The machine is shared: compare the ratios and say the load
average (printed at the start and the end). The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LEDGER = str(Path(sys.executable).parent / "ledger")

#: Shanghai's 16 districts: name, pinyin (for the origin and file names), GB/T 2260 code.
DISTRICTS = (
    ("黄浦", "huangpu", "310101"), ("徐汇", "xuhui", "310104"), ("长宁", "changning", "310105"),
    ("静安", "jingan", "310106"), ("普陀", "putuo", "310107"), ("虹口", "hongkou", "310109"),
    ("杨浦", "yangpu", "310110"), ("闵行", "minhang", "310112"), ("宝山", "baoshan", "310113"),
    ("嘉定", "jiading", "310114"), ("浦东新区", "pudong", "310115"), ("金山", "jinshan", "310116"),
    ("松江", "songjiang", "310117"), ("青浦", "qingpu", "310118"), ("奉贤", "fengxian", "310120"),
    ("崇明", "chongming", "310151"),
)  # fmt: skip
ITEMS = (("M06", "join_national_standard"), ("M09", "measurement_management_system"),
         ("M10", "overseas_patent_filing"), ("M11", "patent_intensive_product"))  # fmt: skip
OFFICERS = ("olga", "oscar")
APPROVER = "ada"
WITNESS_NAME = "witness.audit.sh.gov.cn/w1"
RAW_TOPIC = "ledger.domain.award:Award.DisbursementRecorded"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def origin_of(pinyin: str) -> str:
    return f"ledger.{pinyin}.sh.gov.cn/qsip-2025"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def percentiles_ms(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p99_ms": None, "n": 0}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, max(0, int(len(ordered) * 0.99 + 0.5) - 1))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2),
            "n": len(ordered)}  # fmt: skip


# -- the workload -----------------------------------------------------------------------------


def district_calls(
    name: str, region: str, commands: int, batch_size: int
) -> list[list[tuple[dict, str]]]:
    """About `commands` commands of one district, as the calls that send them: a list of
    (command, actor) lists. Enterprises and awards in sheet batches; budgets, payments and
    approvals singly; each award batch followed by the payments and approvals of its awards."""
    from ledger.identifiers import TOWNS, make_org_code, make_uscc

    towns = sorted(TOWNS)  # the catalogue's towns (Songjiang's): see docs/scale.md
    short = name[0]
    n_enterprises = max(20, commands // 20)
    usccs = [make_uscc("91" + region + make_org_code(f"{n:08d}")) for n in range(n_enterprises)]
    registrations = [({"type": "register_enterprise", "uscc": u, "name": f"上海{name}模拟企业{n:06d}有限公司",
                       "town_code": towns[n % len(towns)], "industry": "智能制造"}, OFFICERS[n % 2])
                     for n, u in enumerate(usccs)]  # fmt: skip
    calls = [registrations[i : i + batch_size] for i in range(0, len(registrations), batch_size)]
    for code, _item in ITEMS:
        calls.append([({"type": "appropriate_budget", "reference": f"B-{code}", "measure": code,
                        "fiscal_year": 2025, "amount_fen": 10**12,
                        "decision_ref": f"{short}财预〔2025〕1号"}, "olga")])  # fmt: skip
    remaining = max(0, commands - len(registrations) - len(ITEMS))
    awards = max(1, remaining * 45 // 100)
    payments = min(awards, (remaining - awards) // 2)
    for start in range(0, awards, batch_size):
        batch = []
        for n in range(start, min(awards, start + batch_size)):
            measure, item = ITEMS[n % len(ITEMS)]
            batch.append(({"type": "grant_award", "reference": f"AW-{n:07d}", "uscc": usccs[n % n_enterprises],
                           "measure": measure, "item": item, "fiscal_year": 2025,
                           "amount_fen": 100_000 + n % 900, "decision_ref": f"{short}市监〔2025〕{n % 400}号",
                           "granted_on": "2025-04-01"}, OFFICERS[n % 2]))  # fmt: skip
        calls.append(batch)
        for n in range(start, min(payments, start + batch_size)):
            calls.append([({"type": "record_disbursement", "reference": f"PAY-{n:07d}",
                            "award_reference": f"AW-{n:07d}", "amount_fen": 50_000,
                            "voucher_no": f"V{region}{n:07d}", "paid_on": "2025-05-01"}, OFFICERS[n % 2])])  # fmt: skip
            calls.append(
                [({"type": "approve_disbursement", "reference": f"PAY-{n:07d}"}, APPROVER)]
            )
    return calls


# -- one district's process -------------------------------------------------------------------


def district_worker(spec: dict[str, Any], barrier: Any, results: Any) -> None:
    """Record one district's workload (after the barrier), signing and witnessing as it goes."""
    try:
        results.put(_district_run(spec, barrier))
    except BaseException as exc:  # the parent must hear of it, or it waits for ever
        barrier.abort()
        results.put({"district": spec["pinyin"], "error": repr(exc)})


def _district_run(spec: dict[str, Any], barrier: Any) -> dict[str, Any]:
    os.environ["LEDGER_LOG_ORIGIN"] = spec["origin"]
    os.environ["LEDGER_SIGNING_KEY"] = spec["key_path"]
    os.environ["LEDGER_WITNESS_TIMEOUT_S"] = "10"
    from audit.heads import sign_tree_head
    from audit.witness_client import add_witness, submit_pending
    from ledger.errors import LedgerError
    from ledger.storage import open_ledger
    from projections.runner import catch_up

    app = open_ledger(spec["url"])
    app.define_measures()
    app.register_user("admin", ["admin"], actor="")
    for user, roles in (("olga", ["officer"]), ("oscar", ["officer"]), (APPROVER, ["approver"])):
        app.register_user(user, roles, actor="admin")
    if spec["witness_url"]:
        add_witness(app, spec["witness_vkey"], spec["witness_url"])
    calls = district_calls(spec["name"], spec["region"], spec["commands"], spec["batch_size"])
    before = app.log_position()
    single_s, batch_s, tick_s, submit_s = [], [], [], []
    events_per_call: list[int] = []
    accepted = rejected = heads = cosigned = 0
    last_position = before
    barrier.wait()

    def tick() -> None:
        nonlocal heads, cosigned
        t0 = time.perf_counter()
        catch_up(app)
        head = sign_tree_head(app, only_if_grown=True)
        heads += head is not None
        if spec["witness_url"]:
            t1 = time.perf_counter()
            outcomes = submit_pending(app)
            if outcomes:
                submit_s.append(time.perf_counter() - t1)
            cosigned += sum(o.status == "cosigned" for o in outcomes)
        tick_s.append(time.perf_counter() - t0)

    started = time.perf_counter()
    next_tick = started + spec["sign_every_s"]
    for call in calls:
        t0 = time.perf_counter()
        outcomes = app.execute_many(call)
        (single_s if len(call) == 1 else batch_s).append(time.perf_counter() - t0)
        positions = [o.position for o in outcomes if not isinstance(o, LedgerError) and o.position]
        rejected += sum(isinstance(o, LedgerError) for o in outcomes)
        accepted += sum(not isinstance(o, LedgerError) for o in outcomes)
        if positions:
            events_per_call.append(max(positions) - last_position)
            last_position = max(positions)
        if time.perf_counter() >= next_tick:
            tick()
            next_tick = time.perf_counter() + spec["sign_every_s"]
    tick()  # the last head covers the whole run
    elapsed_s = time.perf_counter() - started
    after = app.log_position()
    state_sizes = [
        len(n.state) for n in app.recorder.select_notifications(start=before, limit=2000)
    ]
    app.close()
    return {
        "district": spec["pinyin"], "name": spec["name"], "origin": spec["origin"],
        "url": spec["url"], "calls": len(calls), "commands": sum(len(c) for c in calls),
        "accepted": accepted, "rejected": rejected, "events": after - before,
        "log_size_after": after, "elapsed_s": round(elapsed_s, 3),
        "commands_per_s": round(accepted / elapsed_s, 1), "events_per_s": round((after - before) / elapsed_s, 1),
        "heads_signed": heads, "cosignatures": cosigned,
        "single_call": percentiles_ms(single_s), "batch_call": percentiles_ms(batch_s),
        "worker_tick": percentiles_ms(tick_s), "witness_submit": percentiles_ms(submit_s),
        "worker_tick_share": round(sum(tick_s) / elapsed_s, 3),
        "submit_s": submit_s, "events_per_call": events_per_call,
        "mean_event_bytes": round(sum(state_sizes) / max(1, len(state_sizes))),
    }  # fmt: skip


# -- the raw baseline -------------------------------------------------------------------------


def raw_worker(spec: dict[str, Any], barrier: Any, results: Any) -> None:
    """Commit the same transactions of the same rows as the district did, straight through the driver."""
    try:
        results.put(_raw_run(spec, barrier))
    except BaseException as exc:
        barrier.abort()
        results.put({"district": spec["pinyin"], "error": repr(exc)})


def _raw_run(spec: dict[str, Any], barrier: Any) -> dict[str, Any]:
    state = b"x" * spec["mean_event_bytes"]
    batches = [
        [(str(uuid.uuid4()), 1, RAW_TOPIC, state) for _ in range(n)]
        for n in spec["events_per_call"]
    ]
    create = ("CREATE TABLE raw (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, "
              "notification_id INTEGER PRIMARY KEY AUTOINCREMENT, UNIQUE (originator_id, originator_version))")  # fmt: skip
    if spec["backend"] == "sqlite":
        conn = sqlite3.connect(spec["raw_path"], isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(create)
        insert = (
            "INSERT INTO raw (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)"
        )
        barrier.wait()
        started = time.perf_counter()
        for rows in batches:
            conn.execute("BEGIN")
            conn.executemany(insert, rows)
            conn.execute("COMMIT")
        elapsed_s = time.perf_counter() - started
        conn.close()
    else:
        import psycopg

        with psycopg.connect(spec["conninfo"], autocommit=True) as conn:
            conn.execute("CREATE SCHEMA raw_baseline")
            conn.execute("CREATE TABLE raw_baseline.raw (originator_id uuid, originator_version int, topic text, "
                         "state bytea, notification_id bigserial PRIMARY KEY, "
                         "UNIQUE (originator_id, originator_version))")  # fmt: skip
            insert = ("INSERT INTO raw_baseline.raw (originator_id, originator_version, topic, state) "
                      "VALUES (%s, %s, %s, %s)")  # fmt: skip
            barrier.wait()
            started = time.perf_counter()
            for rows in batches:
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(insert, rows)
            elapsed_s = time.perf_counter() - started
    rows_total = sum(spec["events_per_call"])
    return {"district": spec["pinyin"], "transactions": len(batches), "rows": rows_total,
            "elapsed_s": round(elapsed_s, 3), "rows_per_s": round(rows_total / elapsed_s, 1)}  # fmt: skip


# -- the witness ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_witness(
    directory: Path, log_vkeys: list[str], threads: int
) -> tuple[subprocess.Popen, str, str]:
    """A `ledger witness serve` process trusting every log key: (process, URL, its verifier key)."""
    from audit.witness.state import init_state

    state = init_state(WITNESS_NAME, directory)
    for vkey in log_vkeys:
        state.add_log(vkey)
    port = free_port()
    process = subprocess.Popen(
        [LEDGER, "witness", "serve", "--port", str(port), "--state", str(directory), "--threads", str(threads)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return process, f"http://127.0.0.1:{port}", state.signer.vkey()
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the witness did not start")


def burst_worker(spec: dict[str, Any], barrier: Any, results: Any) -> None:
    """Submit fresh checkpoints of a log of one's own to the witness as fast as they are cosigned."""
    try:
        results.put(_burst_run(spec, barrier))
    except BaseException as exc:
        barrier.abort()
        results.put({"district": spec["pinyin"], "error": repr(exc)})


def _burst_run(spec: dict[str, Any], barrier: Any) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization

    from audit.checkpoint import Checkpoint, sign_checkpoint
    from audit.merkle import MerkleTree
    from audit.note import Ed25519Signer

    key = serialization.load_pem_private_key(
        Path(spec["burst_key_path"]).read_bytes(), password=None
    )
    signer = Ed25519Signer(spec["burst_origin"], key)  # type: ignore[arg-type]
    base, step, count = spec["burst_base"], spec["burst_step"], spec["witness_burst"]
    total = base + step * count
    tree = MerkleTree.from_leaf_hashes(
        hashlib.sha256(b"\x00" + spec["pinyin"].encode() + i.to_bytes(8, "big")).digest()
        for i in range(total)
    )
    tree.root(total)

    def body(old: int, size: int) -> bytes:
        proof = tree.consistency_proof(old, size) if 0 < old < size else []
        note = sign_checkpoint(Checkpoint(spec["burst_origin"], size, tree.root(size)), [signer])
        return (
            f"old {old}\n".encode()
            + b"".join(base64.b64encode(h) + b"\n" for h in proof)
            + b"\n"
            + note.encode()
        )

    host, port = spec["witness_host"], spec["witness_port"]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("POST", "/add-checkpoint", body(0, base))
    answer = conn.getresponse()
    assert answer.status == 200, answer.read()
    answer.read()
    bodies = [body(base + (k - 1) * step, base + k * step) for k in range(1, count + 1)]
    round_trip, floor = [], []
    barrier.wait()
    started = time.perf_counter()
    for data in bodies:
        t0 = time.perf_counter()
        conn.request("POST", "/add-checkpoint", data)
        answer = conn.getresponse()
        text = answer.read()
        round_trip.append(time.perf_counter() - t0)
        assert answer.status == 200, text
    cosign_elapsed_s = time.perf_counter() - started
    barrier.wait()  # the HTTP floor, all 16 again at once
    started = time.perf_counter()
    for _ in bodies:
        t0 = time.perf_counter()
        conn.request("GET", "/")
        conn.getresponse().read()
        floor.append(time.perf_counter() - t0)
    floor_elapsed_s = time.perf_counter() - started
    conn.close()
    return {"district": spec["pinyin"], "round_trip_s": round_trip, "floor_s": floor,
            "cosign_elapsed_s": cosign_elapsed_s, "floor_elapsed_s": floor_elapsed_s}  # fmt: skip


# -- running the processes --------------------------------------------------------------------


def run_all(
    target: Any, specs: list[dict[str, Any]], releases: int = 1
) -> tuple[list[dict], float]:
    """Run `target(spec, barrier, results)` in one process per spec, released together (each
    process waits on the barrier `releases` times); returns the results (in spec order) and the
    wall time from the first release to the last result."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(specs) + 1)
    results = ctx.Queue()
    processes = [ctx.Process(target=target, args=(spec, barrier, results)) for spec in specs]
    for process in processes:
        process.start()
    started = time.perf_counter()
    for release in range(releases):
        try:
            barrier.wait(timeout=600)
        except Exception:
            break  # a worker failed: its error is in the results
        if release == 0:
            started = time.perf_counter()
    collected = [results.get(timeout=3600) for _ in specs]
    wall_s = time.perf_counter() - started
    for process in processes:
        process.join(60)
    errors = [r for r in collected if "error" in r]
    if errors:
        raise SystemExit(f"a district failed: {errors[0]}")
    order = {spec["pinyin"]: i for i, spec in enumerate(specs)}
    return sorted(collected, key=lambda r: order[r["district"]]), wall_s


# -- stores -----------------------------------------------------------------------------------


def postgres_base_url(args: argparse.Namespace) -> str:
    url = (
        args.database_url
        or os.environ.get("LEDGER_BENCH_DATABASE_URL")
        or os.environ.get("LEDGER_TEST_DATABASE_URL")
    )
    if not url:
        raise SystemExit(
            "PostgreSQL needs --database-url, LEDGER_BENCH_DATABASE_URL or LEDGER_TEST_DATABASE_URL"
        )
    return url


def with_database(url: str, dbname: str) -> str:
    """The server URL with another database, and small pools (16 processes share the server)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, "pool_size=1&max_overflow=2", ""))


def create_databases(base_url: str, names: list[str]) -> None:
    import psycopg

    from ledger.storage import store_from_url

    with psycopg.connect(store_from_url(base_url).postgres_conninfo(), autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_databases(base_url: str, names: list[str]) -> None:
    import psycopg

    from ledger.storage import store_from_url

    with psycopg.connect(store_from_url(base_url).postgres_conninfo(), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def store_bytes(spec: dict[str, Any]) -> int:
    """What a district's store takes on disk: events, leaves, heads, views and their indexes
    (the SQLite file after a WAL checkpoint; on PostgreSQL the ledger schema's relations)."""
    from ledger.storage import store_from_url

    store = store_from_url(spec["url"])
    if not store.is_postgres:
        conn = sqlite3.connect(store.sqlite_path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return Path(store.sqlite_path).stat().st_size
    import psycopg

    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            (store.postgres_schema,),
        ).fetchone()
    return int(row[0])


# -- the federated read -----------------------------------------------------------------------


def federated_read(stores: dict[str, str], repeats: int = 5) -> dict[str, Any]:
    """The city total of every district's measure balances, read from each district's views."""
    from ledger.storage import open_ledger
    from projections.queries.balances import measure_balances

    t0 = time.perf_counter()
    apps = [open_ledger(url, create=False) for url in stores.values()]
    open_s = time.perf_counter() - t0

    def city_total(rows_by_district: list[list[Any]]) -> dict[str, int]:
        total = {"appropriated_fen": 0, "committed_fen": 0, "paid_fen": 0, "awards": 0}
        for rows in rows_by_district:
            for row in rows:
                for field in total:
                    total[field] += getattr(row, field)
        return total

    first_t0 = time.perf_counter()
    first = [measure_balances(app) for app in apps]
    first_s = time.perf_counter() - first_t0
    sequential, parallel = [], []
    with ThreadPoolExecutor(len(apps)) as pool:
        for _ in range(repeats):
            t0 = time.perf_counter()
            rows = [measure_balances(app) for app in apps]
            sequential.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            rows_parallel = list(pool.map(measure_balances, apps))
            parallel.append(time.perf_counter() - t0)
            assert city_total(rows) == city_total(rows_parallel) == city_total(first)
    per_district = {
        district: city_total([rows]) for district, rows in zip(stores, first, strict=True)
    }
    for app in apps:
        app.close()
    return {"districts": len(apps), "open_all_s": round(open_s, 3), "first_read_s": round(first_s, 4),
            "sequential_median_s": round(statistics.median(sequential), 4),
            "parallel_median_s": round(statistics.median(parallel), 4),
            "city_total": city_total(first), "per_district": per_district}  # fmt: skip


# -- main -------------------------------------------------------------------------------------


def prepare_specs(args: argparse.Namespace, work: Path) -> tuple[list[dict[str, Any]], list[str]]:
    from audit.checkpoint_log import log_verifier
    from audit.keys import generate_key, load_public_key_hex, public_key_path

    run_id = uuid.uuid4().hex[:8]
    specs, databases = [], []
    for name, pinyin, region in DISTRICTS[: args.districts]:
        key_path = generate_key(work / "keys" / f"{pinyin}.pem")
        burst_key = generate_key(work / "keys" / f"burst-{pinyin}.pem")
        origin = origin_of(pinyin)
        spec = {
            "name": name, "pinyin": pinyin, "region": region, "origin": origin, "backend": args.backend,
            "key_path": str(key_path), "commands": args.commands, "batch_size": args.batch_size,
            "sign_every_s": args.sign_every_s, "witness_burst": args.witness_burst,
            "log_vkey": log_verifier(bytes.fromhex(load_public_key_hex(public_key_path(key_path))), origin).vkey(),
            "burst_origin": f"burst.{pinyin}.sh.gov.cn/witness-load", "burst_key_path": str(burst_key),
        }  # fmt: skip
        spec["burst_vkey"] = log_verifier(
            bytes.fromhex(load_public_key_hex(public_key_path(burst_key))), spec["burst_origin"]
        ).vkey()
        if args.backend == "sqlite":
            spec["url"] = f"sqlite:///{work}/{pinyin}.sqlite3"
            spec["raw_path"] = str(work / f"raw-{pinyin}.sqlite3")
        else:
            dbname = f"district_{pinyin}_{run_id}"
            databases.append(dbname)
            spec["url"] = with_database(postgres_base_url(args), dbname)
        specs.append(spec)
    return specs, databases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--districts", type=int, default=16, help="How many districts (at most 16)."
    )
    parser.add_argument("--commands", type=int, default=2000, help="Commands per district.")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="A PostgreSQL server URL (default LEDGER_BENCH_DATABASE_URL, "
                                               "else LEDGER_TEST_DATABASE_URL); databases are made on it.")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=100, help="Commands per sheet batch.")
    parser.add_argument("--sign-every-s", type=float, default=10.0,
                        help="Seconds between worker ticks: views, tree head, witness (the worker: 60).")  # fmt: skip
    parser.add_argument("--no-witness", action="store_true", help="Run without the shared witness.")
    parser.add_argument("--witness-threads", type=int, default=4)
    parser.add_argument("--witness-burst", type=int, default=100,
                        help="Checkpoints per district in the witness burst phase (0: none).")  # fmt: skip
    parser.add_argument(
        "--work-dir",
        help="Keep keys, SQLite files and witness state here (default: a temporary directory).",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the stores (PostgreSQL databases) for inspection."
    )
    args = parser.parse_args()
    if not 1 <= args.districts <= len(DISTRICTS):
        parser.error(f"--districts must be 1..{len(DISTRICTS)}")
    own_dir = args.work_dir is None
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="districts-"))
    work.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"backend": args.backend, "districts": args.districts,
                               "commands_per_district": args.commands, "load_average_start": load_average()}  # fmt: skip
    specs, databases = prepare_specs(args, work)
    if databases:
        create_databases(postgres_base_url(args), databases)
    witness = None
    try:
        if not args.no_witness:
            vkeys = [s["log_vkey"] for s in specs] + [s["burst_vkey"] for s in specs]
            witness, witness_url, witness_vkey = start_witness(
                work / "witness", vkeys, args.witness_threads
            )
        for spec in specs:
            spec["witness_url"] = None if witness is None else witness_url
            spec["witness_vkey"] = None if witness is None else witness_vkey
        say(
            f"{args.districts} districts × ~{args.commands} commands on {args.backend}; load {load_average()}"
        )
        figures.update(run_phases(args, specs))
    finally:
        if witness is not None:
            witness.terminate()
            witness.wait(30)
        if databases and not args.keep:
            drop_databases(postgres_base_url(args), databases)
        if own_dir and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    figures["load_average_end"] = load_average()
    figures["stores"] = {s["pinyin"]: s["url"] for s in specs} if args.keep else None
    figures["work_dir"] = str(work) if (args.keep or not own_dir) else None
    print_summary(figures)
    print(json.dumps(figures, ensure_ascii=False))


def run_phases(args: argparse.Namespace, specs: list[dict[str, Any]]) -> dict[str, Any]:
    from ledger.storage import store_from_url

    loads = {"ledger_phase_start": load_average()}
    ledger_results, ledger_wall_s = run_all(district_worker, specs)
    loads["ledger_phase_end"] = load_average()
    say(f"ledger phase: {ledger_wall_s:.1f} s")
    for spec, result in zip(specs, ledger_results, strict=True):
        spec["events_per_call"] = result["events_per_call"]
        spec["mean_event_bytes"] = result["mean_event_bytes"]
        result["store_bytes"] = store_bytes(spec)
        result["store_bytes_per_event"] = round(
            result["store_bytes"] / max(1, result["log_size_after"])
        )
        if args.backend == "postgresql":
            spec["conninfo"] = store_from_url(spec["url"]).postgres_conninfo()
    loads["raw_phase_start"] = load_average()
    raw_results, raw_wall_s = run_all(raw_worker, specs)
    loads["raw_phase_end"] = load_average()
    say(f"raw phase: {raw_wall_s:.1f} s")
    federated = federated_read({s["pinyin"]: s["url"] for s in specs})
    say(
        f"federated read of {len(specs)} districts: {federated['sequential_median_s'] * 1000:.1f} ms"
    )
    accepted = sum(r["accepted"] for r in ledger_results)
    events = sum(r["events"] for r in ledger_results)
    raw_rows = sum(r["rows"] for r in raw_results)
    submit_s = [s for r in ledger_results for s in r.pop("submit_s")]
    for r in ledger_results:
        r.pop("events_per_call")
    cosignatures = sum(r["cosignatures"] for r in ledger_results)
    figures: dict[str, Any] = {
        "per_district": ledger_results, "raw_per_district": raw_results,
        "aggregate": {
            "wall_s": round(ledger_wall_s, 3), "accepted_commands": accepted, "events": events,
            "rejected": sum(r["rejected"] for r in ledger_results),
            "commands_per_s": round(accepted / ledger_wall_s, 1), "events_per_s": round(events / ledger_wall_s, 1),
            "heads_signed": sum(r["heads_signed"] for r in ledger_results), "cosignatures": cosignatures,
            "cosignatures_per_s": round(cosignatures / ledger_wall_s, 2),
            "witness_submit": percentiles_ms(submit_s),
        },
        "raw": {"wall_s": round(raw_wall_s, 3), "rows": raw_rows,
                "transactions": sum(r["transactions"] for r in raw_results),
                "rows_per_s": round(raw_rows / raw_wall_s, 1)},
        "federated_read": federated,
        "load_averages": loads,
    }  # fmt: skip
    figures["aggregate"]["events_over_raw"] = round(
        figures["aggregate"]["events_per_s"] / figures["raw"]["rows_per_s"], 4
    )
    if specs[0]["witness_url"] and args.witness_burst > 0:
        figures["witness_burst"] = witness_burst(specs, ledger_results, args)
    return figures


def witness_burst(
    specs: list[dict[str, Any]], ledger_results: list[dict], args: argparse.Namespace
) -> dict[str, Any]:
    host_port = urlsplit(specs[0]["witness_url"])
    for spec, result in zip(specs, ledger_results, strict=True):
        spec.update({"witness_host": host_port.hostname, "witness_port": host_port.port,
                     "burst_base": max(1, result["log_size_after"]), "burst_step": 8})  # fmt: skip
    results, _wall_s = run_all(burst_worker, specs, releases=2)
    round_trip = [s for r in results for s in r["round_trip_s"]]
    floor = [s for r in results for s in r["floor_s"]]
    cosign_wall_s = max(r["cosign_elapsed_s"] for r in results)
    floor_wall_s = max(r["floor_elapsed_s"] for r in results)
    rt, fl = percentiles_ms(round_trip), percentiles_ms(floor)
    return {"clients": len(specs), "checkpoints": len(round_trip), "witness_threads": args.witness_threads,
            "cosignatures_per_s": round(len(round_trip) / cosign_wall_s, 1),
            "http_floor_requests_per_s": round(len(floor) / floor_wall_s, 1),
            "round_trip": rt, "http_floor": fl,
            "round_trip_over_floor_p50": round(rt["p50_ms"] / fl["p50_ms"], 2) if fl["p50_ms"] else None}  # fmt: skip


def print_summary(f: dict[str, Any]) -> None:
    if "aggregate" not in f:
        return
    a, raw, fed = f["aggregate"], f["raw"], f["federated_read"]
    print(f"{'district':<12}{'commands/s':>11}{'events/s':>10}{'heads':>6}{'cosig':>6}{'ticks':>7}"
          f"{'single p50/p99 ms':>20}{'batch p50/p99 ms':>19}{'raw rows/s':>11}  name")  # fmt: skip
    for r, w in zip(f["per_district"], f["raw_per_district"], strict=True):
        s, b = r["single_call"], r["batch_call"]
        print(f"{r['district']:<12}{r['commands_per_s']:>11,.0f}{r['events_per_s']:>10,.0f}{r['heads_signed']:>6}"
              f"{r['cosignatures']:>6}{r['worker_tick_share']:>7.0%}{s['p50_ms']!s:>11}/{s['p99_ms']!s:<8}"
              f"{b['p50_ms']!s:>10}/{b['p99_ms']!s:<8}{w['rows_per_s']:>11,.0f}  {r['name']}")  # fmt: skip
    print(f"aggregate ({f['backend']}, {f['districts']} districts): {a['accepted_commands']:,} commands, "
          f"{a['events']:,} events in {a['wall_s']:.1f} s = {a['commands_per_s']:,.0f} commands/s, "
          f"{a['events_per_s']:,.0f} events/s; {a['rejected']} rejected")  # fmt: skip
    print(f"raw baseline: {raw['rows']:,} rows in {raw['transactions']:,} transactions in {raw['wall_s']:.1f} s "
          f"= {raw['rows_per_s']:,.0f} rows/s; ledger events/s ÷ raw rows/s = {a['events_over_raw']:.1%}")  # fmt: skip
    ws = a["witness_submit"]
    print(f"heads signed {a['heads_signed']}, cosignatures {a['cosignatures']} "
          f"({a['cosignatures_per_s']}/s offered), submit p50 {ws['p50_ms']} ms p99 {ws['p99_ms']} ms")  # fmt: skip
    if "witness_burst" in f:
        wb = f["witness_burst"]
        print(f"witness burst: {wb['checkpoints']} checkpoints from {wb['clients']} logs at once: "
              f"{wb['cosignatures_per_s']:,.0f} cosignatures/s (HTTP floor {wb['http_floor_requests_per_s']:,.0f} "
              f"requests/s); round trip p50 {wb['round_trip']['p50_ms']} p99 {wb['round_trip']['p99_ms']} ms, "
              f"floor p50 {wb['http_floor']['p50_ms']} p99 {wb['http_floor']['p99_ms']} ms")  # fmt: skip
    print(f"federated read (city total of {fed['districts']} districts' measure balances): sequential "
          f"{fed['sequential_median_s'] * 1000:.1f} ms, {fed['districts']} threads {fed['parallel_median_s'] * 1000:.1f} ms "
          f"(first {fed['first_read_s'] * 1000:.1f} ms, opening all {fed['open_all_s']:.2f} s); "
          f"city committed {fed['city_total']['committed_fen'] / 100:,.2f} yuan")  # fmt: skip
    la = f["load_averages"]
    print(f"load average: start {f['load_average_start']}, end {f['load_average_end']}; ledger phase "
          f"{la['ledger_phase_start'][0]} → {la['ledger_phase_end'][0]}, raw phase "
          f"{la['raw_phase_start'][0]} → {la['raw_phase_end'][0]}")  # fmt: skip


if __name__ == "__main__":
    main()
