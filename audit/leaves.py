"""The leaf hash of a stored event: defined in :mod:`ledger.leaves`, re-exported here.

The ledger's recorder indexes every event's leaf in the transaction that records it, so the
function lives in the ledger package (which must not import the audit); the audit uses the
very same function to recompute leaves when it verifies.
"""

from __future__ import annotations

from ledger.leaves import (
    LEAF_PREFIX,
    canonical_id,
    event_bytes,
    event_leaf_hash,
    row_leaf_hashes,
    row_leaf_hashes_split,
)

__all__ = [
    "LEAF_PREFIX",
    "canonical_id",
    "event_bytes",
    "event_leaf_hash",
    "row_leaf_hashes",
    "row_leaf_hashes_split",
]
