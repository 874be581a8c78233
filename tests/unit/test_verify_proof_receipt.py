"""scripts/verify_proof.py receipt: C2SP tlog-proofs checked with the standard library alone.

Receipts are made here with the project's own code (audit.receipts.format_proof, audit.note)
and witness cosignatures exactly as c2sp.org/tlog-cosignature defines them (signed with the
``cryptography`` package); the script checks them with its pure-Python Ed25519.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.merkle import MerkleTree
from audit.note import (
    ALG_COSIGNATURE_V1,
    Ed25519Signer,
    Signature,
    format_vkey,
    key_id,
    raw_public_key,
)
from audit.receipts import format_proof

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_proof.py"
ORIGIN = "ledger.test/receipts"
SIZE = 300


def _load_script():
    spec = importlib.util.spec_from_file_location("verify_proof_receipt_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _load_script()


class Witness:
    """A tlog-cosignature/v1 (timestamped Ed25519) cosigner."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = Ed25519PrivateKey.generate()
        self.public = raw_public_key(self.key.public_key())
        self.key_id = key_id(name, ALG_COSIGNATURE_V1, self.public)
        self.vkey = format_vkey(name, ALG_COSIGNATURE_V1, self.public)

    def cosign(self, body: str, timestamp: int = 1_764_000_000) -> Signature:
        message = f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()
        return Signature(self.name, self.key_id, struct.pack(">Q", timestamp) + self.key.sign(message))


ENTRIES = [f"songjiang-ledger event v1\n{i + 1}\nabc\n1\nt:T\n{{\"n\":{i}}}".encode() for i in range(SIZE)]
TREE = MerkleTree.from_leaf_hashes(hashlib.sha256(b"\x00" + e).digest() for e in ENTRIES)
LOG = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())
W1, W2, W3 = Witness("w1.example/a"), Witness("w2.example/b"), Witness("w3.example/c")
CHECKPOINT = Checkpoint(ORIGIN, SIZE, TREE.root())


def receipt(index: int, cosigners=(W1, W2), entry: bytes | None = None, path=None) -> bytes:
    body = CHECKPOINT.text()
    note = sign_checkpoint(CHECKPOINT, [LOG], extra=[w.cosign(body) for w in cosigners])
    entry = ENTRIES[index] if entry is None else entry
    path = TREE.inclusion_proof(index) if path is None else path
    return format_proof(entry, index, path, note).encode()


def check(data: bytes, witnesses=(), quorum=None, vkey=None) -> str:
    return script.check_receipt(data, vkey or LOG.vkey(), [w.vkey for w in witnesses], quorum)


@pytest.mark.parametrize("index", [0, 1, 255, 256, 299])
def test_a_receipt_verifies_with_its_log_key_and_a_quorum_of_witnesses(index):
    assert check(receipt(index), [W1, W2], 2).startswith(f"OK: the entry at index {index} ")
    assert "2 witness cosignature(s)" in check(receipt(index), [W1, W2, W3], 2)


def test_the_proof_format_is_the_tlog_proof_one():
    lines = receipt(3).decode().split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1].startswith("extra ") and lines[2] == "index 3"
    assert lines[3 + len(TREE.inclusion_proof(3))] == ""
    assert lines[4 + len(TREE.inclusion_proof(3))] == ORIGIN


def test_too_few_cosignatures_fail():
    with pytest.raises(script.Invalid, match="1 of the given witnesses"):
        check(receipt(5, cosigners=(W1,)), [W1, W2], 2)
    assert check(receipt(5, cosigners=(W1,)), [W1, W2], 1).startswith("OK")


def test_a_forged_cosignature_of_a_known_witness_fails():
    body = CHECKPOINT.text()
    forged = Signature(W2.name, W2.key_id, struct.pack(">Q", 5) + W1.key.sign(b"x"))
    note = sign_checkpoint(CHECKPOINT, [LOG], extra=[W1.cosign(body), forged])
    data = format_proof(ENTRIES[5], 5, TREE.inclusion_proof(5), note).encode()
    with pytest.raises(script.Invalid, match=r"w2\.example/b does not verify"):
        check(data, [W1, W2], 1)


def test_another_log_key_or_origin_fails():
    other = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())
    with pytest.raises(script.Invalid, match="no signature of the log key"):
        check(receipt(5), vkey=other.vkey())
    stranger = Ed25519Signer("other.example/log", Ed25519PrivateKey.generate())
    with pytest.raises(script.Invalid, match=r"not 'other\.example/log'"):
        check(receipt(5), vkey=stranger.vkey())


def test_forged_inclusion_proofs_fail():
    other_tree = MerkleTree.from_leaf_hashes(
        hashlib.sha256(b"\x00" + e).digest() for e in [b"forged", *ENTRIES[1:]]
    )
    forged = [
        receipt(0, entry=b"forged"),  # another entry at the same index
        receipt(0, entry=b"forged", path=other_tree.inclusion_proof(0)),  # a proof from a fork
        receipt(7, path=TREE.inclusion_proof(8)),  # the path of a neighbour
        receipt(7, path=TREE.inclusion_proof(7)[:-1]),  # too short
        receipt(7, path=[*TREE.inclusion_proof(7), bytes(32)]),  # too long
        receipt(7, entry=ENTRIES[8]),
    ]
    for data in forged:
        with pytest.raises(script.Invalid):
            check(data)


def test_flipping_any_byte_of_a_receipt_fails_verification(monkeypatch):
    # The unchanged signatures are verified once, not once per flipped byte: same answers, less time.
    monkeypatch.setattr(script, "ed25519_verify", functools.lru_cache(None)(script.ed25519_verify))
    data = receipt(123, cosigners=(W1,))
    for i in range(len(data)):
        for bit in (0x01, 0x80):
            changed = data[:i] + bytes([data[i] ^ bit]) + data[i + 1:]
            with pytest.raises(script.Invalid):
                check(changed, [W1], 1)


def test_the_command_line_exits_0_1_and_2(tmp_path):
    good = tmp_path / "good.tlog-proof"
    good.write_bytes(receipt(9))
    bad = tmp_path / "bad.tlog-proof"
    bad.write_bytes(receipt(9).replace(b"index 9", b"index 8"))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(SCRIPT), "receipt", *args],
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    witness_args = ["--witness", W1.vkey, "--witness", W2.vkey, "--quorum", "2"]
    assert run(str(good), "--vkey", LOG.vkey(), *witness_args).returncode == 0
    assert run(str(bad), "--vkey", LOG.vkey()).returncode == 1
    assert run(str(good), "--vkey", "not-a-vkey").returncode == 2
    assert run(str(good), "--vkey", LOG.vkey(), "--quorum", "1").returncode == 2
    assert run(str(tmp_path / "missing"), "--vkey", LOG.vkey()).returncode == 2
    assert run(str(good), "--vkey", W1.vkey).returncode == 2  # a cosigner key is not a log key
