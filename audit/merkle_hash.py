"""The RFC 6962 hash primitives every part of the Merkle log shares (standard library only).

Leaf hash ``SHA-256(0x00 ‖ data)``, interior node ``SHA-256(0x01 ‖ left ‖ right)``, the root of
the empty tree ``SHA-256("")`` (:data:`EMPTY_ROOT`), and the split point of RFC 6962 §2.1.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root hash of the empty tree, SHA-256 of the empty string (RFC 6962 §2.1)."""

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash SHA-256(0x00 ‖ data)."""
    return _sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash SHA-256(0x01 ‖ left ‖ right)."""
    return _sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def level_up(nodes: Sequence[bytes]) -> list[bytes]:
    """Hash a level of a perfect subtree (even length) pairwise into the level above."""
    sha = _sha256
    return [sha(b"\x01" + nodes[i] + nodes[i + 1]).digest() for i in range(0, len(nodes), 2)]


def perfect_root(nodes: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree given its leaf hashes (length a power of two)."""
    while len(nodes) > 1:
        nodes = level_up(nodes)
    return nodes[0]


def compact_range_root(frontier: Sequence[tuple[int, bytes]]) -> bytes:
    """The RFC 6962 root of the tree whose compact range this is: ``(size or level, hash)``
    of each perfect subtree, largest first; the smaller subtrees hang to the right."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


def check_int(name: str, value: object) -> None:
    """Raise TypeError unless ``value`` is an int (bool is not)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
