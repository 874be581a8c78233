"""RFC 6962 Merkle tree hashing, proofs and stateless proof verification.

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

The verifiers (:func:`verify_inclusion`, :func:`verify_consistency`,
:func:`root_from_inclusion_proof`) are the iterative algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.
``scripts/verify_proof.py`` carries a deliberate copy of them (and of :func:`tree_head_message`)
so that overseers can check proofs without importing, or trusting, this project.

The signed tree head message is defined here, and identically in ``scripts/verify_proof.py``::

    tree_head_message(tree_size, root_hash_hex, timestamp)
        = UTF-8 of f"songjiang-ledger tree head v1\\n{tree_size}\\n{root_hash_hex}\\n{timestamp}\\n"
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

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


def _split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _level_up(nodes: Sequence[bytes]) -> list[bytes]:
    """Hash a level of a perfect subtree (even length) pairwise into the level above."""
    sha = _sha256
    return [sha(b"\x01" + nodes[i] + nodes[i + 1]).digest() for i in range(0, len(nodes), 2)]


def _perfect_root(nodes: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree given its leaf hashes (length a power of two)."""
    while len(nodes) > 1:
        nodes = _level_up(nodes)
    return nodes[0]


# --------------------------------------------------------------------------------------------
# Leaf sources and node caches
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------


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
        _check_int("index", index)
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
            k = _split(n)
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
        _check_int("first_size", first_size)
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
            k = _split(n)
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
        _check_int("size", size)
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
        k = _split(n)
        return node_hash(self._range(start, start + k), self._range(start + k, end))

    def _perfect(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree of 2**level leaves starting at leaf index·2**level."""
        if level < self._min_level:
            start = index << level
            return _perfect_root(self._fetch(start, start + (1 << level)))
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
            nodes = _level_up(nodes)
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
        nodes = _level_up(nodes)
        index >>= 1
    return path


def _check_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")


# --------------------------------------------------------------------------------------------
# Stateless verification (RFC 9162 §2.1.3.2 and §2.1.4.2)
# --------------------------------------------------------------------------------------------


class InvalidProofError(ValueError):
    """A proof that does not fit its claimed index and size (wrong length, bad hash size, …)."""


def _as_hash_list(proof: Iterable[bytes] | None) -> list[bytes]:
    if proof is None:
        return []
    if isinstance(proof, (bytes, bytearray, memoryview, str)):
        raise TypeError("a proof is a sequence of hashes, not a single bytes or str value")
    items = list(proof)
    for item in items:
        if not isinstance(item, (bytes, bytearray, memoryview)):
            raise TypeError(f"proof elements must be bytes, not {type(item).__name__}")
    return [bytes(item) for item in items]


def _as_bytes(name: str, value: object) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}")
    return bytes(value)


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes] | None
) -> bytes:
    """The root that ``proof`` leads to from ``leaf_hash`` at ``index`` in a tree of ``size``.

    RFC 9162 §2.1.3.2 steps 1-4. Raises InvalidProofError if the proof cannot be one for that
    index and size (index not below size, a hash that is not 32 bytes, too few or too many
    elements) and TypeError for arguments of the wrong type.
    """
    _check_int("index", index)
    _check_int("size", size)
    leaf = _as_bytes("leaf_hash", leaf_hash)
    path = _as_hash_list(proof)
    if not 0 <= index < size:
        raise InvalidProofError(f"leaf index {index} is not inside a tree of size {size}")
    if len(leaf) != HASH_SIZE:
        raise InvalidProofError(f"the leaf hash is {len(leaf)} bytes, not {HASH_SIZE}")
    if any(len(p) != HASH_SIZE for p in path):
        raise InvalidProofError(f"every proof element must be {HASH_SIZE} bytes")
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            raise InvalidProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProofError("the proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes] | None, root: bytes
) -> bool:
    """True if ``proof`` shows ``leaf_hash`` at ``index`` in the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2. Returns False for any bad proof; raises TypeError only for arguments of
    the wrong type.
    """
    expected = _as_bytes("root", root)
    try:
        computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    except InvalidProofError:
        return False
    return len(expected) == HASH_SIZE and computed == expected


def verify_consistency(
    first_size: int,
    second_size: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes] | None,
) -> bool:
    """True if ``proof`` shows that the tree (second_size, second_root) extends (first_size, first_root).

    RFC 9162 §2.1.4.2, plus the edge cases: equal sizes need an empty proof and equal roots (the
    empty tree's root must be EMPTY_ROOT); ``first_size`` 0 below ``second_size`` proves nothing
    and is rejected. Returns False for any bad proof; raises TypeError only for arguments of the
    wrong type.
    """
    _check_int("first_size", first_size)
    _check_int("second_size", second_size)
    first = _as_bytes("first_root", first_root)
    second = _as_bytes("second_root", second_root)
    path = _as_hash_list(proof)
    if first_size < 0 or second_size < first_size:
        return False
    if first_size == second_size:
        if path:
            return False
        if first_size == 0:
            return first == EMPTY_ROOT and second == EMPTY_ROOT
        return first == second
    if first_size == 0 or not path:
        return False
    if len(first) != HASH_SIZE or len(second) != HASH_SIZE:
        return False
    if any(len(p) != HASH_SIZE for p in path):
        return False
    if first_size & (first_size - 1) == 0:  # an exact power of two
        path.insert(0, first)
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first and sr == second


# --------------------------------------------------------------------------------------------
# Signed tree head message and JSON forms
# --------------------------------------------------------------------------------------------

_HEX_DIGITS = frozenset("0123456789abcdef")


def tree_head_message(tree_size: int, root_hash_hex: str, timestamp: int | str) -> bytes:
    """The bytes an Ed25519 tree head signature covers.

    Exactly the UTF-8 encoding of
    ``f"songjiang-ledger tree head v1\\n{tree_size}\\n{root_hash_hex}\\n{timestamp}\\n"``
    (the same definition is in ``scripts/verify_proof.py``). ``tree_size`` is a non-negative int,
    ``root_hash_hex`` the 64 lowercase hex digits of the root, and ``timestamp`` the head's
    timestamp exactly as it appears in the tree head JSON: an int (written in decimal) or a
    string without line breaks (used verbatim). Anything else raises ValueError or TypeError,
    so that one head can only ever mean one message.
    """
    _check_int("tree_size", tree_size)
    if tree_size < 0:
        raise ValueError("tree_size must not be negative")
    if not isinstance(root_hash_hex, str):
        raise TypeError("root_hash_hex must be a str")
    if len(root_hash_hex) != 2 * HASH_SIZE or not set(root_hash_hex) <= _HEX_DIGITS:
        raise ValueError("root_hash_hex must be 64 lowercase hex digits")
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, str)):
        raise TypeError("timestamp must be an int or a str")
    if isinstance(timestamp, str) and ("\n" in timestamp or "\r" in timestamp):
        raise ValueError("timestamp must not contain line breaks")
    return f"songjiang-ledger tree head v1\n{tree_size}\n{root_hash_hex}\n{timestamp}\n".encode()


def _hex(name: str, value: bytes) -> str:
    return _as_bytes(name, value).hex()


def inclusion_proof_json(
    tree_size: int,
    leaf_index: int,
    leaf_hash: bytes,
    audit_path: Sequence[bytes],
    root_hash: bytes,
) -> dict[str, object]:
    """The JSON form of an inclusion proof (hashes as lowercase hex)."""
    _check_int("tree_size", tree_size)
    _check_int("leaf_index", leaf_index)
    return {
        "tree_size": tree_size,
        "leaf_index": leaf_index,
        "leaf_hash": _hex("leaf_hash", leaf_hash),
        "audit_path": [h.hex() for h in _as_hash_list(audit_path)],
        "root_hash": _hex("root_hash", root_hash),
    }


def consistency_proof_json(
    first_size: int,
    second_size: int,
    first_root: bytes,
    second_root: bytes,
    path: Sequence[bytes],
) -> dict[str, object]:
    """The JSON form of a consistency proof (hashes as lowercase hex)."""
    _check_int("first_size", first_size)
    _check_int("second_size", second_size)
    return {
        "first_size": first_size,
        "second_size": second_size,
        "first_root": _hex("first_root", first_root),
        "second_root": _hex("second_root", second_root),
        "consistency_path": [h.hex() for h in _as_hash_list(path)],
    }
