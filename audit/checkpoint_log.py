"""The log's checkpoints: every signed tree head is also a C2SP checkpoint, stored and served.

:func:`audit.heads.sign_tree_head` signs, in one transaction, the JSON tree head (kept as a view
for ``scripts/verify_proof.py head`` and older tools) and the checkpoint of the same size and
root: a signed note whose key name is the log's origin (``LEDGER_LOG_ORIGIN``, default
:data:`audit.checkpoint.DEFAULT_ORIGIN`). Both are stored in append-only tables; the checkpoint
row (``audit_checkpoints``) names the head row it goes with.

Before signing, the new tree is checked against the largest earlier checkpoint and JSON head
this key signed: it must not be smaller, and a consistency proof from the earlier size must
lead from the earlier root to the new one. Otherwise nothing is signed
(:class:`SigningRefused`): a log must never sign a checkpoint inconsistent with one it signed.

Witnesses (``audit/witness*``) add their cosignatures through :data:`COSIGNATURE_SOURCES`: each
entry is a function ``(app, stored checkpoint) -> list of signature lines`` (each ``"— name
base64\\n"``); :func:`published_note` appends them after the log's signature, and the
``/tlog/checkpoint`` resource and receipts use that note.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from audit.checkpoint import Checkpoint, log_origin, parse_checkpoint, sign_checkpoint
from audit.keys import SigningKeyError
from audit.merkle import EMPTY_ROOT, MerkleTree, verify_consistency
from audit.note import Ed25519Signer, Ed25519Verifier, NoteError, open_note, parse_note

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.application import SupportLedger

CHECKPOINTS = "audit_checkpoints"

SQLITE_CHECKPOINTS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "head_id INTEGER NOT NULL, tree_size INTEGER NOT NULL, root_hash TEXT NOT NULL, "
    "note TEXT NOT NULL)"
)
POSTGRES_CHECKPOINTS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {{s}}.{CHECKPOINTS} (id BIGSERIAL PRIMARY KEY, "
    "head_id BIGINT NOT NULL, tree_size BIGINT NOT NULL, root_hash TEXT NOT NULL, "
    "note TEXT NOT NULL)"
)

#: How many of the largest stored checkpoints are looked at for the largest genuine one.
RECENT_ROWS = 50

#: Functions ``(app, StoredCheckpoint) -> list[str]`` giving cosignature lines to publish.
COSIGNATURE_SOURCES: list[Callable[[Any, StoredCheckpoint], list[str]]] = []


class SigningRefused(SigningKeyError):
    """The log would sign a checkpoint inconsistent with one it signed before: nothing signed."""


@dataclass(frozen=True)
class StoredCheckpoint:
    """A stored checkpoint: its row id, the JSON head row it goes with, itself and its note."""

    id: int
    head_id: int
    checkpoint: Checkpoint
    note: str


def log_signer(private_key: Ed25519PrivateKey, origin: str | None = None) -> Ed25519Signer:
    """The log's note signer: its Ed25519 key under the origin as key name."""
    return Ed25519Signer(origin or log_origin(), private_key)


def log_verifier(public_key: bytes, origin: str | None = None) -> Ed25519Verifier:
    """The verifier of the log's checkpoints for an origin (default: the configured one)."""
    return Ed25519Verifier(origin or log_origin(), public_key)


def genuine(note: str, public_key: bytes) -> Checkpoint | None:
    """The checkpoint of a stored note if this key signed it under the note's origin, else None."""
    try:
        checkpoint = parse_checkpoint(parse_note(note).text)
        open_note(note, [log_verifier(public_key, checkpoint.origin)])
    except NoteError:
        return None
    return checkpoint


def _rows(db: Any, cur: Any, where: str, args: tuple, order: str) -> list[tuple]:
    cur.execute(
        db.sql(
            f"SELECT id, head_id, note FROM {{t}}{CHECKPOINTS} {where} ORDER BY {order} LIMIT ?"
        ),
        (*args, RECENT_ROWS),
    )
    return cur.fetchall()


def _first_genuine(rows: list[tuple], public_key: bytes) -> StoredCheckpoint | None:
    for row_id, head_id, note in rows:
        checkpoint = genuine(note, public_key)
        if checkpoint is not None:
            return StoredCheckpoint(int(row_id), int(head_id), checkpoint, note)
    return None


def latest_checkpoint(db: Any, cur: Any, public_key: bytes) -> StoredCheckpoint | None:
    """The newest stored checkpoint this key signed (rows it did not sign are passed over)."""
    return _first_genuine(_rows(db, cur, "", (), "id DESC"), public_key)


def largest_checkpoint(db: Any, cur: Any, public_key: bytes) -> StoredCheckpoint | None:
    """The stored checkpoint of the largest tree this key signed."""
    return _first_genuine(_rows(db, cur, "", (), "tree_size DESC, id DESC"), public_key)


def checkpoint_for_head(db: Any, cur: Any, head_id: int, public_key: bytes) -> StoredCheckpoint | None:
    """The genuine checkpoint stored with a JSON head row, if any."""
    return _first_genuine(_rows(db, cur, "WHERE head_id = ?", (head_id,), "id"), public_key)


def check_extends(
    tree: MerkleTree, size: int, root: bytes, earlier: list[tuple[int, bytes, str]]
) -> None:
    """Refuse (:class:`SigningRefused`) a tree ``(size, root)`` that does not extend each
    earlier signed ``(size, root, what)``."""
    for old_size, old_root, what in earlier:
        if old_size > size:
            raise SigningRefused(
                f"refusing to sign: the log has {size} entries but {what} signed {old_size} "
                "(was the log truncated?) / 拒绝签名：日志条目少于此前已签名的检查点"
            )
        proof = tree.consistency_proof(old_size, size) if 0 < old_size < size else []
        if old_size == 0:
            ok = old_root == EMPTY_ROOT
        else:
            ok = verify_consistency(old_size, size, old_root, root, proof)
        if not ok:
            raise SigningRefused(
                f"refusing to sign: the tree of {size} entries is not consistent with {what} "
                f"of size {old_size} (the log was rewritten) / 拒绝签名：日志与此前已签名的检查点不一致"
            )


def insert_checkpoint(
    db: Any, cur: Any, head_id: int, signer: Ed25519Signer, size: int, root: bytes
) -> StoredCheckpoint:
    """Sign and store the checkpoint of ``(size, root)`` beside JSON head row ``head_id``."""
    checkpoint = Checkpoint(signer.name, size, root)
    note = sign_checkpoint(checkpoint, [signer])
    cur.execute(
        db.sql(
            f"INSERT INTO {{t}}{CHECKPOINTS} (head_id, tree_size, root_hash, note) "
            "VALUES (?, ?, ?, ?)"
        ),
        (head_id, size, root.hex(), note),
    )
    cur.execute(
        db.sql(f"SELECT id FROM {{t}}{CHECKPOINTS} WHERE head_id = ? ORDER BY id DESC LIMIT 1"),
        (head_id,),
    )
    return StoredCheckpoint(int(cur.fetchone()[0]), head_id, checkpoint, note)


def published_note(app: SupportLedger, stored: StoredCheckpoint) -> str:
    """A stored checkpoint's note with every cosignature line the witnesses' hooks give."""
    lines: list[str] = []
    for source in COSIGNATURE_SOURCES:
        for line in source(app, stored):
            if line not in lines and line not in stored.note:
                lines.append(line if line.endswith("\n") else line + "\n")
    return stored.note + "".join(lines)
