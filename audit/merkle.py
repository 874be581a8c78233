"""RFC 6962 Merkle tree roots and proofs over a leaf source, with a cache of complete subtrees.

Standard library only and independent of storage. The definitions follow RFC 6962 §2.1 (the
same as RFC 9162 §2.1):

* leaf hash ``SHA-256(0x00 ‖ data)``, interior node ``SHA-256(0x01 ‖ left ‖ right)``, and the
  root of the empty tree ``SHA-256("")`` (:data:`EMPTY_ROOT`);
* a list of ``n > 1`` leaves is split at ``k``, the largest power of two strictly less than
  ``n``; the inclusion proof is PATH (§2.1.1) and the consistency proof is PROOF/SUBPROOF
  (§2.1.2), both listed from the bottom of the tree upwards.

:class:`MerkleTree` computes roots and proofs over any :class:`LeafHashes` source (something
with ``len()`` and ``leaf_range(start, end)``) and keeps the hashes of *complete, aligned perfect
subtrees* in a :class:`NodeCache`. The subtree at ``(level, index)`` covers the leaves
``[index·2^level, (index+1)·2^level)``; it is only ever cached once all of those leaves exist, so
it never changes as the log grows and a cache can be kept (and persisted) for the life of the log.
The hashes of the leaves themselves are never cached: the source already holds them. Cost:

* cold (empty cache): the first root or proof for size ``n`` reads each of the ``n`` leaf
  hashes once (in ``leaf_range`` calls of at most ``2**batch_level`` leaves) and computes fewer
  than ``n`` node hashes; it fills the cache with every complete subtree at ``min_cached_level``
  or above, about ``n / 2**(min_cached_level-1)`` entries. Roughly 0.2-0.3 s at 200,000 leaves in
  CPython, once;
* warm: a root costs O(log n) cache look-ups and hashes, plus reading and hashing the fewer
  than ``2**min_cached_level`` leaves at the right edge that no complete cached subtree covers;
  an inclusion proof costs the same plus one ``leaf_range`` call for the
  ``2**min_cached_level`` leaves around the requested leaf and about as many hashes; a
  consistency proof at most O(log² n) look-ups;
* after appending ``k`` leaves, the next root costs about ``k`` leaf reads and hashes plus
  O(log n) (subtrees that were already complete stay cached).

The proof verifiers (which need no tree), the signed tree head message and the JSON forms of
proofs are in :mod:`audit.merkle_verify`; the hash primitives in :mod:`audit.merkle_hash`; the in-memory leaf
sources and node caches in :mod:`audit.merkle_cache`. Every public name of those modules is
also importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from audit.merkle_cache import LeafHashes, ListLeafHashes, MemoryNodeCache, NodeCache
from audit.merkle_hash import (
    EMPTY_ROOT,
    HASH_SIZE,
    check_int,
    leaf_hash,
    level_up,
    node_hash,
    perfect_root,
    split,
)
from audit.merkle_verify import (
    InvalidProofError,
    consistency_proof_json,
    inclusion_proof_json,
    root_from_inclusion_proof,
    tree_head_message,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "InvalidProofError",
    "LeafHashes",
    "ListLeafHashes",
    "MemoryNodeCache",
    "MerkleTree",
    "NodeCache",
    "consistency_proof_json",
    "inclusion_proof_json",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "tree_head_message",
    "verify_consistency",
    "verify_inclusion",
]


class MerkleTree:
    """Roots and proofs over a :class:`LeafHashes` source, with a cache of complete subtrees.

    ``min_cached_level`` (at least 1) is the lowest level stored in the cache: subtrees below it
    are recomputed from their ``2**min_cached_level`` leaves when needed, which keeps the cache
    about ``2**(min_cached_level-1)`` times smaller than the tree. ``batch_level`` bounds how many
    leaf hashes are read in one ``leaf_range`` call when a cold subtree is built
    (``2**batch_level``).

    The tree reads the source and cache lazily and is not thread-safe by itself. It relies on the
    source being append-only: if stored history were ever rewritten, the cache would be stale
    and must be discarded (audit verification recomputes everything without a cache).
    """

    def __init__(
        self,
        leaves: LeafHashes,
        cache: NodeCache | None = None,
        *,
        min_cached_level: int = 4,
        batch_level: int = 12,
    ) -> None:
        if not 1 <= min_cached_level <= 62:
            raise ValueError("min_cached_level must be between 1 and 62")
        if not min_cached_level <= batch_level <= 62:
            raise ValueError("batch_level must be between min_cached_level and 62")
        self._leaves = leaves
        self._cache: NodeCache = MemoryNodeCache() if cache is None else cache
        self._min_level = min_cached_level
        self._batch_level = batch_level
        put_many = getattr(self._cache, "put_many", None)
        self._put_many = put_many if callable(put_many) else self._put_each

    @classmethod
    def from_leaf_hashes(
        cls, hashes: Iterable[bytes], cache: NodeCache | None = None, **options: int
    ) -> MerkleTree:
        """A tree over an in-memory :class:`ListLeafHashes` holding ``hashes``."""
        return cls(ListLeafHashes(hashes), cache, **options)

    @property
    def leaves(self) -> LeafHashes:
        """The leaf source."""
        return self._leaves

    @property
    def cache(self) -> NodeCache:
        """The node cache."""
        return self._cache

    @property
    def size(self) -> int:
        """The current number of leaves in the source."""
        return len(self._leaves)

    def __len__(self) -> int:
        return len(self._leaves)

    def append_leaf_hashes(self, hashes: Iterable[bytes]) -> None:
        """Append leaf hashes to an in-memory source (one with ``extend``, such as ListLeafHashes).

        Nothing else is needed to keep the tree up to date: the cache only holds subtrees that
        were already complete, and the next root or proof hashes just the new part. For a source
        backed by storage, append to the storage instead.
        """
        extend = getattr(self._leaves, "extend", None)
        if not callable(extend):
            raise TypeError("this leaf source cannot be appended to through the tree")
        extend(hashes)

    # -- public computations -------------------------------------------------------------------

    def root(self, size: int | None = None) -> bytes:
        """The root hash MTH(D[0:size]) (default: the current size); EMPTY_ROOT for size 0."""
        size = self._checked_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._range(0, size)

    def leaf_hash_at(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        if not 0 <= index < len(self._leaves):
            raise ValueError(f"leaf index {index} is outside the log of {len(self._leaves)} leaves")
        return self._fetch(index, index + 1)[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path PATH(index, D[0:size]) of RFC 6962 §2.1.1, bottom-up.

        Requires ``0 <= index < size <= len(leaves)``.
        """
        size = self._checked_size(size)
        check_int("index", index)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is not inside a tree of size {size}")
        top_down: list[bytes] = []
        start, end = 0, size
        small = 1 << self._min_level
        while end - start > 1:
            n = end - start
            if n <= small and n & (n - 1) == 0:
                # A small perfect subtree: finish from its leaves with one leaf_range call.
                return _path_in_perfect(self._fetch(start, end), index - start) + top_down[::-1]
            k = split(n)
            if index < start + k:
                top_down.append(self._range(start + k, end))
                end = start + k
            else:
                top_down.append(self._range(start, start + k))
                start += k
        return top_down[::-1]

    def consistency_proof(self, first_size: int, second_size: int | None = None) -> list[bytes]:
        """The consistency proof PROOF(first_size, D[0:second_size]) of RFC 6962 §2.1.2.

        Requires ``0 <= first_size <= second_size <= len(leaves)``. The proof is empty when
        ``first_size`` is 0 or equal to ``second_size`` (RFC 6962 defines proofs only for
        ``0 < first_size < second_size``; such requests need no proof, and verify_consistency
        rejects ``0 = first_size < second_size`` as meaningless).
        """
        second_size = self._checked_size(second_size)
        check_int("first_size", first_size)
        if not 0 <= first_size <= second_size:
            raise ValueError(f"first size {first_size} is not within 0..{second_size}")
        if first_size in (0, second_size):
            return []
        top_down: list[bytes] = []
        start, end, m, complete = 0, second_size, first_size, True
        while True:
            n = end - start
            if m == n:
                if not complete:
                    top_down.append(self._range(start, end))
                break
            k = split(n)
            if m <= k:
                top_down.append(self._range(start + k, end))
                end = start + k
            else:
                top_down.append(self._range(start, start + k))
                start += k
                m -= k
                complete = False
        return top_down[::-1]

    # -- internals -----------------------------------------------------------------------------

    def _checked_size(self, size: int | None) -> int:
        available = len(self._leaves)
        if size is None:
            return available
        check_int("size", size)
        if not 0 <= size <= available:
            raise ValueError(f"tree size {size} is not within 0..{available}")
        return size

    def _fetch(self, start: int, end: int) -> Sequence[bytes]:
        hashes = self._leaves.leaf_range(start, end)
        if len(hashes) != end - start:
            raise RuntimeError(
                f"the leaf source returned {len(hashes)} hashes for [{start}, {end})"
            )
        for h in hashes:
            if len(h) != HASH_SIZE:
                raise RuntimeError(f"the leaf source returned a {len(h)}-byte leaf hash")
        return hashes

    def _put_each(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        put = self._cache.put
        for level, index, node in items:
            put(level, index, node)

    def _range(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for ``end > start``."""
        n = end - start
        if n & (n - 1) == 0 and start & (n - 1) == 0:
            level = n.bit_length() - 1
            return self._perfect(level, start >> level)
        k = split(n)
        return node_hash(self._range(start, start + k), self._range(start + k, end))

    def _perfect(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree of 2**level leaves starting at leaf index·2**level."""
        if level < self._min_level:
            start = index << level
            return perfect_root(self._fetch(start, start + (1 << level)))
        cache = self._cache
        node = cache.get(level, index)
        if node is not None:
            return node
        if level == self._min_level:
            return self._build(level, index)
        left = cache.get(level - 1, 2 * index)
        right = cache.get(level - 1, 2 * index + 1)
        if left is None and right is None and level <= self._batch_level:
            # Cold: read all its leaves at once and build it bottom-up.
            return self._build(level, index)
        if left is None:
            left = self._perfect(level - 1, 2 * index)
        if right is None:
            right = self._perfect(level - 1, 2 * index + 1)
        node = node_hash(left, right)
        cache.put(level, index, node)
        return node

    def _build(self, level: int, index: int) -> bytes:
        start = index << level
        nodes: Sequence[bytes] = self._fetch(start, start + (1 << level))
        items: list[tuple[int, int, bytes]] = []
        for lv in range(1, level + 1):
            nodes = level_up(nodes)
            if lv >= self._min_level:
                first = index << (level - lv)
                items.extend((lv, first + j, h) for j, h in enumerate(nodes))
        self._put_many(items)
        return nodes[0]


def _path_in_perfect(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Bottom-up audit path of ``index`` inside a perfect subtree given by its leaf hashes."""
    path: list[bytes] = []
    nodes = leaves
    while len(nodes) > 1:
        path.append(nodes[index ^ 1])
        nodes = level_up(nodes)
        index >>= 1
    return path
