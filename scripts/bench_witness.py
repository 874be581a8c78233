#!/usr/bin/env python3
"""Benchmark the witness round trip per checkpoint, beside its parts measured in the same run.

Usage::

    .venv/bin/python scripts/bench_witness.py [--leaves 1000000] [--checkpoints 200] [--step 60]

A log of ``--leaves`` made-up leaf hashes (an in-memory RFC 6962 tree) is witnessed by a real
``ledger witness serve`` process (waitress, its own SQLite state) on a free port. Then, for
``--checkpoints`` checkpoints each ``--step`` leaves larger than the last, it times per
checkpoint, side by side:

1. the log's part: the consistency proof from the last cosigned size and the Ed25519 signature
   of the checkpoint;
2. the whole round trip: ``POST /add-checkpoint`` with the proof over a keep-alive connection,
   until the cosignature is back (the witness verifies the log's signature and the proof,
   records the checkpoint in a SQLite transaction, and cosigns);
3. the same witness's answer to an empty HTTP request (``GET /``, 404) on the same connection:
   the HTTP floor;
4. the witness's work without HTTP: ``add_checkpoint`` called in this process on a state of
   its own.

The machine is shared, so read the ratios (round trip / HTTP floor, round trip / in-process
work), not the absolute times. The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.merkle import MerkleTree
from audit.note import Ed25519Signer
from audit.witness.protocol import add_checkpoint
from audit.witness.state import init_state

ORIGIN = "bench.songjiang.example/log"
LEDGER = str(Path(sys.executable).parent / "ledger")


def say(text: str) -> None:
    print(text, flush=True)


def leaf(i: int) -> bytes:
    return hashlib.sha256(b"\x00" + i.to_bytes(8, "big")).digest()


def body(tree: MerkleTree, signer: Ed25519Signer, old: int, size: int) -> bytes:
    proof = tree.consistency_proof(old, size) if 0 < old < size else []
    note = sign_checkpoint(Checkpoint(ORIGIN, size, tree.root(size)), [signer])
    lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    return f"old {old}\n{lines}\n".encode() + note.encode()


def start_witness(directory: Path, vkey: str) -> tuple[subprocess.Popen, int]:
    state = init_state("bench.songjiang.example/witness", directory)
    state.add_log(vkey)
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [LEDGER, "witness", "serve", "--port", str(port), "--state", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the witness did not start")


def ms(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {"p50_ms": round(statistics.median(values) * 1000, 3),
            "p99_ms": round(values[int(len(values) * 0.99) - 1] * 1000, 3)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--checkpoints", type=int, default=200)
    parser.add_argument("--step", type=int, default=60, help="leaves added per checkpoint")
    args = parser.parse_args()
    started = time.perf_counter()
    total = args.leaves + args.checkpoints * args.step
    tree = MerkleTree.from_leaf_hashes(leaf(i) for i in range(total))
    tree.root(total)  # fill the node cache once
    say(f"tree of {total} leaves built in {time.perf_counter() - started:.1f} s")
    signer = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())
    with tempfile.TemporaryDirectory() as tmp:
        process, port = start_witness(Path(tmp) / "served", signer.vkey())
        local = init_state("bench.songjiang.example/local", Path(tmp) / "local")
        local.add_log(signer.vkey())
        try:
            figures = run(tree, signer, port, local, args)
        finally:
            process.terminate()
            process.wait(30)
    say(json.dumps(figures))


def run(tree, signer, port, local, args) -> dict[str, object]:  # type: ignore[no-untyped-def]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for state_body in (body(tree, signer, 0, args.leaves),):
        conn.request("POST", "/add-checkpoint", state_body)
        assert conn.getresponse().read().startswith("—".encode())
        assert add_checkpoint(local, state_body).status == 200
    log_part, round_trip, floor, in_process, proof_lines = [], [], [], [], []
    old = args.leaves
    for k in range(1, args.checkpoints + 1):
        size = args.leaves + k * args.step
        t0 = time.perf_counter()
        data = body(tree, signer, old, size)
        t1 = time.perf_counter()
        conn.request("POST", "/add-checkpoint", data)
        answer = conn.getresponse()
        text = answer.read()
        t2 = time.perf_counter()
        assert answer.status == 200, text
        conn.request("GET", "/")
        conn.getresponse().read()
        t3 = time.perf_counter()
        assert add_checkpoint(local, data).status == 200
        t4 = time.perf_counter()
        log_part.append(t1 - t0)
        round_trip.append(t2 - t1)
        floor.append(t3 - t2)
        in_process.append(t4 - t3)
        proof_lines.append(data.split(b"\n\n", 1)[0].count(b"\n"))
        old = size
    conn.close()
    rt, fl, ip = (statistics.median(v) for v in (round_trip, floor, in_process))
    figures = {
        "leaves": args.leaves, "checkpoints": args.checkpoints, "step": args.step,
        "proof_lines_median": statistics.median(proof_lines),
        "log_part": ms(log_part), "round_trip": ms(round_trip), "http_floor": ms(floor),
        "witness_in_process": ms(in_process),
        "round_trip_over_http_floor": round(rt / fl, 2),
        "round_trip_over_in_process": round(rt / ip, 2),
        "checkpoints_per_s": round(1 / rt, 1), "pid": os.getpid(),
    }  # fmt: skip
    say(f"round trip per checkpoint: p50 {figures['round_trip']['p50_ms']} ms "
        f"(HTTP floor {figures['http_floor']['p50_ms']} ms, ×{figures['round_trip_over_http_floor']}; "
        f"witness work in process {figures['witness_in_process']['p50_ms']} ms, "
        f"×{figures['round_trip_over_in_process']}); log side {figures['log_part']['p50_ms']} ms")  # fmt: skip
    return figures


if __name__ == "__main__":
    main()
