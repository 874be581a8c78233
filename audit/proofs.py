"""Inclusion and consistency proofs over the stored Merkle log, in the JSON forms of DESIGN §6.

Both functions only read: they answer from the leaves and node cache that
:func:`audit.log.update_log` maintains (the CLI updates the log first; the worker and every
signing do too). Hashes are lowercase hex. An inclusion proof also says which log ``position``
its leaf stands for; ``scripts/verify_proof.py`` ignores that extra field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audit.db import HEADS, audit_db
from audit.heads import head_json, public_keys_of, signature_ok
from audit.keys import SigningKeyError, trusted_public_keys
from audit.log import LogError, leaf_index_of, stored_tree
from audit.merkle import EMPTY_ROOT, consistency_proof_json, inclusion_proof_json

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: How many of the newest head rows are looked at for the latest genuine one.
_RECENT_HEADS = 50


def _default_size(db: Any, cur: Any, leaf_index: int, available: int) -> int:
    """The latest genuine head's size if it includes the leaf, else the whole log.

    Genuine: signed by a trusted key (junk rows are passed over); without a configured key,
    the latest row.
    """
    try:
        keys = public_keys_of(trusted_public_keys())
    except (SigningKeyError, OSError, ValueError):
        keys = []
    cur.execute(
        db.sql(
            "SELECT id, tree_size, root_hash, timestamp, signature, public_key "
            f"FROM {{t}}{HEADS} ORDER BY id DESC LIMIT ?"
        ),
        (_RECENT_HEADS if keys else 1,),
    )
    for row in cur.fetchall():
        head = head_json(row)
        if keys and not signature_ok(head, keys):
            continue
        size = int(head["tree_size"])
        return size if leaf_index < size <= available else available
    return available


def inclusion_proof(app: SupportLedger, position: int, tree_size: int | None = None) -> dict[str, Any]:
    """The inclusion proof of the event at a log position in the tree of ``tree_size`` leaves.

    ``tree_size`` defaults to the latest signed head's size when that head includes the event,
    else to the whole Merkle log. Raises :class:`audit.log.LogError` if the position is not
    indexed or the size is out of range.
    """
    db = audit_db(app)
    with db.read() as cur:
        leaf_index = leaf_index_of(db, cur, position)
        if leaf_index is None:
            raise LogError(
                f"position {position} is not in the Merkle log (no such event, or not indexed "
                "yet: sign a tree head or run `ledger audit sign`)"
            )
        tree = stored_tree(db, cur)
        size = _default_size(db, cur, leaf_index, len(tree)) if tree_size is None else tree_size
        if not leaf_index < size <= len(tree):
            raise LogError(
                f"position {position} (leaf {leaf_index}) is not inside a tree of size {size} "
                f"(the Merkle log holds {len(tree)} events)"
            )
        path = tree.inclusion_proof(leaf_index, size)
        proof = inclusion_proof_json(
            size, leaf_index, tree.leaf_hash_at(leaf_index), path, tree.root(size)
        )
    proof["position"] = position
    return proof


def consistency_proof(app: SupportLedger, first: int, second: int) -> dict[str, Any]:
    """The proof that the tree of ``second`` leaves extends the tree of ``first`` leaves."""
    db = audit_db(app)
    with db.read() as cur:
        tree = stored_tree(db, cur)
        if not 0 <= first <= second <= len(tree):
            raise LogError(
                f"sizes {first} and {second} must satisfy 0 <= first <= second <= {len(tree)} "
                "(the size of the Merkle log)"
            )
        path = tree.consistency_proof(first, second)
        first_root = tree.root(first) if first else EMPTY_ROOT
        second_root = tree.root(second) if second else EMPTY_ROOT
        return consistency_proof_json(first, second, first_root, second_root, path)
