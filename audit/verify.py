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
4a. checks every stored replay snapshot against the log and the trusted keys, and recomputes it
   from the events (kind ``replay_snapshot_mismatch``, :mod:`audit.replay_snapshots`);
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

The events are read once, as a stream: what is held at once does not grow with the log (the
compact range of the leaves so far, the roots at the heads' sizes, a batch of the node cache
per level; :mod:`audit.verify_stream`). Where the stored leaves do not match the events, the
events are read once more beside them, to name the first difference. On SQLite a large log is
hashed by this process and worker processes together (:mod:`audit.verify_workers`); findings
are the same either way. The checks live beside this
entry point: the stored leaves and node cache in :mod:`audit.verify_leaves`, the signed heads
(stored and kept) in :mod:`audit.verify_heads`, the findings in :mod:`audit.verify_report`.

The result is a :class:`Report`; ``exit_code`` is 0 when intact and 1 when anything differs.
Operational problems (no database, no trusted key while heads exist) raise
:class:`VerificationError` (the CLI's exit code 2). Each run's report can be stored in
``audit_verifications`` for the web's audit page (:func:`record`, :func:`last_verification`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.db import VERIFICATIONS, audit_db
from audit.hashworker import POSITION_MIN, event_select, read_batches
from audit.heads import all_heads, public_keys_of, signature_ok, utc_timestamp
from audit.keys import trusted_public_keys
from audit.log import MIN_CACHED_LEVEL, READ_BATCH, leaf_count, stored_tree
from audit.merkle import MerkleTree  # noqa: F401  (recompute's lists as a tree, in tests)
from audit.merkle_cache import ListLeafHashes as _Leaves  # noqa: F401  (the same)
from audit.verify_heads import check_heads, check_kept
from audit.verify_leaves import (
    compare_leaves,
    report_nodes,
    report_unindexed,
    stored_leaf_batches,
    stored_position_at,
)
from audit.verify_report import (
    INTACT,
    OPERATIONAL_ERROR,
    TAMPERED,
    Finding,
    Report,
    VerificationError,
)
from audit.verify_stream import NodeCheck, Positions, Roots, TreeStream
from audit.verify_workers import Progress, hash_log, worker_count
from ledger.leaves import row_leaf_hashes_split

if TYPE_CHECKING:
    from ledger.application import SupportLedger

__all__ = [
    "INTACT",
    "OPERATIONAL_ERROR",
    "TAMPERED",
    "Finding",
    "Progress",
    "Report",
    "VerificationError",
    "last_verification",
    "load_kept_heads",
    "record",
    "record_error",
    "verify",
    "worker_count",
]


def verify(
    app: SupportLedger,
    *,
    public_keys: set[str] | None = None,
    progress: Progress | None = None,
    batch: int = READ_BATCH,
    workers: int | None = None,
    against: list[dict[str, Any]] | None = None,
    ignore_heads: set[int] | None = None,
    snapshot_progress: Progress | None = None,
) -> Report:
    """Verify the whole log (see the module docstring); return the report.

    ``progress(events hashed, events)`` and ``snapshot_progress(replay snapshots checked,
    replay snapshots)`` are called at most once a second, and at the end of each.

    ``against``: heads kept outside the store (their JSON form, as ``ledger audit heads --json``
    prints them); each must carry a valid signature of a trusted key, else VerificationError.
    ``ignore_heads``: ids of stored head rows known to be junk, left out (and listed).
    """
    started = time.perf_counter()
    report = Report(started_at=utc_timestamp())
    keys = trusted_public_keys() if public_keys is None else set(public_keys)
    kept = list(against or [])
    key_objects = _keys_for_kept(keys, kept)
    db = audit_db(app)
    with db.read() as cur:
        heads = _stored_heads(db, cur, report, keys, ignore_heads)
        _verify_snapshot(
            db, cur, report, heads, kept, key_objects, progress=progress, batch=batch,
            workers=workers,
        )  # fmt: skip
    _check_replay_snapshots(app, report, keys, snapshot_progress)
    report.finished_at = utc_timestamp()
    report.duration_s = round(time.perf_counter() - started, 3)
    return report


def _check_replay_snapshots(
    app: SupportLedger, report: Report, keys: set[str], progress: Progress | None = None
) -> None:
    """Check the stored replay snapshots against the log and recompute each from the events."""
    from audit.replay_snapshots import MISMATCH, check_snapshots

    checked, problems = check_snapshots(app, keys, progress)
    report.replay_snapshots_checked = checked
    for p in problems:
        report.findings.append(Finding(kind=MISMATCH, message=p["message"],
                                       tree_size=p["tree_size"]))  # fmt: skip


def _keys_for_kept(keys: set[str], kept: list[dict[str, Any]]) -> list[Any]:
    """The trusted keys as key objects, once every kept head is found signed by one of them."""
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
    return key_objects


def _stored_heads(
    db: Any, cur: Any, report: Report, keys: set[str], ignore_heads: set[int] | None
) -> list[dict[str, Any]]:
    """The stored head rows to check (those in ``ignore_heads`` left out and listed)."""
    heads = all_heads(db, cur)
    if ignore_heads:
        report.ignored_heads = sorted(h["id"] for h in heads if h["id"] in ignore_heads)
        heads = [h for h in heads if h["id"] not in ignore_heads]
    if heads and not keys:
        raise VerificationError(
            "there are signed tree heads but no trusted public key to check them with: "
            "set LEDGER_SIGNING_KEY (its .pub file is used) or pass --public-key"
        )
    return heads


def _verify_snapshot(
    db: Any,
    cur: Any,
    report: Report,
    heads: list[dict[str, Any]],
    kept: list[dict[str, Any]],
    key_objects: list[Any],
    *,
    progress: Progress | None,
    batch: int,
    workers: int | None,
) -> None:
    """Recompute the log in this read snapshot and check leaves, heads, kept heads and nodes.

    The events are read once, as a stream (:class:`audit.verify_stream.TreeStream`), keeping
    only the roots at the heads' sizes, the positions findings may name, and the comparison of
    each completed subtree with the stored node cache. Only where the stored leaves do not
    match the events (tampering) are the events read a second time, beside the stored leaves,
    to name the first difference.
    """
    stored_size = leaf_count(db, cur)
    cur.execute(db.sql("SELECT COUNT(*) FROM {events}"))
    total = int(cur.fetchone()[0])
    common = min(stored_size, total)
    signed: dict[int, bool] = {}

    def check_signatures() -> None:  # while the workers start up
        signed.update((id(head), signature_ok(head, key_objects)) for head in heads)

    sizes = {common, *(int(h["tree_size"]) for h in [*heads, *kept])}
    indices = {0, stored_size, *(i for size in sizes for i in (size - 1, size))}
    nodes_cur = db.sibling_cursor(cur)  # the node cache, read alongside the events
    nodes = NodeCheck(db, nodes_cur)
    stream = TreeStream(sizes, indices, min_level=MIN_CACHED_LEVEL, on_node=nodes.expect,
                        node_limit=stored_size)  # fmt: skip
    hashed = hash_log(db, cur, stream, batch=batch, total=total, stored_size=stored_size,
                      progress=progress, workers=workers, meanwhile=check_signatures)  # fmt: skip
    stream.finish()
    if hashed != total:
        raise VerificationError(
            f"{hashed} events were read where the snapshot counted {total}: verify again"
        )
    report.events_checked = total
    tree = Roots(total, stream.roots)
    positions = Positions(total, stream.positions, _event_position_at(db, cur))
    # Equal roots over the common prefix mean equal leaves (positions included): only when
    # they differ, or leaves are missing, are the stored leaves read one by one.
    same = common == 0 or stored_tree(db, cur).root(common) == stream.roots[common]
    if same and stored_size <= total:
        report.leaves_checked = stored_size
        report.unindexed_events = total - stored_size
        stored_positions: Any = positions
    else:
        nodes = _compare_with_stored_leaves(db, cur, nodes_cur, report, stream, batch=batch,
                                            total=total, stored_size=stored_size)  # fmt: skip
        stored_positions = Positions(stored_size, {}, stored_position_at(db, cur))
    if report.unindexed_events and not report.findings:
        report_unindexed(report, positions, total - report.unindexed_events)
    leaf_diff = report.findings[0].leaf_index if report.findings else None
    check_heads(report, heads, signed, tree, positions, stored_positions, leaf_diff)
    if kept:
        check_kept(report, kept, heads, signed, tree, positions, leaf_diff)
    report_nodes(report, nodes, stored_positions)


def _compare_with_stored_leaves(
    db: Any, cur: Any, nodes_cur: Any, report: Report, stream: TreeStream, *, batch: int,
    total: int, stored_size: int,
) -> NodeCheck:  # fmt: skip
    """The events read again beside the stored leaves, to name the first difference; the node
    cache is checked against the tree of the stored leaves (it derives from those). Returns
    that check, to report."""
    nodes = NodeCheck(db, nodes_cur)
    indexed = TreeStream(min_level=MIN_CACHED_LEVEL, on_node=nodes.expect,
                         node_limit=stored_size)  # fmt: skip
    compare_leaves(
        report, _event_leaf_batches(db, cur, batch),
        _building(stored_leaf_batches(db, cur, batch), indexed),
        total=total, stored_size=stored_size, positions=stream.positions,
    )  # fmt: skip
    indexed.finish()
    return nodes


def _building(
    batches: Iterator[tuple[list[int], list[bytes]]], tree: TreeStream
) -> Iterator[tuple[list[int], list[bytes]]]:
    """The batches, each also fed to ``tree`` as it passes."""
    for positions, hashes in batches:
        tree.add_leaves(positions, hashes)
        yield positions, hashes


def _event_leaf_batches(db: Any, cur: Any, batch: int) -> Iterator[tuple[list[int], list[bytes]]]:
    """Every event's position and leaf hash, a batch at a time, in position order."""
    select = db.sql(event_select("{pos}", "{events}", bounded=False))
    for rows in read_batches(cur, select, POSITION_MIN, None, batch):
        yield row_leaf_hashes_split(rows)


def _event_position_at(db: Any, cur: Any) -> Callable[[int], int]:
    """Look up the position of the event at a leaf index (the index-th event)."""
    select = db.sql("SELECT {pos} FROM {events} ORDER BY {pos} LIMIT 1 OFFSET ?")

    def look_up(index: int) -> int:
        cur.execute(select, (index,))
        return int(cur.fetchone()[0])

    return look_up


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
    """Store a verification's outcome (for ``last_verification`` and the web's audit page)."""
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
