"""Leaf sources and node caches for :class:`audit.merkle.MerkleTree` (the in-memory kinds).

A :class:`LeafHashes` source holds the leaf hashes of a log in order (``len()`` and
``leaf_range(start, end)``); a :class:`NodeCache` holds the hashes of complete, aligned perfect
subtrees. The stored kinds, over ``audit_leaves`` and ``audit_nodes``, are in :mod:`audit.log`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from audit.merkle_hash import HASH_SIZE


@runtime_checkable
class LeafHashes(Protocol):
    """The leaf hashes of a log, in log order (an append-only sequence)."""

    def __len__(self) -> int:
        """The number of leaves currently in the log."""
        ...

    def leaf_range(self, start: int, end: int) -> Sequence[bytes]:
        """The leaf hashes for the indexes ``[start, end)``, all 32 bytes long."""
        ...


class ListLeafHashes:
    """A :class:`LeafHashes` source kept in a Python list (tests, tools, small logs)."""

    __slots__ = ("_hashes",)

    def __init__(self, hashes: Iterable[bytes] = ()) -> None:
        self._hashes: list[bytes] = []
        self.extend(hashes)

    def __len__(self) -> int:
        return len(self._hashes)

    def leaf_range(self, start: int, end: int) -> list[bytes]:
        return self._hashes[start:end]

    def append(self, hash_: bytes) -> None:
        """Append one leaf hash (32 bytes)."""
        self.extend((hash_,))

    def extend(self, hashes: Iterable[bytes]) -> None:
        """Append leaf hashes (32 bytes each) in order."""
        new = [bytes(h) for h in hashes]
        for h in new:
            if len(h) != HASH_SIZE:
                raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes, not {len(h)}")
        self._hashes.extend(new)


@runtime_checkable
class NodeCache(Protocol):
    """Storage for the hashes of complete, aligned perfect subtrees.

    ``(level, index)`` names the subtree of ``2**level`` leaves starting at leaf
    ``index * 2**level``. :class:`MerkleTree` only stores subtrees whose leaves all exist, so an
    entry never changes once written; a persistent implementation may treat ``put`` of an
    existing key as a no-op. An implementation may also offer
    ``put_many(items: Iterable[tuple[int, int, bytes]])``, which the tree then uses to store a
    batch at once.
    """

    def get(self, level: int, index: int) -> bytes | None:
        """The stored hash of subtree ``(level, index)``, or None."""
        ...

    def put(self, level: int, index: int, node: bytes) -> None:
        """Store the hash of subtree ``(level, index)``."""
        ...


class MemoryNodeCache:
    """An in-memory :class:`NodeCache` (a dict of dicts, one per level)."""

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: dict[int, dict[int, bytes]] = {}

    def get(self, level: int, index: int) -> bytes | None:
        nodes = self._levels.get(level)
        return None if nodes is None else nodes.get(index)

    def put(self, level: int, index: int, node: bytes) -> None:
        self._levels.setdefault(level, {})[index] = node

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        levels = self._levels
        for level, index, node in items:
            nodes = levels.get(level)
            if nodes is None:
                nodes = levels[level] = {}
            nodes[index] = node

    def __len__(self) -> int:
        return sum(len(nodes) for nodes in self._levels.values())

    def entries(self) -> list[tuple[int, int]]:
        """Every stored ``(level, index)``, sorted (for tests and inspection)."""
        return sorted((level, index) for level, nodes in self._levels.items() for index in nodes)

    def clear(self) -> None:
        self._levels.clear()
