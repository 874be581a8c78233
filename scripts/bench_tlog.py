#!/usr/bin/env python3
"""Benchmark (not a test): the C2SP tlog resources of a large log, and checkpoint signing.

    .venv/bin/python scripts/bench_tlog.py [--size 1000000] [--requests 200] [--database-url URL]

Builds a SQLite log of ``--size`` events (stored events appended through the application's
recorder, which indexes each leaf as it inserts, like tests/interop; not commands), signs a
checkpoint, then serves, through the Flask app in this process, ``--requests`` random full level-0
tiles, level-1 tiles, full entry bundles and the checkpoint, and reports the time per request
and per MiB. Then it appends one event at a time and signs a checkpoint each time (the
consistency check with the previous checkpoint included), beside plain Ed25519 signatures of
the same note text, and reports their ratio. Timings on a shared machine are noisy: compare
the figures of one run with each other, not with another run's.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eventsourcing.persistence import StoredEvent

from audit.heads import sign_tree_head
from audit.keys import generate_key, load_private_key
from ledger.storage import open_ledger


def fill(app, size: int, batch: int = 20_000) -> None:
    done = app.log_position()
    while done < size:
        count = min(batch, size - done)
        oid = uuid4()
        app.recorder.insert_events([
            StoredEvent(originator_id=oid, originator_version=v + 1, topic="bench:Filler",
                        state=b'{"n":%d,"memo":"bench"}' % (done + v))
            for v in range(count)
        ])  # fmt: skip
        done += count
        print(f"fill: {done}/{size}", file=sys.stderr, end="\r")
    print(file=sys.stderr)


def timed(client, paths: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    total = 0
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        total += len(response.data)
    return time.perf_counter() - start, total


def index(n: int) -> str:
    from audit.tiles import encode_index

    return encode_index(n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="events in the log")
    parser.add_argument("--requests", type=int, default=200, help="requests per resource kind")
    parser.add_argument("--signings", type=int, default=20, help="checkpoints signed one by one")
    parser.add_argument("--database-url", help="an existing store to use (default: a new SQLite)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-tlog-"))
    key = work / "key.pem"
    generate_key(key)
    os.environ["LEDGER_SIGNING_KEY"] = str(key)
    app = open_ledger(args.database_url or f"sqlite:///{work}/ledger.sqlite3")
    start = time.perf_counter()
    fill(app, args.size)
    filled = time.perf_counter() - start
    start = time.perf_counter()
    sign_tree_head(app)
    first_sign = time.perf_counter() - start
    print(f"log of {args.size} events: appended in {filled:.1f} s; first checkpoint "
          f"(indexes the node cache) {first_sign:.1f} s")  # fmt: skip

    from web import create_app

    client = create_app({"LEDGER_APP": app, "TESTING": True, "SECRET_KEY": "b"}).test_client()
    rng = random.Random(1)
    full0, full1 = args.size // 256, args.size // 65536
    kinds = {
        "checkpoint": ["/tlog/checkpoint"] * args.requests,
        "level-0 tile": [f"/tlog/tile/0/{index(rng.randrange(full0))}" for _ in range(args.requests)],
        "entry bundle": [f"/tlog/tile/entries/{index(rng.randrange(full0))}" for _ in range(args.requests)],
    }  # fmt: skip
    if full1:
        kinds["level-1 tile"] = [f"/tlog/tile/1/{index(rng.randrange(full1))}" for _ in range(args.requests)]
    results = {name: timed(client, paths) for name, paths in kinds.items()}
    base = results["checkpoint"][0] / args.requests
    for name, (seconds, size) in results.items():
        per = seconds / args.requests
        print(f"  {name:13s} {per * 1000:7.2f} ms/request  {size / args.requests / 1024:7.1f} KiB  "
              f"{size / 2**20 / seconds:7.1f} MiB/s  ×{per / base:5.2f} of a checkpoint request")

    from audit.checkpoint import Checkpoint

    private = load_private_key(key)
    sign_times, plain_times = [], []
    for _ in range(args.signings):
        fill(app, app.log_position() + 1)
        start = time.perf_counter()
        head = sign_tree_head(app)
        sign_times.append(time.perf_counter() - start)
        text = Checkpoint("bench.example/log", head["tree_size"], bytes.fromhex(head["root_hash"])).text()
        start = time.perf_counter()
        private.sign(text.encode())
        plain_times.append(time.perf_counter() - start)
    sign_s = sorted(sign_times)[len(sign_times) // 2]
    plain_s = sorted(plain_times)[len(plain_times) // 2]
    print(f"checkpoint signing at {app.log_position()} events, one new event each (median of "
          f"{args.signings}): {sign_s * 1000:.1f} ms per checkpoint (index, consistency check with "
          f"the previous one, JSON head + signed note, stored) vs {plain_s * 1000:.3f} ms for the "
          f"bare Ed25519 signature: ×{sign_s / plain_s:.0f}")  # fmt: skip
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
