"""Inclusion proofs read their leaves and nodes ahead in two statements (PostgreSQL): the same
proofs as a tree rebuilt from the stored leaves, also where the node cache lags the log."""

from __future__ import annotations

from audit.db import audit_db
from audit.heads import sign_tree_head
from audit.log import stored_tree
from audit.merkle import MerkleTree, verify_inclusion
from audit.proofs import inclusion_proof
from tests import factories as f


def leaf_hashes(app) -> list[bytes]:  # type: ignore[no-untyped-def]
    db = audit_db(app)
    with db.read() as cur:
        tree = stored_tree(db, cur)
        return list(tree.leaves.leaf_range(0, len(tree)))


def test_proofs_match_a_tree_rebuilt_from_the_leaves_at_every_position_and_size(ledger) -> None:  # type: ignore[no-untyped-def]
    sign_tree_head(ledger)  # the node cache covers the log up to here…
    for n in range(9):  # …and not the events after it (their leaves exist, their nodes not)
        ledger.execute(f.award(f"A-x{n}", amount_fen=100_000), "olga")
    hashes = leaf_hashes(ledger)
    rebuilt = MerkleTree.from_leaf_hashes(hashes)
    end = ledger.log_position()
    sizes = sorted({1, 2, 15, 16, 17, 31, 32, 33, len(hashes) - 1, len(hashes)})
    checked = 0
    for position in range(1, end + 1):
        for size in sizes:
            index = position - 1  # SQLite and a fresh PostgreSQL store number without gaps
            if not index < size <= len(hashes):
                continue
            proof = inclusion_proof(ledger, position, size)
            assert proof["leaf_index"] == index
            assert proof["root_hash"] == rebuilt.root(size).hex()
            assert proof["audit_path"] == [h.hex() for h in rebuilt.inclusion_proof(index, size)]
            assert verify_inclusion(hashes[index], index, size,
                                    [bytes.fromhex(h) for h in proof["audit_path"]],
                                    rebuilt.root(size))  # fmt: skip
            checked += 1
    assert checked > 3 * end
