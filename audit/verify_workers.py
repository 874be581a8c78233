"""Hashing the whole log for verification, shared with worker processes on SQLite.

CPython reads SQLite rows faster than it hashes them, so one process alone could not keep up
with the reads: a large log (``PARALLEL_MIN_EVENTS``) is cut into chunks (:func:`_plan`) that
this process and worker processes (:mod:`audit.hashworker`, ``LEDGER_AUDIT_WORKERS``, default
the usable CPUs up to ``MAX_WORKERS``; 1 turns them off) hash, each claiming the first chunk
nobody has claimed before it starts on it. Each worker reads through a connection of its own,
bounded by the last position of this process's snapshot: the events table only ever grows, so
every process sees the same rows. Findings are the same either way.

The chunks reach the caller's sink in log order (:func:`hash_log`): this process feeds each one
as soon as those before it are fed, and stops hashing ahead while a worker's chunk is late, so
what it holds at once is a few chunks, however long the log.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from audit.db import LEAVES
from audit.hashworker import (
    COUNT,
    POSITION_MIN,
    Levels,
    claim,
    event_select,
    hash_batches,
    read_ahead,
    read_batches,
    subtree_levels,
    unpack,
)
from audit.log import MIN_CACHED_LEVEL
from audit.merkle import MemoryNodeCache
from ledger.leaves import row_leaf_hashes_split

#: Logs smaller than this are hashed in one process (a worker takes ~70 ms to start).
PARALLEL_MIN_EVENTS = 50_000
#: At most this many processes hash the log (LEDGER_AUDIT_WORKERS overrides the CPU count).
MAX_WORKERS = 4
#: Chunks of the log shared among processes start at multiples of 2**ALIGN_LEVEL leaves …
ALIGN_LEVEL = 11
#: … or of a larger power of two, so that there are at most this many (their bounds are looked
#: up once each; a chunk's leaves are held in memory until it is fed).
MAX_CHUNKS = 4096

Progress = Callable[[int, int], None]


def worker_count() -> int:
    """How many processes hash the log: LEDGER_AUDIT_WORKERS, else the usable CPUs (up to 4)."""
    configured = os.environ.get("LEDGER_AUDIT_WORKERS", "").strip()
    if configured.isdigit():
        return max(1, int(configured))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


@dataclass(frozen=True)
class _Chunk:
    """Positions ``after < p <= upto``, assumed to start at leaf ``first_index`` (checked once
    the events before it have been counted)."""

    first_index: int
    after: int
    upto: int | None


class _Worker:
    """A worker process hashing the chunks it claims (see :mod:`audit.hashworker`); ``results``
    holds the chunks it delivered and this process has not fed yet."""

    #: Set whenever a chunk arrives or the worker ends (by the process waiting for chunks).
    arrived: threading.Event | None = None

    def __init__(self, db: Any, chunks: list[_Chunk], claims: str, batch: int) -> None:
        self.done = 0
        self.results: dict[int, bytes] = {}
        self.error = b""
        self.process: subprocess.Popen[bytes] | None = None
        self.reader: threading.Thread | None = None
        job = {
            "path": db.store.sqlite_path,
            "events": db.events_table,
            "pos": db.position_column,
            "batch": batch,
            "min_level": MIN_CACHED_LEVEL,
            "claims": claims,
            "chunks": [[c.first_index, c.after, c.upto] for c in chunks],
        }
        root = str(Path(__file__).resolve().parents[1])
        code = f"import sys; sys.path.insert(0, {root!r}); from audit.hashworker import main; main()"
        with contextlib.suppress(OSError):  # no worker: this process hashes every chunk
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert self.process.stdin is not None
            with contextlib.suppress(OSError):  # a worker that died at once: it is replaced
                self.process.stdin.write(json.dumps(job).encode())
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            self.reader = threading.Thread(target=self._read, name="audit-verify-worker")
            self.reader.daemon = True
            self.reader.start()

    def _read(self) -> None:
        assert self.process is not None
        out, err = self.process.stdout, self.process.stderr
        assert out is not None and err is not None
        with contextlib.suppress(Exception):
            while True:
                kind = out.read(1)
                if kind == b"P":
                    self.done = COUNT.unpack(out.read(8))[0]
                elif kind == b"R":
                    chunk, size = COUNT.unpack(out.read(8))[0], COUNT.unpack(out.read(8))[0]
                    data = out.read(size)
                    if len(data) == size:
                        self.results[chunk] = data
                    if self.arrived is not None:
                        self.arrived.set()
                else:
                    break
        with contextlib.suppress(Exception):
            self.error = err.read()
        self.process.wait()
        if self.arrived is not None:
            self.arrived.set()

    def running(self) -> bool:
        return self.reader is not None and self.reader.is_alive()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.reader is not None:
            self.reader.join()


def _plan(db: Any, cur: Any, total: int, stored_size: int, workers: int) -> list[_Chunk]:
    """Chunks of the log for this process and workers to share (none: hash it all here).

    Each starts at a leaf index that is a multiple of ``2**ALIGN_LEVEL`` (or more, to keep to
    ``MAX_CHUNKS``), so every cached subtree below that level lies inside one chunk. The
    position of that leaf is taken from ``audit_leaves`` where it holds one (only a hint: the
    counts are checked afterwards), else counted out of the events.
    """
    if db.is_postgres or workers < 2 or total < PARALLEL_MIN_EVENTS or not sys.executable:
        return []
    size = 1 << ALIGN_LEVEL
    while total > size * MAX_CHUNKS:
        size *= 2
    bounds = list(range(size, total, size))
    if not bounds:
        return []
    starts: list[Any] = []
    for k in bounds:
        if k >= stored_size:
            break
        cur.execute(db.sql(f"SELECT position FROM {{t}}{LEAVES} WHERE leaf_index = ?"), (k,))
        row = cur.fetchone()
        starts.append(None if row is None else row[0])
    if len(starts) < len(bounds):
        cur.execute(
            db.sql(
                "SELECT p FROM (SELECT {pos} AS p, ROW_NUMBER() OVER (ORDER BY {pos}) - 1 AS i "
                "FROM {events}) WHERE i >= ? AND i % ? = 0 ORDER BY p"
            ),
            (bounds[len(starts)], size),
        )
        starts += [row[0] for row in cur.fetchall()]
    cur.execute(db.sql("SELECT MAX({pos}) FROM {events}"))
    last = cur.fetchone()[0]
    points = [POSITION_MIN + 1, *starts, last + 1 if isinstance(last, int) else None]
    if len(starts) != len(bounds) or not all(isinstance(p, int) for p in points):
        return []
    if any(b <= a for a, b in itertools.pairwise(points)):
        return []
    firsts = [0, *bounds]
    return [
        _Chunk(k, a - 1, b - 1)
        for k, (a, b) in zip(firsts, itertools.pairwise(points), strict=True)
    ]


class _Hashing:
    """One recomputation: the chunks, the workers sharing them, and the sink fed in log order.

    Every process claims chunks from the front; this one feeds each chunk to the sink as soon
    as every chunk before it has been fed, holding at most a few of its own meanwhile, so what
    is held at once does not grow with the log.
    """

    #: This process waits for a late worker's chunk once it holds more than this many of its own.
    AHEAD = 2

    def __init__(
        self, db: Any, cur: Any, chunks: list[_Chunk], batch: int, total: int,
        progress: Progress | None, sink: Sink,
    ) -> None:  # fmt: skip
        self.db, self.cur, self.chunks, self.batch = db, cur, chunks, batch
        self.total, self.progress, self.sink = total, progress, sink
        self.select = db.sql(event_select("{pos}", "{events}", bounded=len(chunks) > 1))
        self.claims = tempfile.mkdtemp(prefix="ledger-verify-") if len(chunks) > 1 else ""
        self.helpers: list[_Worker] = []
        self.arrived = threading.Event()
        self.next = 0  # the next chunk to feed
        self.own = 0  # leaves hashed here
        self.fed = 0  # leaves fed to the sink
        self.next_report = time.monotonic() + 1.0

    def tick(self, now_done: int) -> None:
        if self.progress is not None and time.monotonic() >= self.next_report:
            self.progress(self.own + now_done + sum(w.done for w in self.helpers), self.total)
            self.next_report = time.monotonic() + 1.0

    def start_workers(self, count: int) -> None:
        if self.claims:
            self.helpers = [
                _Worker(self.db, self.chunks, self.claims, self.batch) for _ in range(count - 1)
            ]
            for worker in self.helpers:
                worker.arrived = self.arrived

    def hash_chunk(self, i: int) -> tuple[list[int], list[bytes], Levels]:
        chunk = self.chunks[i]
        rows = read_batches(self.cur, self.select, chunk.after, chunk.upto, self.batch)
        chunk_positions, chunk_hashes = hash_batches(rows, self.tick)
        self.own += len(chunk_hashes)
        return chunk_positions, chunk_hashes, subtree_levels(
            chunk_hashes, chunk.first_index, MIN_CACHED_LEVEL
        )

    def hash_all(self) -> None:
        """Feed every chunk to the sink in order: hashed here, or by whichever worker claimed
        it (hashed here after all where that worker failed)."""
        if not self.claims:  # one process: batches straight from a reading thread
            chunk = self.chunks[0]
            for rows in read_ahead(self.cur, self.select, chunk.after, chunk.upto, self.batch):
                batch_positions, batch_hashes = row_leaf_hashes_split(rows)
                self.sink.add_leaves(batch_positions, batch_hashes)
                self.own += len(batch_hashes)
                self.fed += len(batch_hashes)
                self.tick(0)
            return
        own: dict[int, tuple[list[int], list[bytes], Levels]] = {}
        for i in range(len(self.chunks)):
            if claim(self.claims, i):
                own[i] = self.hash_chunk(i)
            self.feed(own, block=len(own) > self.AHEAD)
        self.feed(own, block=True, final=True)

    def feed(
        self, own: dict[int, tuple[list[int], list[bytes], Levels]], *, block: bool,
        final: bool = False,
    ) -> None:  # fmt: skip
        """Feed the chunks that are ready, in order. With ``block``, wait for a worker's chunk
        while chunks of this process's own wait behind it; with ``final``, until all are fed
        (every chunk has been claimed by then)."""
        while self.next < len(self.chunks):
            i = self.next
            result = own.pop(i, None) or self.delivered(i)
            if result is None:
                if not (final or (block and own)):
                    return
                result = self.wait_for(i)
            self.sink.add_block(self.chunks[i].first_index, *result)
            self.fed += len(result[1])
            self.next += 1

    def delivered(self, i: int) -> tuple[list[int], list[bytes], Levels] | None:
        for worker in self.helpers:
            data = worker.results.pop(i, None)
            if data is not None:
                return unpack(data)
        return None

    def wait_for(self, i: int) -> tuple[list[int], list[bytes], Levels]:
        """Chunk ``i``, claimed by a worker: its result, or hashed here if no worker is left."""
        while True:
            self.arrived.clear()
            result = self.delivered(i)
            if result is not None:
                return result
            if not any(worker.running() for worker in self.helpers):
                return self.delivered(i) or self.hash_chunk(i)
            self.arrived.wait(0.25)
            self.tick(0)

    def stop(self) -> None:
        for worker in self.helpers:
            worker.stop()
        if self.claims:
            shutil.rmtree(self.claims, ignore_errors=True)


class Sink(Protocol):
    """Where the hashed log goes, in log order (:class:`audit.verify_stream.TreeStream`)."""

    def add_leaves(self, positions: list[int], hashes: list[bytes]) -> None: ...

    def add_block(
        self, first_index: int, positions: list[int], hashes: list[bytes], levels: Levels
    ) -> None: ...


def hash_log(
    db: Any,
    cur: Any,
    sink: Sink,
    *,
    batch: int,
    total: int,
    stored_size: int,
    progress: Progress | None,
    workers: int | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> int:
    """Read every event in position order, hash it and feed it to ``sink``; return how many.

    On SQLite a large log is cut into chunks that this process and worker processes hash
    (see :mod:`audit.hashworker`), each claiming a chunk before it starts on it; a chunk a
    worker claimed but did not deliver is hashed here. ``meanwhile`` is called once the
    workers are starting, before any hashing here.
    """
    count = worker_count() if workers is None else workers
    chunks = _plan(db, cur, total, stored_size, count) or [_Chunk(0, POSITION_MIN, None)]
    run = _Hashing(db, cur, chunks, batch, total, progress, sink)
    # (`ledger audit verify` pauses the cyclic garbage collector meanwhile: ledger.tuning)
    try:
        run.start_workers(count)
        if meanwhile is not None:
            meanwhile()
        run.hash_all()
    finally:
        run.stop()
    if progress is not None:
        progress(run.fed, total)
    return run.fed


class _Collect:
    """A sink that keeps everything (for :func:`recompute`)."""

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.hashes: list[bytes] = []
        self.levels: Levels = []

    def add_leaves(self, positions: list[int], hashes: list[bytes]) -> None:
        self.positions += positions
        self.hashes += hashes

    def add_block(
        self, first_index: int, positions: list[int], hashes: list[bytes], levels: Levels
    ) -> None:
        if first_index == len(self.hashes):  # else its subtrees sit at the wrong indexes
            self.levels += levels
        self.add_leaves(positions, hashes)


def recompute(
    db: Any,
    cur: Any,
    batch: int,
    total: int,
    stored_size: int,
    progress: Progress | None,
    workers: int | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> tuple[list[int], list[bytes], MemoryNodeCache]:
    """Every event's position and leaf hash, in position order, with the cached subtrees the
    hashing computed: :func:`hash_log` into lists (verification itself streams instead)."""
    sink = _Collect()
    hash_log(db, cur, sink, batch=batch, total=total, stored_size=stored_size,
             progress=progress, workers=workers, meanwhile=meanwhile)  # fmt: skip
    cache = MemoryNodeCache()
    cache.put_many(
        (level, first + j, node)
        for level, first, nodes in sink.levels
        for j, node in enumerate(nodes)
    )
    return sink.positions, sink.hashes, cache
