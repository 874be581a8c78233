"""scripts/verify_proof.py, the standalone checker for proofs and signed tree heads.

The script is run as a subprocess on proofs made by audit.merkle.MerkleTree; its Ed25519 code is
checked against the RFC 8032 §7.1 test vectors (TEST 1, 2 and 3) and against signatures made with
the ``cryptography`` package.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.merkle import (
    MerkleTree,
    consistency_proof_json,
    inclusion_proof_json,
    leaf_hash,
    tree_head_message,
    verify_consistency,
    verify_inclusion,
)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_proof.py"
VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "rfc6962"


def _load_script():
    spec = importlib.util.spec_from_file_location("verify_proof_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _load_script()

# RFC 8032 §7.1, TEST 1, TEST 2 and TEST 3: (public key, message, signature).
RFC8032_VECTORS = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]
ORDER = 2**252 + 27742317777372353535851937790883648493

LEAVES = [leaf_hash(b"event %d" % i) for i in range(40)]
TREE = MerkleTree.from_leaf_hashes(LEAVES)
SIGNING_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(tmp_path: Path, name: str, document: object) -> Path:
    target = tmp_path / name
    target.write_text(json.dumps(document))
    return target


def flip_hex(value: str, bit: int = 0) -> str:
    data = bytearray.fromhex(value)
    data[bit // 8] ^= 1 << (bit % 8)
    return data.hex()


def signed_head(size: int, timestamp: int | str = 1700000000, key=SIGNING_KEY) -> dict:
    root = TREE.root(size).hex()
    signature = key.sign(tree_head_message(size, root, timestamp))
    return {
        "tree_size": size,
        "root_hash": root,
        "timestamp": timestamp,
        "signature": signature.hex(),
    }


def inclusion_document(index: int, size: int) -> dict:
    return inclusion_proof_json(
        size, index, LEAVES[index], TREE.inclusion_proof(index, size), TREE.root(size)
    )


def consistency_document(first: int, second: int) -> dict:
    return consistency_proof_json(
        first, second, TREE.root(first), TREE.root(second), TREE.consistency_proof(first, second)
    )


@pytest.fixture
def key_file(tmp_path) -> Path:
    raw = SIGNING_KEY.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    target = tmp_path / "ledger.pub"
    target.write_text(raw.hex() + "\n")
    return target


# -- Ed25519 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "public, message, signature", RFC8032_VECTORS, ids=["test1", "test2", "test3"]
)
def test_the_script_accepts_the_rfc_8032_test_vectors_and_rejects_any_change(
    public, message, signature
):
    public, message, signature = map(bytes.fromhex, (public, message, signature))
    assert script.ed25519_verify(public, message, signature)
    assert not script.ed25519_verify(public, message + b"x", signature)
    for bit in (0, 7, 255, 256, 300, 511):
        bad = bytearray(signature)
        bad[bit // 8] ^= 1 << (bit % 8)
        assert not script.ed25519_verify(public, message, bytes(bad))
    bad_key = bytearray(public)
    bad_key[3] ^= 0x10
    assert not script.ed25519_verify(bytes(bad_key), message, signature)
    assert not script.ed25519_verify(public[:31], message, signature)
    assert not script.ed25519_verify(public, message, signature[:63])


def test_the_script_rejects_a_signature_whose_s_is_not_reduced_below_the_group_order():
    public, message, signature = map(bytes.fromhex, RFC8032_VECTORS[0])
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + ORDER).to_bytes(32, "little")
    assert not script.ed25519_verify(public, message, malleated)


def test_the_script_accepts_signatures_made_by_the_cryptography_package():
    for i in range(3):
        key = Ed25519PrivateKey.from_private_bytes(bytes([i + 7]) * 32)
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        message = b"message %d" % i
        assert script.ed25519_verify(public, message, key.sign(message))


# -- the script is self-contained and agrees with the library -------------------------------------


def test_the_script_imports_only_the_standard_library():
    tree = ast.parse(SCRIPT.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    imported.discard("__future__")
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_the_script_defines_the_same_tree_head_message_as_the_library():
    root = TREE.root(9).hex()
    for size, timestamp in [(9, 1700000000), (0, "2024-05-01T12:00:00Z"), (12345678, 0)]:
        assert script.tree_head_message(size, root, timestamp) == tree_head_message(
            size, root, timestamp
        )


def test_the_script_verifiers_agree_with_the_library_on_the_published_vectors():
    if not VECTORS.is_dir():
        pytest.skip(
            f"RFC 6962 vectors not found at {VECTORS}: ../shared is not beside the checkout"
        )

    def b64(value):
        return base64.b64decode(value or "")

    count = 0
    for path in sorted(VECTORS.rglob("*.json")):
        case = json.loads(path.read_text())
        proof = [b64(p) for p in case["proof"] or []]
        if "leafIdx" in case:
            args = (
                b64(case["leafHash"]),
                case["leafIdx"],
                case["treeSize"],
                proof,
                b64(case["root"]),
            )
            ours, theirs = script.verify_inclusion(*args), verify_inclusion(*args)
        else:
            args = (case["size1"], case["size2"], b64(case["root1"]), b64(case["root2"]), proof)
            ours, theirs = script.verify_consistency(*args), verify_consistency(*args)
        assert ours is theirs is (not case["wantErr"]), path
        count += 1
    assert count > 100


def test_the_script_verifiers_agree_with_the_library_on_every_small_proof():
    for size in range(1, 25):
        root = TREE.root(size)
        for index in range(size):
            proof = TREE.inclusion_proof(index, size)
            assert script.verify_inclusion(LEAVES[index], index, size, proof, root)
            assert not script.verify_inclusion(LEAVES[index], index, size + 1, proof, root) or (
                verify_inclusion(LEAVES[index], index, size + 1, proof, root)
            )
        for first in range(1, size + 1):
            proof = TREE.consistency_proof(first, size)
            assert script.verify_consistency(first, size, TREE.root(first), root, proof)
            if proof:
                assert not script.verify_consistency(first, size, TREE.root(first), root, proof[1:])


# -- the command line -----------------------------------------------------------------------------


def test_a_valid_inclusion_proof_exits_0(tmp_path):
    proof = write(tmp_path, "proof.json", inclusion_document(17, 33))
    result = run("inclusion", proof)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: leaf 17")


@pytest.mark.parametrize(
    "change",
    ["audit_path", "leaf_hash", "root_hash", "leaf_index", "tree_size", "truncate", "extend"],
)
def test_a_tampered_inclusion_proof_exits_1(tmp_path, change):
    document = inclusion_document(17, 33)
    if change == "audit_path":
        document["audit_path"][2] = flip_hex(document["audit_path"][2], 77)
    elif change in ("leaf_hash", "root_hash"):
        document[change] = flip_hex(document[change], 200)
    elif change == "leaf_index":
        document["leaf_index"] = 16
    elif change == "tree_size":
        # A size whose path has another shape (sizes 33..64 share this path's shape; only a
        # signed tree head binds the size, see the --head test).
        document["tree_size"] = 32
    elif change == "truncate":
        document["audit_path"].pop()
    else:
        document["audit_path"].append(document["root_hash"])
    result = run("inclusion", write(tmp_path, "proof.json", document))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("FAILED:")


def test_an_inclusion_proof_is_checked_against_a_given_tree_head(tmp_path, key_file):
    proof = write(tmp_path, "proof.json", inclusion_document(5, 20))
    head = write(tmp_path, "head.json", signed_head(20))
    assert run("inclusion", proof, "--head", head).returncode == 0
    result = run("inclusion", proof, "--head", head, "--public-key", key_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "signature" in result.stdout
    other = write(tmp_path, "other.json", signed_head(21))
    result = run("inclusion", proof, "--head", other)
    assert result.returncode == 1
    assert "size" in result.stdout
    forged = signed_head(20)
    forged["signature"] = flip_hex(forged["signature"], 3)
    forged_head = write(tmp_path, "forged.json", forged)
    assert run("inclusion", proof, "--head", forged_head).returncode == 0
    assert run("inclusion", proof, "--head", forged_head, "--public-key", key_file).returncode == 1


def test_a_valid_consistency_proof_exits_0_and_a_tampered_one_exits_1(tmp_path):
    document = consistency_document(13, 40)
    result = run("consistency", write(tmp_path, "good.json", document))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: the tree of size 40")
    for field, value in [
        ("first_root", flip_hex(document["first_root"], 9)),
        ("second_root", flip_hex(document["second_root"], 9)),
        ("first_size", 12),
        ("second_size", 32),  # 33..64 would share the shape; heads bind the size
        (
            "consistency_path",
            [flip_hex(document["consistency_path"][0], 100), *document["consistency_path"][1:]],
        ),
        ("consistency_path", document["consistency_path"][:-1]),
    ]:
        bad = {**document, field: value}
        result = run("consistency", write(tmp_path, "bad.json", bad))
        assert result.returncode == 1, (field, result.stdout + result.stderr)
        assert result.stdout.startswith("FAILED:")


def test_a_consistency_proof_is_checked_against_both_tree_heads(tmp_path, key_file):
    proof = write(tmp_path, "proof.json", consistency_document(8, 30))
    first = write(tmp_path, "h1.json", signed_head(8))
    second = write(tmp_path, "h2.json", signed_head(30, "2024-06-01T00:00:00Z"))
    args = ["consistency", proof, "--first-head", first, "--second-head", second]
    result = run(*args, "--public-key", key_file)
    assert result.returncode == 0, result.stdout + result.stderr
    swapped = ["consistency", proof, "--first-head", second, "--second-head", first]
    assert run(*swapped).returncode == 1


def test_a_signed_tree_head_made_with_cryptography_verifies_and_a_one_bit_change_does_not(
    tmp_path, key_file
):
    head = signed_head(33)
    result = run("head", write(tmp_path, "head.json", head), "--public-key", key_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: the tree head of size 33")
    for field, value in [
        ("signature", flip_hex(head["signature"], 1)),
        ("signature", flip_hex(head["signature"], 400)),
        ("root_hash", flip_hex(head["root_hash"], 0)),
        ("tree_size", 34),
        ("timestamp", 1700000001),
    ]:
        bad = write(tmp_path, "bad.json", {**head, field: value})
        result = run("head", bad, "--public-key", key_file)
        assert result.returncode == 1, (field, result.stdout + result.stderr)
        assert result.stdout.startswith("FAILED:")


def test_a_pem_public_key_file_is_accepted_and_another_key_is_refused(tmp_path):
    pem = SIGNING_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem_file = tmp_path / "ledger.pem"
    pem_file.write_bytes(pem)
    head = write(tmp_path, "head.json", signed_head(10))
    assert run("head", head, "--public-key", pem_file).returncode == 0
    other = Ed25519PrivateKey.from_private_bytes(b"\x42" * 32).public_key()
    other_file = tmp_path / "other.pub"
    other_file.write_text(
        other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    )
    assert run("head", head, "--public-key", other_file).returncode == 1


def test_usage_and_file_errors_exit_2(tmp_path, key_file):
    assert run().returncode == 2
    assert run("inclusion").returncode == 2
    assert run("head", tmp_path / "missing.json", "--public-key", key_file).returncode == 2
    assert run("head", write(tmp_path, "h.json", signed_head(3))).returncode == 2
    not_json = tmp_path / "garbage.json"
    not_json.write_text("{not json")
    result = run("inclusion", not_json)
    assert result.returncode == 2
    assert result.stderr.startswith("error:")
    incomplete = inclusion_document(1, 4)
    del incomplete["audit_path"]
    assert run("inclusion", write(tmp_path, "p.json", incomplete)).returncode == 2
    bad_key = tmp_path / "bad.pub"
    bad_key.write_text("not a key")
    head = write(tmp_path, "head.json", signed_head(3))
    assert run("head", head, "--public-key", bad_key).returncode == 2
    proof = write(tmp_path, "proof.json", inclusion_document(1, 4))
    assert run("inclusion", proof, "--public-key", key_file).returncode == 2


def test_help_is_available_for_every_command():
    for args in ([], ["inclusion"], ["consistency"], ["head"]):
        result = run(*args, "--help")
        assert result.returncode == 0
        assert "usage:" in result.stdout


def test_the_script_is_executable_with_a_python3_shebang():
    assert SCRIPT.read_text().startswith("#!/usr/bin/env python3\n")
    assert SCRIPT.stat().st_mode & 0o111
