"""Hashing the whole log for verification, shared with worker processes on SQLite.

CPython reads SQLite rows faster than it hashes them, so one process alone could not keep up
with the reads: a large log (``PARALLEL_MIN_EVENTS``) is cut into chunks (:func:`_plan`) that
this process hashes from the front while worker processes (:mod:`audit.hashworker`,
``LEDGER_AUDIT_WORKERS``, default the usable CPUs up to ``MAX_WORKERS``; 1 turns them off) hash
them from the back, each claiming a chunk before it starts on it. Each worker reads through a
connection of its own, bounded by the last position of this process's snapshot: the events
table only ever grows, so every process sees the same rows. Findings are the same either way.
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
from typing import Any

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

#: Logs smaller than this are hashed in one process (a worker takes ~70 ms to start).
PARALLEL_MIN_EVENTS = 50_000
#: At most this many processes hash the log (LEDGER_AUDIT_WORKERS overrides the CPU count).
MAX_WORKERS = 4
#: Chunks of the log shared among processes start at multiples of 2**ALIGN_LEVEL leaves …
ALIGN_LEVEL = 11
#: … or of a larger power of two, so that there are at most this many.
MAX_CHUNKS = 128

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
    """A worker process hashing chunks from the end of the log (see :mod:`audit.hashworker`)."""

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
                [sys.executable, "-I", "-S", "-c", code, json.dumps(job)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
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
                else:
                    break
        with contextlib.suppress(Exception):
            self.error = err.read()
        self.process.wait()

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
    """One recomputation: the chunks, the workers sharing them, and what each chunk gave."""

    def __init__(
        self, db: Any, cur: Any, chunks: list[_Chunk], batch: int, total: int,
        progress: Progress | None,
    ) -> None:  # fmt: skip
        self.db, self.cur, self.chunks, self.batch = db, cur, chunks, batch
        self.total, self.progress = total, progress
        self.select = db.sql(event_select("{pos}", "{events}", bounded=len(chunks) > 1))
        self.claims = tempfile.mkdtemp(prefix="ledger-verify-") if len(chunks) > 1 else ""
        self.helpers: list[_Worker] = []
        self.results: dict[int, tuple[list[int], list[bytes], Levels]] = {}
        self.own = 0
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

    def hash_here(self, i: int) -> None:
        chunk = self.chunks[i]
        # A reading thread only pays while a CPU is otherwise idle: not when workers run.
        read = read_batches if self.claims else read_ahead
        rows = read(self.cur, self.select, chunk.after, chunk.upto, self.batch)
        chunk_positions, chunk_hashes = hash_batches(rows, self.tick)
        self.own += len(chunk_hashes)
        levels = subtree_levels(chunk_hashes, chunk.first_index, MIN_CACHED_LEVEL)
        self.results[i] = (chunk_positions, chunk_hashes, levels)

    def hash_all(self) -> None:
        """Hash every chunk no worker claimed first, then collect the workers' chunks."""
        for i in range(len(self.chunks)):
            if not self.claims or claim(self.claims, i):
                self.hash_here(i)
        for worker in self.helpers:
            while worker.running():
                worker.reader.join(timeout=0.25)  # type: ignore[union-attr]
                self.tick(0)
            for i, data in worker.results.items():
                self.results.setdefault(i, unpack(data))
        for i in range(len(self.chunks)):
            if i not in self.results:  # claimed by a worker that failed
                self.hash_here(i)

    def joined(self) -> tuple[list[int], list[bytes], Levels]:
        """The chunks' positions, hashes and subtrees, in log order."""
        positions: list[int] = []
        hashes: list[bytes] = []
        levels: Levels = []
        for i, chunk in enumerate(self.chunks):
            chunk_positions, chunk_hashes, chunk_levels = self.results.pop(i)
            if chunk.first_index == len(hashes):  # else its subtrees sit at the wrong indexes
                levels += chunk_levels
            positions += chunk_positions
            hashes += chunk_hashes
        return positions, hashes, levels

    def stop(self) -> None:
        for worker in self.helpers:
            worker.stop()
        if self.claims:
            shutil.rmtree(self.claims, ignore_errors=True)


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
    """Read every event in position order and hash it, with the cached subtrees over them.

    On SQLite a large log is cut into chunks that this process hashes from the front while
    worker processes hash them from the back (see :mod:`audit.hashworker`), each claiming a
    chunk before it starts on it; a chunk a worker claimed but did not deliver is hashed here.
    ``meanwhile`` is called once the workers are starting, before any hashing here.
    """
    count = worker_count() if workers is None else workers
    chunks = _plan(db, cur, total, stored_size, count) or [_Chunk(0, POSITION_MIN, None)]
    run = _Hashing(db, cur, chunks, batch, total, progress)
    # (`ledger audit verify` pauses the cyclic garbage collector meanwhile: ledger.tuning)
    try:
        run.start_workers(count)
        if meanwhile is not None:
            meanwhile()
        run.hash_all()
        positions, hashes, levels = run.joined()
    finally:
        run.stop()
    if progress is not None:
        progress(len(hashes), total)
    cache = MemoryNodeCache()
    cache.put_many(
        (level, first + j, node) for level, first, nodes in levels for j, node in enumerate(nodes)
    )
    return positions, hashes, cache
