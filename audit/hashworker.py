"""Recompute the leaf hashes (and the cached subtrees above them) of chunks of the log.

Verification hashes every stored event once, and on SQLite CPython hashes more slowly than it
reads. :mod:`audit.verify` therefore shares the work with workers: fresh interpreters running
:func:`main` (``python -I -S``, so they import only the standard library and this module), each
with its own read-only connection. A chunk starts at a leaf index given to it; the parent checks
that against the number of events it found before the chunk, and where it was wrong (events were
inserted or removed) discards the chunk's subtrees and lets the tree compute them from the leaf
hashes alone.

No fork: a SQLite connection must not cross one, and the parent holds one open.

The log is cut into chunks. Every process claims chunks from the first on (:func:`claim`: a
file created exclusively in a directory of the parent's) before hashing one, so the processes
share them wherever the machine's load puts them, and the parent can take the chunks in log
order as they arrive. A worker reads its job (JSON) from standard input. Its standard output
carries frames: ``b"P"`` + 8-byte count (progress) and, per chunk, ``b"R"`` + 8-byte chunk
number + 8-byte length + a pickle of :func:`pack` 's tuple; ``b"E"`` ends them.
A worker that fails exits non-zero (a traceback on standard error); the parent hashes every
chunk it claimed but did not deliver.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import queue
import sqlite3
import struct
import sys
import threading
from array import array
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from ledger.leaves import row_leaf_hashes_split

#: The smallest SQLite rowid or PostgreSQL BIGINT: the lower bound of a range that has none.
POSITION_MIN = -(2**63)

COUNT = struct.Struct("<q")

#: (level, index of its first node, the nodes) for each level of cached subtrees of a range.
Levels = list[tuple[int, int, list[bytes]]]


def event_select(pos: str, events: str, *, bounded: bool = True) -> str:
    """Event rows after one position (and, if ``bounded``, up to another), in position order, a
    batch at a time. (Unbounded for a whole log: PostgreSQL's planner misjudges a range on
    both sides and would sort every batch.)"""
    upto = f"AND {pos} <= ? " if bounded else ""
    return (
        f"SELECT {pos}, originator_id, originator_version, topic, state FROM {events} "
        f"WHERE {pos} > ? {upto}ORDER BY {pos} LIMIT ?"
    )


def read_batches(
    cur: Any, select: str, after: int, upto: int | None, batch: int
) -> Iterator[list[tuple]]:
    """Batches of event rows with ``after < position <= upto``, in position order (``select``
    from :func:`event_select`, bounded unless ``upto`` is None)."""
    last = after
    while True:
        cur.execute(select, (last, batch) if upto is None else (last, upto, batch))
        rows = cur.fetchall()
        if rows:
            yield rows
            last = rows[-1][0]
        if len(rows) < batch:
            return


def read_ahead(
    cur: Any, select: str, after: int, upto: int | None, batch: int
) -> Iterator[list[tuple]]:
    """Batches of event rows with ``after < position <= upto``, in position order, read by a
    thread one batch ahead of the caller (the driver waits and builds rows while the caller
    hashes)."""
    batches: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def read() -> None:
        try:
            for rows in read_batches(cur, select, after, upto, batch):
                if stop.is_set():
                    break
                batches.put(rows)
            batches.put(None)
        except BaseException as exc:  # handed to the caller, who raises it
            batches.put(exc)

    reader = threading.Thread(target=read, name="audit-verify-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = batches.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting to put, then let it finish
            with contextlib.suppress(queue.Empty):
                batches.get(timeout=0.05)
        reader.join()


def hash_batches(
    batches: Iterator[list[tuple]], done: Callable[[int], None] | None = None
) -> tuple[list[int], list[bytes]]:
    """The positions and leaf hashes of every row of ``batches``; ``done(n)`` after each."""
    positions: list[int] = []
    hashes: list[bytes] = []
    for rows in batches:
        batch_positions, batch_hashes = row_leaf_hashes_split(rows)
        positions += batch_positions
        hashes += batch_hashes
        if done is not None:
            done(len(hashes))
    return positions, hashes


def subtree_levels(hashes: list[bytes], first_index: int, min_level: int) -> Levels:
    """Every complete, aligned subtree at ``min_level`` or above among leaves ``first_index…``.

    The same nodes :class:`audit.merkle.MerkleTree` would cache; levels stop where
    ``first_index`` is no longer aligned to them (the parent computes those from the cache).
    """
    from hashlib import sha256

    out: Levels = []
    nodes = hashes
    level = 0
    while len(nodes) > 1:
        level += 1
        if first_index & ((1 << level) - 1):
            break
        it = iter(nodes)  # pairs; an odd last node has no complete parent
        nodes = [sha256(b"\x01" + a + b).digest() for a, b in zip(it, it, strict=False)]
        if level >= min_level:
            out.append((level, first_index >> level, nodes))
    return out


def pack(positions: list[int], hashes: list[bytes], levels: Levels) -> bytes:
    """A range's result as one pickle of flat buffers (cheap to pass through a pipe)."""
    return pickle.dumps(
        (
            array("q", positions).tobytes(),
            b"".join(hashes),
            [(level, first, b"".join(nodes)) for level, first, nodes in levels],
        ),
        protocol=pickle.HIGHEST_PROTOCOL,
    )


def unpack(data: bytes) -> tuple[list[int], list[bytes], Levels]:
    """The inverse of :func:`pack`."""
    raw_positions, blob, raw_levels = pickle.loads(data)
    positions = array("q")
    positions.frombytes(raw_positions)
    return (
        positions.tolist(),
        _split32(blob),
        [(level, first, _split32(nodes)) for level, first, nodes in raw_levels],
    )


def _split32(blob: bytes) -> list[bytes]:
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


def sqlite_readonly(path: str) -> sqlite3.Connection:
    """A read-only connection to a SQLite file (a ``file:`` URI is taken as it is)."""
    uri = path if path.startswith("file:") else f"file://{quote(os.path.abspath(path))}?mode=ro"
    conn = sqlite3.connect(
        uri, uri=True, timeout=30, isolation_level=None, check_same_thread=False
    )  # read ahead in a second thread
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA query_only = ON")
    return conn


def claim(claims: str, chunk: int) -> bool:
    """Take chunk number ``chunk`` for this process; False if another process already has."""
    try:
        os.close(os.open(os.path.join(claims, str(chunk)), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def main() -> None:
    """Run as a worker: hash the chunks described by the JSON on standard input that no other
    process has claimed, from the first on."""
    job = json.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    conn = sqlite_readonly(job["path"])
    done = 0

    def report(count: int) -> None:
        out.write(b"P" + COUNT.pack(done + count))
        out.flush()

    try:
        conn.execute("BEGIN")
        cur = conn.cursor()
        select = event_select(job["pos"], job["events"])
        for i in range(len(job["chunks"])):
            if not claim(job["claims"], i):
                continue
            first_index, after, upto = job["chunks"][i]
            batches = read_batches(cur, select, after, upto, job["batch"])
            positions, hashes = hash_batches(batches, report)
            done += len(hashes)
            levels = subtree_levels(hashes, first_index, job["min_level"])
            data = pack(positions, hashes, levels)
            out.write(b"R" + COUNT.pack(i) + COUNT.pack(len(data)))
            out.write(data)
            out.flush()
    finally:
        conn.close()
    out.write(b"E")  # done; the parent reads no further
    out.flush()
    os._exit(0)  # the parent waits for our exit: skip the interpreter's slow tidying up


if __name__ == "__main__":
    main()
