"""The Merkle verifiers and tree against published RFC 6962 test data.

The proof vectors are the data files of transparency-dev/merkle (github.com/transparency-dev/merkle,
folder ``testdata/``, Apache License 2.0), kept outside this project in ``../shared/testdata/rfc6962``
beside the checkout; they are read from there, never copied in. The reference tree is the 8-leaf
tree of the Certificate Transparency test suite (certificate-transparency ``merkle_tree_test.cc``,
repeated in transparency-dev/merkle ``testonly/constants.go``), with its published roots.

Without the vectors, their tests fail in CI and skip elsewhere: the rule of tests/shared_data.py
(``LEDGER_TEST_REQUIRE_SHARED=1``, set by ``.ci/run``, or ``CI`` set). The reference-tree tests
need no shared data and always run.
"""

from __future__ import annotations

import base64
import json

import pytest
from shared_data import shared_dir, shared_missing

from audit.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = shared_dir() / "testdata" / "rfc6962"
MISSING = f"RFC 6962 vectors not found at {VECTORS}: ../shared is not beside the checkout"


def _cases(kind: str) -> list:
    """One parameter per vector file; without any, one ``None`` (the test then fails in CI and
    skips elsewhere, through :func:`shared_data.shared_missing`)."""
    files = sorted((VECTORS / kind).rglob("*.json")) if VECTORS.is_dir() else []
    if not files:
        return [pytest.param(None, id="missing")]
    return [pytest.param(f, id=str(f.relative_to(VECTORS / kind))) for f in files]


def _need_vectors() -> None:
    """Fail (in CI) or skip (elsewhere) when the vector folder is absent."""
    if not VECTORS.is_dir():
        shared_missing(MISSING)


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


# The reference tree: leaf inputs and the published roots MTH(D[0:n]) for n = 1..8.
REFERENCE_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
REFERENCE_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _naive_root(hashes: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 §2.1, recursively."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(_naive_root(hashes[:k]), _naive_root(hashes[k:]))


def _reference_tree() -> MerkleTree:
    return MerkleTree.from_leaf_hashes(
        [leaf_hash(d) for d in REFERENCE_LEAVES], min_cached_level=1, batch_level=1
    )


@pytest.mark.parametrize("path", _cases("inclusion"))
def test_the_inclusion_verifier_accepts_exactly_the_published_cases_without_wanterr(path):
    if path is None:
        shared_missing(MISSING)
    case = json.loads(path.read_text())
    accepted = verify_inclusion(
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        _proof(case["proof"]),
        _b64(case["root"]),
    )
    assert accepted is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize("path", _cases("consistency"))
def test_the_consistency_verifier_accepts_exactly_the_published_cases_without_wanterr(path):
    if path is None:
        shared_missing(MISSING)
    case = json.loads(path.read_text())
    accepted = verify_consistency(
        case["size1"],
        case["size2"],
        _b64(case["root1"]),
        _b64(case["root2"]),
        _proof(case["proof"]),
    )
    assert accepted is (not case["wantErr"]), case["desc"]


def test_the_vector_folder_holds_both_kinds_of_case():
    _need_vectors()
    assert len(list((VECTORS / "inclusion").rglob("*.json"))) >= 50
    assert len(list((VECTORS / "consistency").rglob("*.json"))) >= 50


def test_leaf_and_node_hashes_use_the_rfc_6962_domain_separation_prefixes():
    import hashlib

    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        node_hash(b"l" * 32, b"r" * 32) == hashlib.sha256(b"\x01" + b"l" * 32 + b"r" * 32).digest()
    )
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_the_reference_tree_has_the_published_roots_for_every_size_from_1_to_8():
    tree = _reference_tree()
    hashes = [leaf_hash(d) for d in REFERENCE_LEAVES]
    for size in range(1, 9):
        assert tree.root(size).hex() == REFERENCE_ROOTS[size - 1], size
        assert _naive_root(hashes[:size]).hex() == REFERENCE_ROOTS[size - 1], size
    assert tree.root(0) == EMPTY_ROOT


def test_the_roots_in_the_published_happy_paths_are_those_of_the_reference_tree():
    _need_vectors()
    seen = set()
    for path in VECTORS.rglob("happy-path.json"):
        case = json.loads(path.read_text())
        pairs = (
            [(case["treeSize"], case["root"])]
            if "treeSize" in case
            else [(case["size1"], case["root1"]), (case["size2"], case["root2"])]
        )
        for size, root in pairs:
            assert _b64(root).hex() == REFERENCE_ROOTS[size - 1], path
            seen.add(size)
    assert len(seen) >= 4


def test_the_tree_reproduces_every_published_happy_path_proof_of_the_reference_tree():
    _need_vectors()
    tree = _reference_tree()
    checked = 0
    for path in sorted(VECTORS.rglob("happy-path.json")):
        case = json.loads(path.read_text())
        if "treeSize" in case:
            assert _b64(case["leafHash"]) == tree.leaf_hash_at(case["leafIdx"])
            produced = tree.inclusion_proof(case["leafIdx"], case["treeSize"])
        else:
            produced = tree.consistency_proof(case["size1"], case["size2"])
        assert produced == _proof(case["proof"]), path
        checked += 1
    assert checked >= 8
