"""Verification of RFC 6962 proofs that needs no tree, the signed tree head message, proof JSON.

The verifiers (:func:`verify_inclusion`, :func:`verify_consistency`,
:func:`root_from_inclusion_proof`) are the iterative algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.
``scripts/verify_proof.py`` carries a deliberate copy of them (and of :func:`tree_head_message`)
so that overseers can check proofs without importing, or trusting, this project.

The signed tree head message is defined here, and identically in ``scripts/verify_proof.py``::

    tree_head_message(tree_size, root_hash_hex, timestamp)
        = UTF-8 of f"songjiang-ledger tree head v1\\n{tree_size}\\n{root_hash_hex}\\n{timestamp}\\n"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256 as _sha256

from audit.merkle_hash import EMPTY_ROOT, HASH_SIZE, check_int


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
    check_int("index", index)
    check_int("size", size)
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
    check_int("first_size", first_size)
    check_int("second_size", second_size)
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
    check_int("tree_size", tree_size)
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
    check_int("tree_size", tree_size)
    check_int("leaf_index", leaf_index)
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
    check_int("first_size", first_size)
    check_int("second_size", second_size)
    return {
        "first_size": first_size,
        "second_size": second_size,
        "first_root": _hex("first_root", first_root),
        "second_root": _hex("second_root", second_root),
        "consistency_path": [h.hex() for h in _as_hash_list(path)],
    }
