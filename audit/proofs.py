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
from audit.log import MIN_CACHED_LEVEL, LogError, leaf_index_of, stored_tree
from audit.merkle import EMPTY_ROOT, MerkleTree, consistency_proof_json, inclusion_proof_json

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: How many of the newest head rows are looked at for the latest genuine one.
_RECENT_HEADS = 50
_PLACEHOLDER = bytes(32)


class _Recorder:
    """A leaf source and node cache that hold every node: it records what a computation asks
    for (the shape of a proof decides that, not the hashes), answering with placeholders."""

    def __init__(self, size: int) -> None:
        self._size = size
        self.nodes: list[tuple[int, int]] = []
        self.ranges: list[tuple[int, int]] = []

    def __len__(self) -> int:
        return self._size

    def leaf_range(self, start: int, end: int) -> list[bytes]:
        self.ranges.append((start, end))
        return [_PLACEHOLDER] * (end - start)

    def get(self, level: int, index: int) -> bytes:
        self.nodes.append((level, index))
        return _PLACEHOLDER

    def put(self, level: int, index: int, node: bytes) -> None:
        pass


class _Prefetched:
    """Leaves and nodes read in one statement each, in front of the stored tree's sources (which
    answer anything not read ahead: a node cache not yet brought up to date, say)."""

    def __init__(self, tree: MerkleTree, leaves: dict[int, bytes], nodes: dict[tuple[int, int], bytes]) -> None:
        self._leaves_source = tree.leaves
        self._cache = tree.cache
        self._leaves = leaves
        self._nodes = nodes

    def __len__(self) -> int:
        return len(self._leaves_source)

    def leaf_range(self, start: int, end: int) -> Any:
        found = [self._leaves.get(i) for i in range(start, end)]
        if all(h is not None for h in found):
            return found
        return self._leaves_source.leaf_range(start, end)

    def get(self, level: int, index: int) -> bytes | None:
        node = self._nodes.get((level, index))
        return node if node is not None else self._cache.get(level, index)

    def put(self, level: int, index: int, node: bytes) -> None:
        self._nodes[(level, index)] = node


def _read_ahead(db: Any, cur: Any, tree: MerkleTree, compute: Any) -> MerkleTree:
    """A tree over the stored one whose leaves and nodes for ``compute(tree)`` are read in two
    statements rather than one per node (a proof at a million leaves asks for some forty)."""
    from audit.db import LEAVES, NODES, as_bytes

    recorder = _Recorder(len(tree))
    compute(MerkleTree(recorder, recorder, min_cached_level=MIN_CACHED_LEVEL))
    nodes: dict[tuple[int, int], bytes] = {}
    wanted = sorted(set(recorder.nodes))
    if wanted:
        where = " OR ".join("(level = ? AND idx = ?)" for _ in wanted)
        cur.execute(db.sql(f"SELECT level, idx, node FROM {{t}}{NODES} WHERE {where}"),
                    [x for key in wanted for x in key])  # fmt: skip
        nodes = {(int(lv), int(ix)): as_bytes(node) for lv, ix, node in cur.fetchall()}
    leaves: dict[int, bytes] = {}
    ranges = sorted(set(recorder.ranges))
    if ranges:
        where = " OR ".join("(leaf_index >= ? AND leaf_index < ?)" for _ in ranges)
        cur.execute(db.sql(f"SELECT leaf_index, leaf_hash FROM {{t}}{LEAVES} WHERE {where}"),
                    [x for r in ranges for x in r])  # fmt: skip
        leaves = {int(i): as_bytes(h) for i, h in cur.fetchall()}
    source = _Prefetched(tree, leaves, nodes)
    return MerkleTree(source, source, min_cached_level=MIN_CACHED_LEVEL)


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
        if db.is_postgres:  # a round trip per node costs more there than the recording pass
            tree = _read_ahead(db, cur, tree, lambda t: (
                t.inclusion_proof(leaf_index, size), t.leaf_hash_at(leaf_index), t.root(size)))  # fmt: skip
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
