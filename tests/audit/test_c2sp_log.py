"""The log in the C2SP formats, on both stores: checkpoints, tiles, bundles, receipts, refusals."""

from __future__ import annotations

import base64
import gzip
import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from audit.checkpoint import DEFAULT_ORIGIN, open_checkpoint
from audit.checkpoint_log import SigningRefused
from audit.heads import latest_heads, sign_tree_head
from audit.keys import load_private_key
from audit.merkle import MerkleTree
from audit.note import parse_vkey, raw_public_key
from audit.tiles import decode_bundle
from ledger import unit_of_work
from ledger.domain import Enterprise
from tests import factories as f

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_proof.py"


@pytest.fixture
def vkey(signing_key: str, run_cli: Any) -> str:
    result = run_cli("audit", "vkey")
    assert result.exit_code == 0, result.output
    return result.output.strip()


@pytest.fixture
def client(ledger: Any) -> Any:
    from web import create_app

    return create_app({"LEDGER_APP": ledger, "TESTING": True, "SECRET_KEY": "t"}).test_client()


def test_vkey_is_the_signing_key_under_the_default_origin(vkey, signing_key):
    verifier = parse_vkey(vkey)
    assert verifier.name == DEFAULT_ORIGIN
    assert verifier.public_key == raw_public_key(load_private_key(signing_key).public_key())


def test_the_origin_is_a_setting(run_cli, monkeypatch):
    monkeypatch.setenv("LEDGER_LOG_ORIGIN", "audit.example/other-log")
    assert run_cli("audit", "vkey").output.startswith("audit.example/other-log+")


def test_a_signed_head_is_also_a_checkpoint_of_the_same_tree(ledger, vkey):
    head = sign_tree_head(ledger)
    checkpoint, _note, verified = open_checkpoint(
        head["checkpoint"], [parse_vkey(vkey)], origin=DEFAULT_ORIGIN
    )
    assert len(verified) == 1
    assert checkpoint.tree_size == head["tree_size"] == ledger.log_position()
    assert checkpoint.root_hash.hex() == head["root_hash"]
    assert latest_heads(ledger, 1)[0]["checkpoint"] == head["checkpoint"]


def test_a_truncated_log_is_never_signed(ledger, intruder):
    head = sign_tree_head(ledger)
    intruder.drop_triggers()
    last = head["tree_size"] - 1
    intruder.execute("DELETE FROM {leaves} WHERE leaf_index = ?", (last,))
    intruder.execute("DELETE FROM {events} WHERE {pos} = ?", (ledger.log_position(),))
    with pytest.raises(SigningRefused, match="truncated"):
        sign_tree_head(ledger)
    assert latest_heads(ledger, 5)[0]["id"] == head["id"]  # nothing was signed


def test_a_rewritten_log_is_never_signed(ledger, intruder):
    sign_tree_head(ledger)
    ledger.execute(f.award("A-9", amount_fen=1_000_000), "olga")
    intruder.drop_triggers()
    # A leaf inside the signed tree changes (with the node cache wiped, so the tree recomputes)
    intruder.execute("UPDATE {leaves} SET leaf_hash = ? WHERE leaf_index = 2", (bytes(32),))
    intruder.execute("DELETE FROM {nodes}")
    with pytest.raises(SigningRefused, match="not consistent"):
        sign_tree_head(ledger)
    assert len(latest_heads(ledger, 5)) == 1


def test_tiles_and_bundles_are_served_with_the_checkpoint(ledger, client, vkey):
    sign_tree_head(ledger)
    response = client.get("/tlog/checkpoint")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert "max-age=2" in response.headers["Cache-Control"]
    checkpoint, _, _ = open_checkpoint(response.data, [parse_vkey(vkey)])
    size = checkpoint.tree_size
    assert 0 < size < 256
    tile = client.get(f"/tlog/tile/0/000.p/{size}")
    assert tile.status_code == 200 and tile.content_type == "application/octet-stream"
    assert tile.headers["Cache-Control"] == "public, max-age=60"
    hashes = [tile.data[i:i + 32] for i in range(0, len(tile.data), 32)]
    assert MerkleTree.from_leaf_hashes(hashes).root() == checkpoint.root_hash
    bundle = client.get(f"/tlog/tile/entries/000.p/{size}", headers={"Accept-Encoding": "gzip"})
    assert bundle.headers["Content-Encoding"] == "gzip"
    entries = decode_bundle(gzip.decompress(bundle.data))
    assert [hashlib.sha256(b"\x00" + e).digest() for e in entries] == hashes


NOT_THERE = [
    "tile/0/000", "tile/0/000.p/255", "tile/1/000.p/1", "tile/entries/001.p/1",
    "tile/0/x000/000", "tile/0/0", "tile/00/000", "tile/64/000", "tile/0/000.p/0",
    "tile/0/000.p/256", "tile/0/000.p/", "tile/data/000", "tile/0/-01", "tile/0/000.p/1/x",
]  # fmt: skip


def test_tiles_beyond_the_checkpoint_and_malformed_paths_are_404(ledger, client):
    sign_tree_head(ledger)
    for path in NOT_THERE:
        response = client.get("/tlog/" + path)
        assert response.status_code == 404, path
        assert response.data.startswith(b"not_found: "), path


def test_the_tlog_answers_404_before_any_checkpoint(ledger, client):
    assert client.get("/tlog/checkpoint").status_code == 404


def test_publish_writes_what_the_server_serves(ledger, client, run_cli, tmp_path):
    sign_tree_head(ledger)
    result = run_cli("audit", "publish", str(tmp_path / "pub"))
    assert result.exit_code == 0, result.output
    files = sorted(p for p in (tmp_path / "pub").rglob("*") if p.is_file())
    assert len(files) == 3
    for path in files:
        rel = path.relative_to(tmp_path / "pub").as_posix()
        assert client.get("/tlog/" + rel).data == path.read_bytes(), rel


def test_a_payment_receipt_downloaded_from_the_web_verifies_offline(ledger, client, vkey, tmp_path):
    sign_tree_head(ledger)
    response = client.get("/tlog/receipt/D-1.tlog-proof")
    assert response.status_code == 200, response.data
    assert "D-1-" in response.headers["Content-Disposition"]
    proof = tmp_path / "D-1.tlog-proof"
    proof.write_bytes(response.data)
    ok = subprocess.run([sys.executable, str(SCRIPT), "receipt", str(proof), "--vkey", vkey],
                        capture_output=True, text=True, timeout=60)  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "DisbursementRecorded" in ok.stdout
    extra = response.data.split(b"\n")[1].split(b" ")[1]
    assert b'"reference":"D-1"' in base64.b64decode(extra)
    for i in (0, 30, len(response.data) // 2, len(response.data) - 5):  # every byte: unit tests
        proof.write_bytes(flip(response.data, i))
        bad = subprocess.run([sys.executable, str(SCRIPT), "receipt", str(proof), "--vkey", vkey],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
        assert bad.returncode == 1, (i, bad.stdout)


def flip(data: bytes, i: int) -> bytes:
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


def test_receipts_by_reference_and_position_from_the_cli(ledger, run_cli, vkey, tmp_path):
    sign_tree_head(ledger)
    result = run_cli("audit", "receipt", "D-3", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("D-3-*.tlog-proof"))
    assert len(files) == 3  # recorded, approved, reversed
    for path in files:
        run = subprocess.run([sys.executable, str(SCRIPT), "receipt", str(path), "--vkey", vkey],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
        assert run.returncode == 0, run.stdout
    one = run_cli("audit", "receipt", "--position", "3", "--out", str(tmp_path / "p3.tlog-proof"))
    assert one.exit_code == 0 and (tmp_path / "p3.tlog-proof").read_text().startswith("c2sp.org/")


def test_receipts_are_refused_with_a_code(ledger, run_cli, client):
    unknown = run_cli("audit", "receipt", "NO-SUCH-REF")
    assert unknown.exit_code == 2 and "unknown_reference" in unknown.output
    uncovered = run_cli("audit", "receipt", "D-1")  # no checkpoint yet
    assert uncovered.exit_code == 2 and "not_checkpointed" in uncovered.output
    assert client.get("/tlog/receipt/D-1.tlog-proof").status_code == 409
    assert client.get("/tlog/receipt/NOPE.tlog-proof").status_code == 404


def test_a_command_that_would_record_a_too_long_entry_is_refused(app, monkeypatch):
    monkeypatch.setattr(unit_of_work, "ENTRY_BYTES_LIMIT", 800)
    before = app.log_position()
    long_name = "上海" + "很长的名字" * 30
    results = app.execute_many([
        (f.enterprise(f.USCC_A), "olga"),
        (f.enterprise(f.USCC_B, name=long_name), "olga"),
    ])  # fmt: skip
    assert not isinstance(results[0], Exception)
    assert getattr(results[1], "code", None) == "validation_error"
    assert "800" in str(results[1])
    assert app.log_position() > before
    assert app.find(Enterprise, f.USCC_B) is None  # nothing of the refused command recorded
    assert app.find(Enterprise, f.USCC_A) is not None
