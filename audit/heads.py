"""Signed tree heads: ``{tree_size, root_hash, timestamp, signature}`` over the Merkle log.

A tree head states the root hash of the first ``tree_size`` events of the log; its Ed25519
signature covers :func:`audit.merkle.tree_head_message` of those three fields. The timestamp is
the signing instant in UTC as ISO 8601 text (``2025-06-30T08:00:00.123456Z``). Every head is
stored in ``audit_tree_heads`` (append-only) together with the public key that made it; the
JSON form of a head, which ``scripts/verify_proof.py head`` checks, is :func:`head_json`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from audit.db import HEADS, audit_db
from audit.keys import load_private_key, public_key_hex
from audit.log import stored_tree, update_log
from audit.merkle import EMPTY_ROOT, tree_head_message

#: The most heads one listing returns.
MAX_HEADS = 1_000

_COLUMNS = "id, tree_size, root_hash, timestamp, signature, public_key"


def head_json(row: tuple) -> dict[str, Any]:
    """A stored head row as its JSON form (the verifier's four fields, plus id and key)."""
    head_id, tree_size, root_hash, timestamp, signature, public_key = row
    return {
        "id": int(head_id),
        "tree_size": int(tree_size),
        "root_hash": root_hash,
        "timestamp": timestamp,
        "signature": signature,
        "public_key": public_key,
    }


def utc_timestamp(now: datetime | None = None) -> str:
    """An instant as the ISO 8601 UTC text tree heads carry."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def sign_tree_head(
    app: Any,
    *,
    key_path: str | os.PathLike[str] | None = None,
    only_if_grown: bool = False,
) -> dict[str, Any] | None:
    """Index new events, sign a head for the whole log, store it and return its JSON form.

    With ``only_if_grown`` (the worker's hourly job), nothing is signed, and None is returned,
    when the latest head already covers every event.
    """
    key = load_private_key(key_path)
    update_log(app)
    db = audit_db(app)
    with db.write() as cur:
        tree = stored_tree(db, cur)
        size = len(tree)
        if only_if_grown:
            cur.execute(db.sql(f"SELECT MAX(tree_size) FROM {{t}}{HEADS}"))
            (latest,) = cur.fetchone()
            if latest is not None and int(latest) >= size:
                return None
        root_hex = (tree.root(size) if size else EMPTY_ROOT).hex()
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
        cur.execute(db.sql(f"SELECT {_COLUMNS} FROM {{t}}{HEADS} ORDER BY id DESC LIMIT 1"))
        return head_json(cur.fetchone())


def latest_heads(app: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent signed tree heads, newest first (at most ``MAX_HEADS``)."""
    limit = max(0, min(int(limit), MAX_HEADS))
    db = audit_db(app)
    with db.read() as cur:
        cur.execute(
            db.sql(f"SELECT {_COLUMNS} FROM {{t}}{HEADS} ORDER BY id DESC LIMIT ?"), (limit,)
        )
        return [head_json(row) for row in cur.fetchall()]


def latest_head(app: Any) -> dict[str, Any] | None:
    """The most recent signed tree head, or None before the first."""
    heads = latest_heads(app, 1)
    return heads[0] if heads else None


def all_heads(db: Any, cur: Any) -> list[dict[str, Any]]:
    """Every stored head in the order they were signed (for verification)."""
    cur.execute(db.sql(f"SELECT {_COLUMNS} FROM {{t}}{HEADS} ORDER BY id"))
    return [head_json(row) for row in cur.fetchall()]
