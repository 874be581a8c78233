"""``ledger audit verify``: recompute the Merkle log from the stored events and check it.

Verification trusts nothing in the database except what a signature vouches for. In one
snapshot of the store it

1. recomputes the leaf hash of every stored event, in position order;
2. compares them, leaf by leaf, with the leaves indexed earlier (``audit_leaves``), which names
   the first position where an event was altered, removed, inserted or moved;
3. checks every signed tree head: its Ed25519 signature under a trusted public key (the key file
   beside ``LEDGER_SIGNING_KEY``, or keys given explicitly — never the key stored beside the
   head), and that its root equals the root recomputed from the events (so rewriting the events
   *and* their stored leaves is caught too, as a range of positions);
4. checks the persisted node cache against the recomputed tree (a wrong node would make proofs
   fail for overseers);
5. with ``against`` (``ledger audit verify --against FILE``): checks that the store still
   contains each head kept outside it — the store holds at least its ``tree_size`` events, the
   root of that many recomputed leaves equals its root, and its row is still among the stored
   heads — which is what detects truncation, rollback and wipes (see :func:`verify`).

Every event has a leaf (the recorder indexes it in the transaction that records it), so an
event without one, a leaf without an event or a leaf that differs from its event is a finding
naming the position. A stored head row whose signature does not verify under a trusted key is
reported (kind ``head_signature``, naming its id) and otherwise ignored: later genuine heads
still verify. Nobody legitimate writes such rows, so they make the exit code 1; once
investigated, ``ignore_heads`` (``--ignore-head ID``) leaves known junk rows out.

On SQLite a large log (``PARALLEL_MIN_EVENTS``) is hashed by this process and worker processes
together (``LEDGER_AUDIT_WORKERS``, default the usable CPUs up to ``MAX_WORKERS``; 1 turns them
off): CPython reads SQLite rows faster than it hashes them, so one process alone could not keep
up with the reads (see :mod:`audit.hashworker`). Each worker reads through a connection of its
own, bounded by the last position of this process's snapshot: the events table only ever grows,
so every process sees the same rows. Findings are the same either way.

The result is a :class:`Report`; ``exit_code`` is 0 when intact and 1 when anything differs.
Operational problems (no database, no trusted key while heads exist) raise
:class:`VerificationError` (the CLI's exit code 2). Each run's report can be stored in
``audit_verifications`` for the web view (:func:`record`, :func:`last_verification`).
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.db import LEAVES, NODES, VERIFICATIONS, as_bytes, audit_db
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
from audit.heads import all_heads, public_keys_of, signature_ok, utc_timestamp
from audit.keys import trusted_public_keys
from audit.log import MIN_CACHED_LEVEL, READ_BATCH, leaf_count, stored_tree
from audit.merkle import EMPTY_ROOT, MemoryNodeCache, MerkleTree

if TYPE_CHECKING:
    from ledger.application import SupportLedger

INTACT = 0
TAMPERED = 1
OPERATIONAL_ERROR = 2

#: Logs smaller than this are hashed in one process (a worker takes ~70 ms to start).
PARALLEL_MIN_EVENTS = 50_000
#: At most this many processes hash the log (LEDGER_AUDIT_WORKERS overrides the CPU count).
MAX_WORKERS = 4
#: Chunks of the log shared among processes start at multiples of 2**ALIGN_LEVEL leaves …
ALIGN_LEVEL = 11
#: … or of a larger power of two, so that there are at most this many.
MAX_CHUNKS = 128


class VerificationError(RuntimeError):
    """Verification could not be carried out (not: the log was found altered)."""


@dataclass
class Finding:
    """One thing that differs: what kind, where, and a sentence saying so."""

    #: altered | removed | inserted | unindexed | head_signature | head_root | head_beyond_log |
    #: node | truncated | rewritten | head_missing (the last three: against a head kept outside)
    kind: str
    message: str
    position: int | None = None
    leaf_index: int | None = None
    head_id: int | None = None
    tree_size: int | None = None


@dataclass
class Report:
    """The outcome of one verification."""

    started_at: str
    finished_at: str = ""
    duration_s: float = 0.0
    events_checked: int = 0
    leaves_checked: int = 0
    heads_checked: int = 0
    nodes_checked: int = 0
    unindexed_events: int = 0
    against_checked: int = 0
    ignored_heads: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        return INTACT if self.intact else TAMPERED

    @property
    def first_position(self) -> int | None:
        """The first log position found to differ (None if intact or only a head differs)."""
        positions = [f.position for f in self.findings if f.position is not None]
        return min(positions) if positions else None

    @property
    def first_leaf_index(self) -> int | None:
        """The first leaf index found to differ (also where no position can be named)."""
        indexes = [f.leaf_index for f in self.findings if f.leaf_index is not None]
        return min(indexes) if indexes else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            intact=self.intact,
            exit_code=self.exit_code,
            first_position=self.first_position,
            first_leaf_index=self.first_leaf_index,
        )
        return data

    def summary(self) -> str:
        """One line for people."""
        if self.intact:
            return (
                f"intact: {self.events_checked} events, {self.heads_checked} signed tree heads "
                f"and {self.nodes_checked} cached nodes check out"
                + (f"; the store contains the {self.against_checked} head(s) kept outside it"
                   if self.against_checked else "")
                + (f" ({len(self.ignored_heads)} junk head row(s) ignored as asked)"
                   if self.ignored_heads else "")
            )  # fmt: skip
        first, leaf = self.first_position, self.first_leaf_index
        if first is not None:
            where = f"first differing position: {first}"
        elif leaf is not None:
            where = f"first differing leaf: {leaf} (its event is gone)"
        else:
            where = "see findings"
        return f"TAMPERED: {len(self.findings)} finding(s); {where}"


Progress = Callable[[int, int], None]


class _Leaves:
    """Recomputed leaf hashes as a LeafHashes source (no copy: they are ours and 32 bytes)."""

    __slots__ = ("_hashes",)

    def __init__(self, hashes: list[bytes]) -> None:
        self._hashes = hashes

    def __len__(self) -> int:
        return len(self._hashes)

    def leaf_range(self, start: int, end: int) -> list[bytes]:
        return self._hashes[start:end]


def verify(
    app: SupportLedger,
    *,
    public_keys: set[str] | None = None,
    progress: Progress | None = None,
    batch: int = READ_BATCH,
    workers: int | None = None,
    against: list[dict[str, Any]] | None = None,
    ignore_heads: set[int] | None = None,
) -> Report:
    """Verify the whole log (see the module docstring); return the report.

    ``against``: heads kept outside the store (their JSON form, as ``ledger audit heads --json``
    prints them); each must carry a valid signature of a trusted key, else VerificationError.
    ``ignore_heads``: ids of stored head rows known to be junk, left out (and listed).
    """
    started = time.perf_counter()
    report = Report(started_at=utc_timestamp())
    keys = trusted_public_keys() if public_keys is None else set(public_keys)
    kept = list(against or [])
    if kept and not keys:
        raise VerificationError(
            "no trusted public key to check the kept head(s) with: set LEDGER_SIGNING_KEY "
            "(its .pub file is used) or pass --public-key"
        )
    key_objects = public_keys_of(keys)
    for head in kept:
        if not signature_ok(head, key_objects):
            raise VerificationError(
                f"the kept head of size {head.get('tree_size')!r} (timestamp "
                f"{head.get('timestamp')!r}) does not carry a valid signature of a trusted key; "
                "it cannot be trusted (pass the right --public-key)"
            )
    db = audit_db(app)
    with db.read() as cur:
        heads = all_heads(db, cur)
        if ignore_heads:
            report.ignored_heads = sorted(h["id"] for h in heads if h["id"] in ignore_heads)
            heads = [h for h in heads if h["id"] not in ignore_heads]
        if heads and not keys:
            raise VerificationError(
                "there are signed tree heads but no trusted public key to check them with: "
                "set LEDGER_SIGNING_KEY (its .pub file is used) or pass --public-key"
            )
        stored_size = leaf_count(db, cur)
        cur.execute(db.sql("SELECT COUNT(*) FROM {events}"))
        total = int(cur.fetchone()[0])
        stored_nodes: list[tuple] = []
        signed: dict[int, bool] = {}

        def read_nodes() -> None:  # and check signatures, while the workers start up
            cur.execute(db.sql(f"SELECT level, idx, node FROM {{t}}{NODES} ORDER BY level, idx"))
            stored_nodes.extend(cur.fetchall())
            signed.update((id(head), signature_ok(head, key_objects)) for head in heads)

        positions, hashes, cache = _recompute(
            db, cur, batch, total, stored_size, progress, workers, meanwhile=read_nodes
        )
        report.events_checked = len(hashes)
        tree = MerkleTree(_Leaves(hashes), cache, min_cached_level=MIN_CACHED_LEVEL)
        common = min(stored_size, len(hashes))
        # Equal roots over the common prefix mean equal leaves (positions included): only when
        # they differ, or leaves are missing, are the stored leaves read one by one.
        same = common == 0 or stored_tree(db, cur).root(common) == tree.root(common)
        if same and stored_size <= len(hashes):
            report.leaves_checked = stored_size
            report.unindexed_events = len(hashes) - stored_size
            stored_positions: list[int] = positions
        else:
            stored_positions, stored_hashes = _stored_leaves(db, cur, batch)
            _compare_leaves(report, stored_positions, stored_hashes, positions, hashes)
        if report.unindexed_events and not report.findings:
            _report_unindexed(report, positions, len(hashes) - report.unindexed_events)
        leaf_diff = report.findings[0].leaf_index if report.findings else None
        _check_heads(report, heads, signed, tree, positions, stored_positions, leaf_diff)
        if kept:
            _check_kept(report, kept, heads, signed, tree, positions, leaf_diff)
        if not (same and stored_size <= len(hashes)):
            # The cache derives from the stored leaves: check it against those.
            tree = MerkleTree(
                _Leaves(stored_hashes), MemoryNodeCache(), min_cached_level=MIN_CACHED_LEVEL
            )
            positions = stored_positions
        _check_nodes(stored_nodes, report, tree, positions, stored_size)
    report.finished_at = utc_timestamp()
    report.duration_s = round(time.perf_counter() - started, 3)
    return report


def _stored_leaves(db: Any, cur: Any, batch: int) -> tuple[list[int], list[bytes]]:
    positions: list[int] = []
    hashes: list[bytes] = []
    select = db.sql(
        f"SELECT position, leaf_hash FROM {{t}}{LEAVES} WHERE leaf_index >= ? "
        "ORDER BY leaf_index LIMIT ?"
    )
    while True:
        cur.execute(select, (len(hashes), batch))
        rows = cur.fetchall()
        for position, leaf in rows:
            positions.append(int(position))
            hashes.append(as_bytes(leaf))
        if len(rows) < batch:
            return positions, hashes


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


def _recompute(
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
    select = db.sql(event_select("{pos}", "{events}", bounded=len(chunks) > 1))
    helpers: list[_Worker] = []
    claims = tempfile.mkdtemp(prefix="ledger-verify-") if len(chunks) > 1 else ""
    own = 0
    next_report = time.monotonic() + 1.0

    def tick(now_done: int) -> None:
        nonlocal next_report
        if progress is not None and time.monotonic() >= next_report:
            progress(own + now_done + sum(w.done for w in helpers), total)
            next_report = time.monotonic() + 1.0

    results: dict[int, tuple[list[int], list[bytes], Levels]] = {}

    def hash_here(i: int) -> None:
        nonlocal own
        chunk = chunks[i]
        # A reading thread only pays while a CPU is otherwise idle: not when workers run.
        read = read_batches if claims else read_ahead
        rows = read(cur, select, chunk.after, chunk.upto, batch)
        chunk_positions, chunk_hashes = hash_batches(rows, tick)
        own += len(chunk_hashes)
        levels = subtree_levels(chunk_hashes, chunk.first_index, MIN_CACHED_LEVEL)
        results[i] = (chunk_positions, chunk_hashes, levels)

    # (`ledger audit verify` pauses the cyclic garbage collector meanwhile: ledger.tuning)
    try:
        if claims:
            helpers = [_Worker(db, chunks, claims, batch) for _ in range(count - 1)]
        if meanwhile is not None:
            meanwhile()
        for i in range(len(chunks)):
            if not claims or claim(claims, i):
                hash_here(i)
        for worker in helpers:
            while worker.running():
                worker.reader.join(timeout=0.25)  # type: ignore[union-attr]
                tick(0)
            for i, data in worker.results.items():
                results.setdefault(i, unpack(data))
        for i in range(len(chunks)):
            if i not in results:  # claimed by a worker that failed
                hash_here(i)
        positions: list[int] = []
        hashes: list[bytes] = []
        levels: Levels = []
        for i, chunk in enumerate(chunks):
            chunk_positions, chunk_hashes, chunk_levels = results.pop(i)
            if chunk.first_index == len(hashes):  # else its subtrees sit at the wrong indexes
                levels += chunk_levels
            positions += chunk_positions
            hashes += chunk_hashes
    finally:
        for worker in helpers:
            worker.stop()
        if claims:
            shutil.rmtree(claims, ignore_errors=True)
    if progress is not None:
        progress(len(hashes), total)
    cache = MemoryNodeCache()
    cache.put_many(
        (level, first + j, node) for level, first, nodes in levels for j, node in enumerate(nodes)
    )
    return positions, hashes, cache


def _compare_leaves(
    report: Report,
    stored_positions: list[int],
    stored_hashes: list[bytes],
    positions: list[int],
    hashes: list[bytes],
) -> None:
    common = min(len(stored_hashes), len(hashes))
    report.leaves_checked = len(stored_hashes)
    report.unindexed_events = max(0, len(hashes) - len(stored_hashes))
    if stored_hashes[:common] == hashes[:common] and stored_positions[:common] == positions[:common]:
        if len(stored_hashes) > len(hashes):
            i = len(hashes)
            report.findings.append(
                Finding(
                    "removed",
                    f"the event at position {stored_positions[i]} (leaf {i}) and every later "
                    f"indexed one are gone: the log indexed {len(stored_hashes)} events, "
                    f"only {len(hashes)} remain",
                    position=stored_positions[i],
                    leaf_index=i,
                )
            )
        return
    i = next(
        i for i in range(common)
        if stored_hashes[i] != hashes[i] or stored_positions[i] != positions[i]
    )  # fmt: skip
    stored_pos, pos = stored_positions[i], positions[i]
    later = sum(1 for j in range(i, common) if stored_hashes[j] != hashes[j])
    if stored_pos == pos:
        finding = Finding(
            "altered",
            f"the event at position {pos} (leaf {i}) differs from what was indexed",
            position=pos,
            leaf_index=i,
        )
    elif pos < stored_pos:
        finding = Finding(
            "inserted",
            f"an event at position {pos} is not in the Merkle log: it was inserted after "
            f"leaf {i} (position {stored_pos}) was indexed",
            position=pos,
            leaf_index=i,
        )
    else:
        finding = Finding(
            "removed",
            f"the event at position {stored_pos} (leaf {i}) is missing",
            position=stored_pos,
            leaf_index=i,
        )
    if later > 1:
        finding.message += f"; {later} leaves differ from there on"
    report.findings.append(finding)


def _check_heads(
    report: Report,
    heads: list[dict[str, Any]],
    signed: dict[int, bool],
    tree: MerkleTree,
    positions: list[int],
    stored_positions: list[int],
    leaf_diff: int | None,
) -> None:
    """``signed``: whether each head (by ``id()``) carries a valid signature of a trusted key."""
    good_size = 0  # the largest size a valid head vouches for so far
    for head in sorted(heads, key=lambda h: (h["tree_size"], h["id"])):
        report.heads_checked += 1
        size, head_id = head["tree_size"], head["id"]
        if not signed[id(head)]:
            report.findings.append(
                Finding(
                    "head_signature",
                    f"tree head row #{head_id} (size {size}) does not carry a valid signature "
                    "of a trusted key: it was altered, or inserted by someone without the "
                    "signing key (a junk row); it vouches for nothing and later heads are "
                    f"checked without it (once investigated, --ignore-head {head_id} leaves it "
                    "out)",
                    head_id=head_id,
                    tree_size=size,
                )
            )
            continue
        if size > len(tree):
            i = len(tree)
            position = stored_positions[i] if i < len(stored_positions) else None
            report.findings.append(
                Finding(
                    "head_beyond_log",
                    f"tree head #{head_id} vouches for {size} events but only {len(tree)} remain",
                    position=position,
                    leaf_index=i,
                    head_id=head_id,
                    tree_size=size,
                )
            )
            continue
        root = tree.root(size) if size else EMPTY_ROOT
        if root.hex() != head["root_hash"] and leaf_diff is not None and leaf_diff < size:
            report.findings.append(
                Finding(
                    "head_root",
                    f"the events no longer hash to the root signed in tree head #{head_id} "
                    f"(size {size}), as the difference at leaf {leaf_diff} implies",
                    position=positions[leaf_diff] if leaf_diff < len(positions) else None,
                    leaf_index=leaf_diff,
                    head_id=head_id,
                    tree_size=size,
                )
            )
        elif root.hex() != head["root_hash"]:
            low = positions[good_size] if good_size < len(positions) else None
            high = positions[size - 1]
            report.findings.append(
                Finding(
                    "head_root",
                    f"the events no longer hash to the root signed in tree head #{head_id} "
                    f"(size {size}): something between positions {low} and {high} was "
                    "rewritten, with its indexed leaves",
                    position=low,
                    leaf_index=good_size,
                    head_id=head_id,
                    tree_size=size,
                )
            )
            continue
        good_size = max(good_size, size)


def _report_unindexed(report: Report, positions: list[int], first: int) -> None:
    """Events after the last leaf that have none: the recorder writes every leaf with its event."""
    count = len(positions) - first
    report.findings.append(
        Finding(
            "unindexed",
            f"{count} event(s) from position {positions[first]} (leaf {first}) on have no leaf "
            "in the Merkle log: the ledger indexes every event in the transaction that records "
            "it, so these were written around it (if this store was made before leaves were "
            "indexed that way, `ledger audit sign` indexes them once)",
            position=positions[first],
            leaf_index=first,
        )
    )


def _head_key(head: dict[str, Any]) -> tuple:
    return (
        int(head["tree_size"]),
        str(head["root_hash"]).lower(),
        str(head["timestamp"]),
        str(head["signature"]).lower(),
    )


def _check_kept(
    report: Report,
    kept: list[dict[str, Any]],
    heads: list[dict[str, Any]],
    signed: dict[int, bool],
    tree: MerkleTree,
    positions: list[int],
    leaf_diff: int | None,
) -> None:
    """Does the store still contain each head kept outside it (signatures checked already)?

    Where the stored leaves named the first differing leaf (``leaf_diff``), that is the first
    bad position. Otherwise it is bounded below by the largest genuine head — stored or kept —
    whose root the recomputed events still match: every genuine head is a prefix of the same
    append-only log, so the events agree with the kept head at least that far.
    """
    stored = {_head_key(h) for h in heads if signed.get(id(h))}
    matching = [0]
    for head in [*kept, *(h for h in heads if signed.get(id(h)))]:
        size = int(head["tree_size"])
        if size <= len(tree) and (tree.root(size) if size else EMPTY_ROOT).hex() == str(
            head["root_hash"]
        ).lower():
            matching.append(size)
    for head in kept:
        report.against_checked += 1
        size, root = int(head["tree_size"]), str(head["root_hash"]).lower()
        label = f"the kept tree head of size {size} signed at {head['timestamp']}"
        if size > len(tree):
            good = max(m for m in matching if m <= len(tree))
            report.findings.append(
                Finding(
                    "truncated",
                    f"{label} vouches for {size} events but the store holds only {len(tree)}: "
                    f"the log was truncated or wiped; leaf {len(tree)} (of {size}) on is gone"
                    + (f"; only the first {good} events are still vouched for by a genuine head"
                       if good < len(tree) else ""),
                    leaf_index=len(tree),
                    tree_size=size,
                )
            )  # fmt: skip
        elif (tree.root(size) if size else EMPTY_ROOT).hex() != root:
            good = max(m for m in matching if m < size)
            if leaf_diff is not None and leaf_diff < size:
                good = leaf_diff
            report.findings.append(
                Finding(
                    "rewritten",
                    f"the first {size} stored events no longer hash to the root of {label}: "
                    f"the log was rolled back or rewritten between positions {positions[good]} "
                    f"(leaf {good}) and {positions[size - 1]}",
                    position=positions[good],
                    leaf_index=good,
                    tree_size=size,
                )
            )
        if _head_key(head) not in stored:
            report.findings.append(
                Finding(
                    "head_missing",
                    f"{label} is not among the stored tree heads: heads were deleted",
                    tree_size=size,
                )
            )


def _check_nodes(
    rows: list[tuple], report: Report, tree: MerkleTree, positions: list[int], size: int
) -> None:
    """Compare the persisted node cache (``rows`` of level, index, node) with a tree of the
    stored leaves (``tree``)."""
    if size:
        tree.root(size)  # fills the in-memory cache with every complete subtree
    memory = tree.cache
    bad: list[tuple[int, int]] = []
    report.nodes_checked += len(rows)
    get = memory.get
    for level, index, node in rows:
        level, index = int(level), int(index)
        expected = get(level, index) if (index + 1) << level <= size else None
        if expected is None or (expected != node and expected != as_bytes(node)):
            bad.append((level, index))
    if bad:
        level, index = min(bad, key=lambda li: li[1] << li[0])
        first_leaf = index << level
        report.findings.append(
            Finding(
                "node",
                f"{len(bad)} cached Merkle node(s) differ from the tree of the indexed leaves, "
                f"the first covering leaves {first_leaf}..{((index + 1) << level) - 1}",
                position=positions[first_leaf] if first_leaf < len(positions) else None,
                leaf_index=first_leaf,
            )
        )


def load_kept_heads(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The heads in a file kept outside the store, for ``verify --against``.

    The file holds what ``ledger audit heads --json`` prints for one head (a JSON object), a
    JSON list of such objects (each is checked; so the whole output of ``heads --json`` works),
    or one object per line. Each needs ``tree_size``, ``root_hash``, ``timestamp`` and
    ``signature``; other fields (``id``, ``public_key``) are ignored. Raises ValueError naming
    what is wrong.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not JSON (nor JSON Lines): {exc}") from None
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ValueError(f"{path} holds no tree head")
    heads = []
    for n, item in enumerate(items, 1):
        where = f"{path}: head {n}"
        if not isinstance(item, dict):
            raise ValueError(f"{where} is not a JSON object")
        size, root = item.get("tree_size"), item.get("root_hash")
        timestamp, signature = item.get("timestamp"), item.get("signature")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"{where}: tree_size must be a whole number >= 0")
        if not (isinstance(root, str) and len(root) == 64 and _is_hex(root)):
            raise ValueError(f"{where}: root_hash must be 64 hex digits")
        if not isinstance(timestamp, str) or not timestamp:
            raise ValueError(f"{where}: timestamp must be the head's ISO 8601 text")
        if not (isinstance(signature, str) and len(signature) == 128 and _is_hex(signature)):
            raise ValueError(f"{where}: signature must be 128 hex digits")
        heads.append(
            {"tree_size": size, "root_hash": root.lower(), "timestamp": timestamp,
             "signature": signature.lower()}
        )  # fmt: skip
    return heads


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def record(app: SupportLedger, report: Report, exit_code: int | None = None) -> None:
    """Store a verification's outcome (for ``last_verification`` and the web view)."""
    db = audit_db(app)
    code = report.exit_code if exit_code is None else exit_code
    with db.write() as cur:
        cur.execute(
            db.sql(
                f"INSERT INTO {{t}}{VERIFICATIONS} (started_at, finished_at, exit_code, report) "
                "VALUES (?, ?, ?, ?)"
            ),
            (report.started_at, report.finished_at or utc_timestamp(), code,
             json.dumps(report.to_dict(), ensure_ascii=False)),
        )  # fmt: skip


def record_error(app: SupportLedger, started_at: str, error: BaseException) -> None:
    """Store a verification that could not be carried out (exit code 2)."""
    db = audit_db(app)
    data = {"started_at": started_at, "error": str(error), "exit_code": OPERATIONAL_ERROR}
    with db.write() as cur:
        cur.execute(
            db.sql(
                f"INSERT INTO {{t}}{VERIFICATIONS} (started_at, finished_at, exit_code, report) "
                "VALUES (?, ?, ?, ?)"
            ),
            (started_at, utc_timestamp(), OPERATIONAL_ERROR, json.dumps(data, ensure_ascii=False)),
        )


def last_verification(app: SupportLedger) -> dict[str, Any] | None:
    """The most recent stored verification: its report as a dict, or None if none ran yet."""
    db = audit_db(app)
    with db.read() as cur:
        cur.execute(
            db.sql(
                f"SELECT started_at, finished_at, exit_code, report FROM {{t}}{VERIFICATIONS} "
                "ORDER BY id DESC LIMIT 1"
            )
        )
        row = cur.fetchone()
    if row is None:
        return None
    data = json.loads(row[3])
    data.update(started_at=row[0], finished_at=row[1], exit_code=int(row[2]))
    return data
