"""Signed periodic snapshots of the replay state, so that ``replay`` need not read the whole log.

Every ``LEDGER_REPLAY_SNAPSHOT_EVERY`` leaves of the Merkle log (default 50,000; 0 turns them
off) the state of :class:`audit.replay._Books` after the first ``tree_size`` events is stored
in ``audit_replay_snapshots`` (append-only, guarded like the other audit tables), one row with

* ``tree_size``, ``position`` (the log position of leaf ``tree_size - 1``) and ``root_hash``,
  the Merkle root of the log at that size;
* ``last_replayed`` and ``events``: the position of the last money event up to there and how
  many there are (what ``replay`` reports as ``position`` and ``events``);
* ``max_timestamp``: the latest ``timestamp`` of those events; ``previous_position`` and
  ``segment_min_timestamp``: the snapshot it was computed from and the earliest timestamp of
  the money events after that one, up to this one (None when there are none);
* ``state``: the canonical JSON of the state (sorted, compact), zlib-compressed, and
  ``state_digest``: SHA-256 of that JSON;
* ``signature``, ``public_key``: Ed25519 over all of the above (:func:`snapshot_message`),
  with the log's signing key.

A snapshot is used only when it checks out against the log and the trusted keys
(:func:`usable`): its signature verifies under a trusted key (the stored key is never trusted),
the Merkle log still holds ``tree_size`` leaves, leaf ``tree_size - 1`` is at ``position``,
the root at that size is ``root_hash``, and the stored state hashes to ``state_digest``. An
intruder who changes a sum and recomputes the digest cannot sign the row; one who rewrites
the events is caught by the root. A snapshot that fails is passed over (an earlier one, or no
snapshot, is used instead) and logged; ``ledger audit verify`` reports it as
``replay_snapshot_mismatch`` and also recomputes every snapshot from the events, so that even a
row signed with a stolen key but holding wrong sums is named (:func:`check_snapshots`).

For an instant, a snapshot is usable only if every money event up to it is at or before the
instant (``max_timestamp <= instant``): timestamps are not guaranteed to rise with the
position (concurrent writers take them before the insert lock), so a later position may carry
an earlier time. After the base snapshot the events are read, except the segments between
two later snapshots whose earliest timestamp is after the instant (nothing in them counts).

Memory: the state holds one entry per award, per payment and per budget, plus the sums per
enterprise-year and measure-year; it grows with those, not with the length of the log, and a
replay reads the events in bounded batches.
"""

from __future__ import annotations

import logging
import os
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature

from audit.db import LEAVES, as_bytes, audit_db
from audit.events import as_aware
from audit.replay_snapshot_table import SNAPSHOTS
from audit.replay_state import (
    decode_state,
    encode_state,
    state_digest,
    state_digest_of,
    stored_state_digest,
)

if TYPE_CHECKING:
    from audit.replay import _Books
    from ledger.application import SupportLedger

log = logging.getLogger(__name__)

DEFAULT_EVERY = 50_000
#: The stable code of every finding about a snapshot.
MISMATCH = "replay_snapshot_mismatch"
#: Domain separation: a snapshot signature can never pass for a tree head's or a note's.
_MESSAGE_PREFIX = b"songjiang-ledger replay snapshot v1\n"
#: Events decoded per read.
_BATCH = 2_000

_COLUMNS = (
    "tree_size", "position", "root_hash", "last_replayed", "events", "max_timestamp",
    "previous_position", "segment_min_timestamp", "state_digest", "signature", "public_key",
)  # fmt: skip


def snapshot_every() -> int:
    """``LEDGER_REPLAY_SNAPSHOT_EVERY`` (leaves between snapshots; 0: none), else 50,000."""
    text = os.environ.get("LEDGER_REPLAY_SNAPSHOT_EVERY", "").strip().replace("_", "")
    if not text:
        return DEFAULT_EVERY
    if not text.isdigit():
        log.error("LEDGER_REPLAY_SNAPSHOT_EVERY=%r is not a whole number; using %s",
                  text, DEFAULT_EVERY)  # fmt: skip
        return DEFAULT_EVERY
    return int(text)


@dataclass
class Snapshot:
    """One stored row, without its state (read with :func:`load_state`)."""

    id: int
    tree_size: int
    position: int
    root_hash: str
    last_replayed: int
    events: int
    max_timestamp: str | None
    previous_position: int
    segment_min_timestamp: str | None
    state_digest: str
    signature: str
    public_key: str

    def message(self) -> bytes:
        return snapshot_message(self)

    def max_instant(self) -> datetime | None:
        return None if self.max_timestamp is None else as_aware(self.max_timestamp)

    def segment_min_instant(self) -> datetime | None:
        t = self.segment_min_timestamp
        return None if t is None else as_aware(t)


def snapshot_message(s: Any) -> bytes:
    """The signed bytes: every column but the state itself (its digest stands for it)."""
    fields = [str(getattr(s, name)) for name in _COLUMNS[:-2]]
    return _MESSAGE_PREFIX + "\n".join(fields).encode() + b"\n"


def _iso(instant: datetime | None) -> str | None:
    from audit.heads import utc_timestamp

    return None if instant is None else utc_timestamp(instant)


# -- reading the log -----------------------------------------------------------------------


def money_fields(
    app: SupportLedger, after: int, stop: int | None
) -> Iterator[tuple[int, type, str, dict[str, Any]]]:
    """``(position, event class, originator id as UUID text, fields)`` for the money events in
    ``(after, stop]`` (stop None: to the end), decoded from their stored rows
    (:func:`audit.money_rows.money_rows`): what a replay reads."""
    from audit.money_rows import money_rows
    from audit.replay import REPLAYED_TOPICS

    return money_rows(app, REPLAYED_TOPICS, after, stop)


def money_events(app: SupportLedger, after: int, stop: int | None) -> Iterator[tuple[int, Any]]:
    """``(position, event)`` for the money events in ``(after, stop]`` (stop None: to the end),
    as domain events: the reference that :func:`money_fields` is tested against."""
    from audit.replay import REPLAYED_TOPICS

    last: int | None = after if after > 0 else None
    while True:
        notifications = app.recorder.select_notifications(
            start=last, limit=_BATCH, stop=stop, topics=list(REPLAYED_TOPICS),
            inclusive_of_start=False,
        )  # fmt: skip
        for notification in notifications:
            yield notification.id, app.mapper.to_domain_event(notification)
        if len(notifications) < _BATCH:
            return
        last = notifications[-1].id


@dataclass
class Progress:
    """A replay state and what it has seen since its base (for writing the next snapshot)."""

    books: _Books
    last_replayed: int = 0
    events: int = 0
    max_instant: datetime | None = None
    segment_min: datetime | None = None

    def apply_range(self, app: SupportLedger, after: int, stop: int | None) -> None:
        for pos, cls, originator_id, fields in money_fields(app, after, stop):
            self.books.apply_fields(cls, originator_id, fields)
            self.last_replayed = pos
            self.events += 1
            ts = fields["timestamp"]
            if self.max_instant is None or ts > self.max_instant:
                self.max_instant = ts
            if self.segment_min is None or ts < self.segment_min:
                self.segment_min = ts


# -- stored rows ---------------------------------------------------------------------------


def stored_snapshots(app: SupportLedger) -> list[Snapshot]:
    """Every stored row (without its state), in position order."""
    db = audit_db(app)
    with db.read() as cur:
        cur.execute(db.sql(f"SELECT id, {', '.join(_COLUMNS)} FROM {{t}}{SNAPSHOTS} "
                           "ORDER BY position, id"))  # fmt: skip
        return [_row(r) for r in cur.fetchall()]


def _row(r: tuple) -> Snapshot:
    return Snapshot(
        id=int(r[0]), tree_size=int(r[1]), position=int(r[2]), root_hash=str(r[3]),
        last_replayed=int(r[4]), events=int(r[5]), max_timestamp=r[6],
        previous_position=int(r[7]), segment_min_timestamp=r[8], state_digest=str(r[9]),
        signature=str(r[10]), public_key=str(r[11]),
    )  # fmt: skip


def _public_keys(hex_keys: set[str] | None = None) -> list[Any]:
    from audit.heads import public_keys_of
    from audit.keys import SigningKeyError, trusted_public_keys

    try:
        return public_keys_of(trusted_public_keys() if hex_keys is None else hex_keys)
    except (SigningKeyError, OSError, ValueError):
        return []


def signature_ok(snapshot: Snapshot, keys: list[Any]) -> bool:
    try:
        signature = bytes.fromhex(snapshot.signature)
    except ValueError:
        return False
    for key in keys:
        try:
            key.verify(signature, snapshot.message())
        except InvalidSignature:
            continue
        return True
    return False


def problem(
    app: SupportLedger, snapshot: Snapshot, keys: list[Any], *, keep_state: bool = True
) -> tuple[str | None, bytes]:
    """What is wrong with a snapshot against the log and the keys (None: nothing), and its
    state's canonical JSON (empty when it could not be read, or ``keep_state`` is false: then
    the state is only hashed, a piece at a time)."""
    from audit.log import stored_tree

    if not signature_ok(snapshot, keys):
        return "its signature does not verify under a trusted key", b""
    db = audit_db(app)
    with db.read() as cur:
        wrong = _log_mismatch(db, cur, stored_tree(db, cur), snapshot)
        if wrong is not None:
            return wrong, b""
        cur.execute(db.sql(f"SELECT state FROM {{t}}{SNAPSHOTS} WHERE id = ?"), (snapshot.id,))
        stored = cur.fetchone()
    if not keep_state:
        digest = stored_state_digest(as_bytes(stored[0])) if stored[0] is not None else None
        if digest is None:
            return "its state cannot be decompressed", b""
        if digest != snapshot.state_digest:
            return "its state does not hash to its state_digest", b""
        return None, b""
    try:
        encoded = zlib.decompress(as_bytes(stored[0]))
    except (zlib.error, TypeError):
        return "its state cannot be decompressed", b""
    if state_digest(encoded) != snapshot.state_digest:
        return "its state does not hash to its state_digest", b""
    return None, encoded


def base_for(
    app: SupportLedger, *, position: int | None = None, instant: datetime | None = None
) -> tuple[Snapshot | None, _Books | None, list[Snapshot]]:
    """The newest snapshot usable for a target, its state, and the signed rows after it (all
    signed rows when none is usable: their segments may still be skipped, see :func:`ranges_after`).

    Usable: at or before ``position``, or with every money event up to it at or before
    ``instant``; and checked against the log (:func:`problem`). Rows that fail are logged with
    :data:`MISMATCH` and passed over.
    """
    if snapshot_every() == 0:
        return None, None, []
    snapshots = stored_snapshots(app)
    if not snapshots:
        return None, None, []
    keys = _public_keys()
    if not keys:
        return None, None, []
    signed = [s for s in snapshots if signature_ok(s, keys)]
    for s in snapshots:
        if s not in signed:
            log.warning("%s: snapshot #%s at position %s: its signature does not verify under "
                        "a trusted key; not used", MISMATCH, s.id, s.position)  # fmt: skip
    for i in range(len(signed) - 1, -1, -1):
        s = signed[i]
        if position is not None and s.position > position:
            continue
        if instant is not None:
            highest = s.max_instant()
            if highest is not None and highest > instant:
                continue
        wrong, encoded = problem(app, s, keys)
        if wrong is not None:
            log.warning("%s: snapshot #%s at position %s: %s; not used",
                        MISMATCH, s.id, s.position, wrong)  # fmt: skip
            continue
        return s, decode_state(encoded), [t for t in signed[i + 1 :] if t.position > s.position]
    return None, None, signed


def ranges_after(
    app: SupportLedger, start: int, later: list[Snapshot], instant: datetime
) -> list[tuple[int, int | None]]:
    """The ``(after, stop]`` ranges after position ``start`` that may hold money events at or
    before the instant: all of them, except the segments of later signed snapshots whose
    earliest event is later (each such snapshot checked against the log first, all in one
    read of the log, whose node cache they share)."""
    from audit.log import stored_tree

    ranges: list[tuple[int, int | None]] = []
    cursor = start
    db = audit_db(app)
    with db.read() as cur:
        tree = stored_tree(db, cur)
        for s in later:
            if s.previous_position < cursor:
                continue  # a segment overlapping what is already decided: read it
            earliest = s.segment_min_instant()
            if (earliest is None or earliest > instant) and _matches_log(db, cur, tree, s):
                if s.previous_position > cursor:
                    ranges.append((cursor, s.previous_position))
                cursor = s.position
    ranges.append((cursor, None))
    return ranges


def _matches_log(db: Any, cur: Any, tree: Any, snapshot: Snapshot) -> bool:
    """Whether the log still holds the tree a snapshot was taken of (size, position, root)."""
    return _log_mismatch(db, cur, tree, snapshot) is None


def _log_mismatch(db: Any, cur: Any, tree: Any, snapshot: Snapshot) -> str | None:
    """How the log differs from the tree a snapshot was taken of (size, position, root), or
    None when it still holds that tree."""
    if not 1 <= snapshot.tree_size <= len(tree):
        return f"the Merkle log holds {len(tree)} leaves, not {snapshot.tree_size}"
    cur.execute(db.sql(f"SELECT position FROM {{t}}{LEAVES} WHERE leaf_index = ?"),
                (snapshot.tree_size - 1,))  # fmt: skip
    row = cur.fetchone()
    if row is None or int(row[0]) != snapshot.position:
        return f"leaf {snapshot.tree_size - 1} is not at position {snapshot.position}"
    if tree.root(snapshot.tree_size).hex() != snapshot.root_hash:
        return f"the log's root at size {snapshot.tree_size} is not its root_hash"
    return None


# -- writing -------------------------------------------------------------------------------


def take_snapshots(app: SupportLedger, *, every: int | None = None) -> list[Snapshot]:
    """Store the snapshots that are due (every ``every`` leaves); return the new rows.

    Each is computed from the newest valid snapshot before it (else from the start of the log)
    and signed with the signing key (:class:`audit.keys.SigningKeyError` if there is none).
    """
    from audit.heads import utc_timestamp
    from audit.keys import load_private_key, public_key_hex
    from audit.log import leaf_count, stored_tree, update_log
    from audit.replay import _Books

    every = snapshot_every() if every is None else every
    if every <= 0:
        return []
    key = load_private_key()
    public = public_key_hex(key.public_key())
    update_log(app)
    db = audit_db(app)
    with db.read() as cur:
        size = leaf_count(db, cur)
    due_last = size - size % every
    if due_last < every:
        return []
    existing = {s.tree_size for s in stored_snapshots(app) if signature_ok(s, [key.public_key()])}
    targets = [n for n in range(every, due_last + 1, every) if n not in existing]
    if not targets:
        return []
    base, books, _ = base_for(app, position=_position_of_leaf(app, targets[0] - 1) - 1)
    if base is not None and books is not None:
        progress = Progress(books, base.last_replayed, base.events,
                            base.max_instant())  # fmt: skip
        previous = base.position
    else:
        progress, previous = Progress(_Books()), 0
    made: list[Snapshot] = []
    for tree_size in targets:
        position = _position_of_leaf(app, tree_size - 1)
        progress.segment_min = None
        progress.apply_range(app, previous, position)
        encoded = encode_state(progress.books)
        with db.write() as cur:
            root = stored_tree(db, cur).root(tree_size).hex()
            snapshot = Snapshot(
                id=0, tree_size=tree_size, position=position, root_hash=root,
                last_replayed=progress.last_replayed, events=progress.events,
                max_timestamp=_iso(progress.max_instant), previous_position=previous,
                segment_min_timestamp=_iso(progress.segment_min),
                state_digest=state_digest(encoded), signature="", public_key=public,
            )  # fmt: skip
            snapshot.signature = key.sign(snapshot.message()).hex()
            columns = (*_COLUMNS, "created_at", "state")
            values = [getattr(snapshot, c) for c in _COLUMNS]
            cur.execute(
                db.sql(f"INSERT INTO {{t}}{SNAPSHOTS} ({', '.join(columns)}) "
                       f"VALUES ({', '.join('?' for _ in columns)})"),
                (*values, utc_timestamp(), zlib.compress(encoded, 1)),
            )  # fmt: skip
        made.append(snapshot)
        previous = position
    signatures = {s.signature for s in made}
    return [s for s in stored_snapshots(app) if s.signature in signatures]


def _position_of_leaf(app: SupportLedger, leaf_index: int) -> int:
    db = audit_db(app)
    with db.read() as cur:
        cur.execute(db.sql(f"SELECT position FROM {{t}}{LEAVES} WHERE leaf_index = ?"),
                    (leaf_index,))  # fmt: skip
        return int(cur.fetchone()[0])


# -- verification --------------------------------------------------------------------------


def check_snapshots(
    app: SupportLedger,
    public_keys: set[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """Check every stored snapshot against the log and recompute it from the events.

    One pass over the money events from the start recomputes the state, the counts and the
    timestamps at each row's position. Returns ``(rows checked, problems)``, each problem a
    dict ``{"id", "position", "tree_size", "message"}`` (kind :data:`MISMATCH`).
    ``progress(rows checked, rows)`` is called at most once a second, and at the end.
    """
    from audit.replay import _Books

    snapshots = stored_snapshots(app)
    if not snapshots:
        return 0, []
    keys = _public_keys(public_keys)
    problems: list[dict[str, Any]] = []

    def report(s: Snapshot, message: str) -> None:
        problems.append({"id": s.id, "position": s.position, "tree_size": s.tree_size,
                         "message": f"replay snapshot #{s.id} at position {s.position}: {message}"})  # fmt: skip

    # minimum timestamps per stretch between consecutive boundary positions
    boundaries = sorted({s.position for s in snapshots} | {s.previous_position for s in snapshots})
    stretch_min: dict[int, datetime | None] = {}
    state = Progress(_Books())
    previous = 0
    by_position: dict[int, list[Snapshot]] = {}
    for s in snapshots:
        by_position.setdefault(s.position, []).append(s)
    checked, next_report = 0, time.monotonic() + 1.0
    for boundary in boundaries:
        if progress is not None and time.monotonic() >= next_report:
            progress(checked, len(snapshots))
            next_report = time.monotonic() + 1.0
        if boundary > previous:
            state.segment_min = None
            state.apply_range(app, previous, boundary)
            stretch_min[boundary] = state.segment_min
            previous = boundary
        rows = by_position.get(boundary, [])
        if not rows:
            continue
        digest = state_digest_of(state.books)
        checked += len(rows)
        for s in rows:
            wrong, _ = problem(app, s, keys, keep_state=False)
            if wrong is not None:
                report(s, wrong)
                continue
            recomputed = {
                "state_digest": digest, "events": state.events,
                "last_replayed": state.last_replayed,
                "max_timestamp": _iso(state.max_instant),
            }  # fmt: skip
            for name, value in recomputed.items():
                if getattr(s, name) != value:
                    report(s, f"its {name} is {getattr(s, name)!r}, the events give {value!r}")
    for s in snapshots:
        mins = [m for b, m in stretch_min.items() if s.previous_position < b <= s.position]
        earliest = _iso(min((m for m in mins if m is not None), default=None))
        if s.segment_min_timestamp != earliest and not any(p["id"] == s.id for p in problems):
            report(s, f"its segment_min_timestamp is {s.segment_min_timestamp!r}, "
                      f"the events give {earliest!r}")  # fmt: skip
    if progress is not None:
        progress(len(snapshots), len(snapshots))
    return len(snapshots), problems
