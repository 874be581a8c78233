"""Properties of audit.merkle: proofs agree with the RFC 6962 definitions and tampering is caught.

The naive recursive functions below transcribe RFC 6962 §2.1 (MTH, PATH, PROOF/SUBPROOF) directly
and serve as the reference for the cached MerkleTree.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.merkle import (
    EMPTY_ROOT,
    InvalidProofError,
    ListLeafHashes,
    MemoryNodeCache,
    MerkleTree,
    consistency_proof_json,
    inclusion_proof_json,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    tree_head_message,
    verify_consistency,
    verify_inclusion,
)

MAX = 64
LEAVES = [leaf_hash(b"event %d" % i) for i in range(MAX + 8)]


# -- the RFC 6962 definitions, transcribed naively --------------------------------------------


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes: list[bytes]) -> bytes:
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = split(len(hashes))
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def path(m: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = split(len(hashes))
    if m < k:
        return [*path(m, hashes[:k]), mth(hashes[k:])]
    return [*path(m - k, hashes[k:]), mth(hashes[:k])]


def directions(m: int, n: int) -> tuple[bool, ...]:
    """For PATH(m, D[n]), bottom-up: whether each sibling is on the left."""
    if n == 1:
        return ()
    k = split(n)
    if m < k:
        return (*directions(m, k), False)
    return (*directions(m - k, n - k), True)


def subproof(m: int, hashes: list[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [mth(hashes)]
    k = split(n)
    if m <= k:
        return [*subproof(m, hashes[:k], complete), mth(hashes[k:])]
    return [*subproof(m - k, hashes[k:], False), mth(hashes[:k])]


def consistency(m: int, hashes: list[bytes]) -> list[bytes]:
    return subproof(m, hashes, True)


ROOTS = [mth(LEAVES[:n]) for n in range(MAX + 1)]


def flip(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8] ^= 1 << (bit % 8)
    return bytes(data)


@pytest.fixture(scope="module")
def tree() -> MerkleTree:
    return MerkleTree.from_leaf_hashes(LEAVES[:MAX])


ALL_INCLUSIONS = [(n, i) for n in range(1, MAX + 1) for i in range(n)]
ALL_CONSISTENCIES = [(m, n) for n in range(1, MAX + 1) for m in range(1, n + 1)]


# -- the tree computes what the RFC defines -----------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"min_cached_level": 1, "batch_level": 1},
        {"min_cached_level": 1, "batch_level": 3},
        {"min_cached_level": 2, "batch_level": 2},
        {"min_cached_level": 3, "batch_level": 5},
    ],
    ids=str,
)
def test_roots_and_proofs_match_the_naive_definitions_for_every_size_up_to_64(options):
    tree = MerkleTree.from_leaf_hashes(LEAVES[:MAX], **options)
    assert tree.root(0) == EMPTY_ROOT
    for n in range(1, MAX + 1):
        assert tree.root(n) == ROOTS[n], n
    for n, i in ALL_INCLUSIONS:
        assert tree.inclusion_proof(i, n) == path(i, LEAVES[:n]), (i, n)
    for m, n in ALL_CONSISTENCIES:
        if m < n:
            assert tree.consistency_proof(m, n) == consistency(m, LEAVES[:n]), (m, n)


def test_every_inclusion_proof_up_to_64_leaves_verifies(tree):
    for n, i in ALL_INCLUSIONS:
        proof = tree.inclusion_proof(i, n)
        assert verify_inclusion(LEAVES[i], i, n, proof, ROOTS[n]), (i, n)
        assert root_from_inclusion_proof(LEAVES[i], i, n, proof) == ROOTS[n]


def test_every_consistency_proof_between_sizes_up_to_64_verifies(tree):
    for m, n in ALL_CONSISTENCIES:
        proof = tree.consistency_proof(m, n)
        assert verify_consistency(m, n, ROOTS[m], ROOTS[n], proof), (m, n)
    assert tree.consistency_proof(0, 5) == []
    assert tree.consistency_proof(5, 5) == []


def test_a_tree_grown_leaf_by_leaf_gives_the_same_roots_and_proofs_as_a_fresh_one():
    source = ListLeafHashes()
    grown = MerkleTree(source, min_cached_level=1, batch_level=2)
    for n in range(1, MAX + 1):
        grown.append_leaf_hashes([LEAVES[n - 1]])
        assert grown.root() == ROOTS[n]
        assert grown.inclusion_proof(n // 2) == path(n // 2, LEAVES[:n])
    for n, i in ALL_INCLUSIONS[::7]:
        assert grown.inclusion_proof(i, n) == path(i, LEAVES[:n])


# -- tampering is caught ------------------------------------------------------------------------


def test_flipping_any_bit_of_any_inclusion_proof_element_up_to_16_leaves_fails(tree):
    for n, i in ALL_INCLUSIONS:
        if n > 16:
            break
        proof = tree.inclusion_proof(i, n)
        for j, bit in itertools.product(range(len(proof)), range(256)):
            bad = [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
            assert not verify_inclusion(LEAVES[i], i, n, bad, ROOTS[n]), (i, n, j, bit)


def test_flipping_any_bit_of_any_consistency_proof_element_up_to_16_leaves_fails(tree):
    for m, n in ALL_CONSISTENCIES:
        if n > 16:
            break
        proof = tree.consistency_proof(m, n)
        for j, bit in itertools.product(range(len(proof)), range(256)):
            bad = [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
            assert not verify_consistency(m, n, ROOTS[m], ROOTS[n], bad), (m, n, j, bit)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_flipping_a_random_bit_of_an_inclusion_proof_leaf_or_root_fails(data):
    n = data.draw(st.integers(1, MAX))
    i = data.draw(st.integers(0, n - 1))
    proof = path(i, LEAVES[:n])
    bit = data.draw(st.integers(0, 255))
    target = data.draw(st.integers(-2, len(proof) - 1))
    leaf, root = LEAVES[i], ROOTS[n]
    if target == -2:
        leaf = flip(leaf, bit)
    elif target == -1:
        root = flip(root, bit)
    else:
        proof = [*proof[:target], flip(proof[target], bit), *proof[target + 1 :]]
    assert not verify_inclusion(leaf, i, n, proof, root)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_flipping_a_random_bit_of_a_consistency_proof_or_either_root_fails(data):
    n = data.draw(st.integers(1, MAX))
    m = data.draw(st.integers(1, n))
    proof = consistency(m, LEAVES[:n])
    bit = data.draw(st.integers(0, 255))
    target = data.draw(st.integers(-2, len(proof) - 1))
    first, second = ROOTS[m], ROOTS[n]
    if target == -2:
        first = flip(first, bit)
    elif target == -1:
        second = flip(second, bit)
    else:
        proof = [*proof[:target], flip(proof[target], bit), *proof[target + 1 :]]
    assert not verify_consistency(m, n, first, second, proof)


def test_an_inclusion_proof_never_verifies_for_another_leaf_index(tree):
    for n, i in ALL_INCLUSIONS:
        proof = tree.inclusion_proof(i, n)
        for j in range(-1, n + 2):
            if j != i:
                assert not verify_inclusion(LEAVES[i], j, n, proof, ROOTS[n]), (i, j, n)
        assert not verify_inclusion(LEAVES[(i + 1) % n], i, n, proof, ROOTS[n]) or n == 1


def test_an_inclusion_proof_verifies_for_another_size_only_when_the_path_has_the_same_shape(tree):
    """RFC 6962 roots do not commit to the tree size: a path of the same shape for another size
    recomputes the same root. Signed tree heads bind the size to the root for that reason."""
    for n, i in ALL_INCLUSIONS:
        proof = tree.inclusion_proof(i, n)
        for other in range(MAX + 8):
            if other == n:
                continue
            same_shape = other > i and directions(i, other) == directions(i, n)
            assert verify_inclusion(LEAVES[i], i, other, proof, ROOTS[n]) is same_shape


def test_a_consistency_proof_fails_for_sizes_needing_a_different_number_of_hashes(tree):
    """As for inclusion, a proof of the very same shape may pass for other sizes; any other
    pair of sizes, and every impossible pair, is rejected."""
    for m, n in ALL_CONSISTENCIES:
        proof = tree.consistency_proof(m, n)
        firsts = {m - 1, m + 1, m * 2, m // 2, m ^ 1, 0, n}
        seconds = {n - 1, n + 1, n * 2, n // 2, n ^ 1, 0, m}
        for m2, n2 in [(f, n) for f in firsts] + [(m, s) for s in seconds] + [(n, m)]:
            if (m2, n2) == (m, n):
                continue
            possible = 0 < m2 <= n2 <= len(LEAVES)
            if possible and len(consistency(m2, LEAVES[:n2])) == len(proof):
                continue
            assert not verify_consistency(m2, n2, ROOTS[m], ROOTS[n], proof), (m, n, m2, n2)


def test_truncated_or_extended_inclusion_proofs_fail(tree):
    extra = leaf_hash(b"extra")
    for n, i in ALL_INCLUSIONS:
        proof = tree.inclusion_proof(i, n)
        variants = [[*proof, extra], [extra, *proof], [*proof, ROOTS[n]]]
        if proof:
            variants += [proof[1:], proof[:-1], [*proof, proof[-1]], proof[::-1] * 2]
        for bad in variants:
            assert not verify_inclusion(LEAVES[i], i, n, bad, ROOTS[n]), (i, n, bad)


def test_truncated_or_extended_consistency_proofs_fail(tree):
    extra = leaf_hash(b"extra")
    for m, n in ALL_CONSISTENCIES:
        proof = tree.consistency_proof(m, n)
        variants = [[*proof, extra], [extra, *proof], [ROOTS[m], *proof]]
        if proof:
            variants += [proof[1:], proof[:-1], [*proof, proof[-1]]]
        for bad in variants:
            assert not verify_consistency(m, n, ROOTS[m], ROOTS[n], bad), (m, n, bad)


def test_malformed_inputs_make_the_verifiers_return_false_and_wrong_types_raise():
    proof = path(2, LEAVES[:5])
    assert verify_inclusion(LEAVES[2], 2, 5, proof, ROOTS[5])
    assert not verify_inclusion(LEAVES[2], 5, 5, proof, ROOTS[5])
    assert not verify_inclusion(LEAVES[2], -1, 5, proof, ROOTS[5])
    assert not verify_inclusion(LEAVES[2], 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(LEAVES[2][:31], 2, 5, proof, ROOTS[5])
    assert not verify_inclusion(LEAVES[2], 2, 5, [proof[0] + b"\x00", *proof[1:]], ROOTS[5])
    assert not verify_inclusion(LEAVES[2], 2, 5, proof, ROOTS[5] + b"\x00")
    assert not verify_inclusion(LEAVES[2], 2, 5, None, ROOTS[5])
    with pytest.raises(InvalidProofError):
        root_from_inclusion_proof(LEAVES[2], 2, 5, proof[:-1])
    with pytest.raises(TypeError):
        verify_inclusion(LEAVES[2], 2, 5, [h.hex() for h in proof], ROOTS[5])
    with pytest.raises(TypeError):
        verify_inclusion(LEAVES[2], 2.0, 5, proof, ROOTS[5])
    assert not verify_consistency(3, 2, ROOTS[3], ROOTS[2], [])
    assert not verify_consistency(-1, 2, ROOTS[1], ROOTS[2], [])
    assert not verify_consistency(0, 3, EMPTY_ROOT, ROOTS[3], [ROOTS[3]])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 0, ROOTS[1], ROOTS[1], [])
    assert verify_consistency(4, 4, ROOTS[4], ROOTS[4], [])
    assert not verify_consistency(4, 4, ROOTS[4], ROOTS[5], [])


# -- caching and cost ---------------------------------------------------------------------------


class CountingLeaves(ListLeafHashes):
    """A list source that counts how many leaf hashes were read."""

    def __init__(self, hashes):
        super().__init__(hashes)
        self.read = 0

    def leaf_range(self, start, end):
        self.read += end - start
        return super().leaf_range(start, end)


def test_the_cache_only_ever_holds_complete_subtrees():
    cache = MemoryNodeCache()
    tree = MerkleTree.from_leaf_hashes(LEAVES[:MAX], cache, min_cached_level=1, batch_level=2)
    for n in (5, 13, 37):
        tree.root(n)
        tree.inclusion_proof(n - 1, n)
        for level, index in cache.entries():
            assert (index + 1) << level <= n
            assert cache.get(level, index) == mth(LEAVES[index << level : (index + 1) << level])


def test_a_warm_proof_reads_only_the_leaves_around_the_requested_one():
    source = CountingLeaves([leaf_hash(i.to_bytes(4, "big")) for i in range(5000)])
    tree = MerkleTree(source, min_cached_level=4, batch_level=8)
    root = tree.root()
    assert source.read == 5000
    for index in (0, 1, 777, 4095, 4096, 4999):
        source.read = 0
        proof = tree.inclusion_proof(index)
        assert source.read <= 16 + 15  # its block of 16, and the uncached tail of 5000 % 16
        assert verify_inclusion(source.leaf_range(index, index + 1)[0], index, 5000, proof, root)
    source.read = 0
    proof = tree.consistency_proof(1234)
    assert source.read <= 16 * 3
    assert verify_consistency(1234, 5000, tree.root(1234), root, proof)


def test_after_an_append_the_new_root_reads_about_the_new_leaves_only():
    source = CountingLeaves([leaf_hash(i.to_bytes(4, "big")) for i in range(4095)])
    tree = MerkleTree(source)
    tree.root()
    source.extend([leaf_hash(b"one more")])
    source.read = 0
    new_root = tree.root()
    assert source.read <= 1 + 16
    assert new_root == mth(source.leaf_range(0, 4096))
    source.extend([leaf_hash(b"%d" % i) for i in range(300)])
    source.read = 0
    tree.root()
    assert source.read <= 300 + 16


def test_sizes_and_indexes_outside_the_log_are_refused(tree):
    with pytest.raises(ValueError):
        tree.root(MAX + 1)
    with pytest.raises(ValueError):
        tree.inclusion_proof(3, 3)
    with pytest.raises(ValueError):
        tree.consistency_proof(5, 4)
    with pytest.raises(TypeError):
        tree.inclusion_proof(True, 3)
    with pytest.raises(TypeError):
        MerkleTree(_ReadOnly()).append_leaf_hashes([LEAVES[0]])


class _ReadOnly:
    def __len__(self):
        return 0

    def leaf_range(self, start, end):
        return []


# -- tree head message and JSON forms -----------------------------------------------------------


def test_the_tree_head_message_is_the_documented_text():
    root = ROOTS[5].hex()
    assert tree_head_message(5, root, 1700000000) == (
        f"songjiang-ledger tree head v1\n5\n{root}\n1700000000\n".encode()
    )
    assert tree_head_message(0, EMPTY_ROOT.hex(), "2024-01-01T00:00:00Z").endswith(
        b"\n2024-01-01T00:00:00Z\n"
    )
    for bad in [(5, root.upper(), 1), (5, root[:-2], 1), (-1, root, 1), (5, root, "a\nb")]:
        with pytest.raises(ValueError):
            tree_head_message(*bad)
    with pytest.raises(TypeError):
        tree_head_message(5, root, 1.5)


def test_the_json_forms_carry_lowercase_hex_under_the_documented_keys(tree):
    proof = tree.inclusion_proof(3, 10)
    document = inclusion_proof_json(10, 3, LEAVES[3], proof, ROOTS[10])
    assert document == {
        "tree_size": 10,
        "leaf_index": 3,
        "leaf_hash": LEAVES[3].hex(),
        "audit_path": [h.hex() for h in proof],
        "root_hash": ROOTS[10].hex(),
    }
    cproof = tree.consistency_proof(3, 10)
    document = consistency_proof_json(3, 10, ROOTS[3], ROOTS[10], cproof)
    assert document == {
        "first_size": 3,
        "second_size": 10,
        "first_root": ROOTS[3].hex(),
        "second_root": ROOTS[10].hex(),
        "consistency_path": [h.hex() for h in cproof],
    }
