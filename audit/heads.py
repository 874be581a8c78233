"""Signed tree heads: ``{tree_size, root_hash, timestamp, signature}`` over the Merkle log.

A tree head gives the root hash of the first ``tree_size`` events of the log; its Ed25519
signature covers :func:`audit.merkle.tree_head_message` of those three fields. The timestamp is
the signing instant in UTC as ISO 8601 text (``2025-06-30T08:00:00.123456Z``). Every head is
stored in ``audit_tree_heads`` (append-only) together with the public key that made it; the
JSON form of a head, which ``scripts/verify_proof.py head`` checks, is :func:`head_json`.

A row of ``audit_tree_heads`` is a head only if its signature verifies under a trusted key
(:func:`signature_ok`); the key stored in the row is never trusted. Rows that do not verify
(written by an intruder, or by the application's role, which may INSERT there) are ignored when
deciding whether the log grew since the latest head, and reported by verification.

Every head is signed together with its C2SP checkpoint (:mod:`audit.checkpoint_log`), the same
size and root as a signed note under the log's origin; the JSON head is a view of that
checkpoint (its ``checkpoint`` field holds the note). Nothing is signed when the tree does not
extend the largest checkpoint or head signed before (:class:`audit.checkpoint_log.SigningRefused`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoint import log_origin
from audit.checkpoint_log import (
    CHECKPOINTS,
    check_extends,
    insert_checkpoint,
    largest_checkpoint,
    latest_checkpoint,
    log_signer,
)
from audit.db import HEADS, audit_db
from audit.keys import load_private_key, public_key_hex
from audit.log import leaf_count, stored_tree, unindexed_after, update_log
from audit.merkle import EMPTY_ROOT, tree_head_message

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: The most heads one listing returns.
MAX_HEADS = 1_000
#: How many of the newest rows that claim to cover the log are checked for a genuine head.
GROWN_CHECK_ROWS = 50

_COLUMNS = "id, tree_size, root_hash, timestamp, signature, public_key"


def head_json(row: tuple) -> dict[str, Any]:
    """A stored head row as its JSON form (the verifier's four fields, plus id and key).

    A seventh column, when present, is the checkpoint note signed with the head (``checkpoint``;
    None for heads signed before checkpoints existed).
    """
    head_id, tree_size, root_hash, timestamp, signature, public_key = row[:6]
    head = {
        "id": int(head_id),
        "tree_size": int(tree_size),
        "root_hash": root_hash,
        "timestamp": timestamp,
        "signature": signature,
        "public_key": public_key,
    }
    if len(row) > 6:
        head["checkpoint"] = row[6]
    return head


def utc_timestamp(now: datetime | None = None) -> str:
    """An instant as the ISO 8601 UTC text tree heads carry."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def signature_ok(head: dict[str, Any], public_keys: list[Ed25519PublicKey]) -> bool:
    """Whether a head (its JSON form) carries a valid signature of one of these keys."""
    try:
        message = tree_head_message(
            int(head["tree_size"]), str(head["root_hash"]), str(head["timestamp"])
        )
        signature = bytes.fromhex(str(head["signature"]))
    except (KeyError, ValueError, TypeError):
        return False
    for key in public_keys:
        try:
            key.verify(signature, message)
        except InvalidSignature:
            continue
        return True
    return False


def public_keys_of(hex_keys: set[str] | list[str]) -> list[Ed25519PublicKey]:
    """Public keys given as 64 hex digits each, as key objects."""
    return [Ed25519PublicKey.from_public_bytes(bytes.fromhex(k)) for k in sorted(hex_keys)]


def _covered(db: Any, cur: Any, size: int, public_key: Ed25519PublicKey) -> bool:
    """Whether the newest checkpoint this key signed covers ``size`` leaves under the origin."""
    latest = latest_checkpoint(db, cur, _raw(public_key))
    return (
        latest is not None
        and latest.checkpoint.tree_size >= size
        and latest.checkpoint.origin == log_origin()
    )


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return bytes.fromhex(public_key_hex(public_key))


def _earlier(db: Any, cur: Any, public_key: Ed25519PublicKey) -> list[tuple[int, bytes, str]]:
    """The largest checkpoint and the largest JSON head this key signed, as (size, root, what)."""
    earlier = []
    stored = largest_checkpoint(db, cur, _raw(public_key))
    if stored is not None:
        cp = stored.checkpoint
        earlier.append((cp.tree_size, cp.root_hash, f"checkpoint #{stored.id}"))
    cur.execute(
        db.sql(f"SELECT {_COLUMNS} FROM {{t}}{HEADS} ORDER BY tree_size DESC, id DESC LIMIT ?"),
        (GROWN_CHECK_ROWS,),
    )
    for row in cur.fetchall():
        head = head_json(row)
        if signature_ok(head, [public_key]):
            root = bytes.fromhex(head["root_hash"])
            earlier.append((head["tree_size"], root, f"tree head #{head['id']}"))
            break
    return earlier


def sign_tree_head(
    app: SupportLedger,
    *,
    key_path: str | os.PathLike[str] | None = None,
    only_if_grown: bool = False,
) -> dict[str, Any] | None:
    """Index new events, sign a head for the whole log, store it and return its JSON form.

    With ``only_if_grown`` (the worker's job, every minute), nothing is signed, and None is
    returned, when a genuine head (one this key signed) already covers every event; that check
    is one read transaction of a few indexed look-ups, taking no write lock. Rows of
    ``audit_tree_heads`` this key did not sign never count as covering the log.
    """
    key = load_private_key(key_path)
    db = audit_db(app)
    if only_if_grown:
        with db.read() as cur:
            if unindexed_after(db, cur) is None and _covered(
                db, cur, leaf_count(db, cur), key.public_key()
            ):
                return None
    update_log(app)
    with db.write() as cur:
        tree = stored_tree(db, cur)
        size = len(tree)
        if only_if_grown and _covered(db, cur, size, key.public_key()):
            return None
        root = tree.root(size) if size else EMPTY_ROOT
        check_extends(tree, size, root, _earlier(db, cur, key.public_key()))
        root_hex = root.hex()
        timestamp = utc_timestamp()
        signature = key.sign(tree_head_message(size, root_hex, timestamp)).hex()
        public = public_key_hex(key.public_key())
        cur.execute(
            db.sql(
                f"INSERT INTO {{t}}{HEADS} (tree_size, root_hash, timestamp, signature, "
                "public_key) VALUES (?, ?, ?, ?, ?)"
            ),
            (size, root_hex, timestamp, signature, public),
        )
        cur.execute(
            db.sql(
                f"SELECT {_COLUMNS} FROM {{t}}{HEADS} WHERE signature = ? ORDER BY id DESC LIMIT 1"
            ),
            (signature,),
        )
        head = head_json(cur.fetchone())
        stored = insert_checkpoint(db, cur, head["id"], log_signer(key), size, root)
        head["checkpoint"] = stored.note
        return head


def latest_heads(app: SupportLedger, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent signed tree heads, newest first (at most ``MAX_HEADS``)."""
    limit = max(0, min(int(limit), MAX_HEADS))
    db = audit_db(app)
    with db.read() as cur:
        cur.execute(
            db.sql(
                f"SELECT h.id, h.tree_size, h.root_hash, h.timestamp, h.signature, "
                f"h.public_key, (SELECT c.note FROM {{t}}{CHECKPOINTS} c WHERE c.head_id = h.id "
                f"ORDER BY c.id LIMIT 1) FROM {{t}}{HEADS} h ORDER BY h.id DESC LIMIT ?"
            ),
            (limit,),
        )
        return [head_json(row) for row in cur.fetchall()]


def all_heads(db: Any, cur: Any) -> list[dict[str, Any]]:
    """Every stored head in the order they were signed (for verification)."""
    cur.execute(db.sql(f"SELECT {_COLUMNS} FROM {{t}}{HEADS} ORDER BY id"))
    return [head_json(row) for row in cur.fetchall()]
