"""The witness (c2sp.org/tlog-witness add-checkpoint), served by waitress: every answer it gives."""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
import time

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.note import Ed25519Signer, open_note, parse_note
from audit.witness.cosignature import (
    CosignatureVerifier,
    cosigned_message,
    parse_cosigner_vkey,
    timestamp_of,
)
from audit.witness.state import WitnessState, init_state
from ledger.cli import cli
from tests.audit.witness_fixtures import ORIGIN, FakeLog, get, post, served


@pytest.fixture
def log() -> FakeLog:
    fake = FakeLog()
    fake.grow_to(300)
    return fake


@pytest.fixture
def state(tmp_path, log) -> WitnessState:  # type: ignore[no-untyped-def]
    witness = init_state("witness.example/w1", tmp_path / "witness")
    witness.add_log(log.signer.vkey())
    return witness


@pytest.fixture
def url(state) -> str:  # type: ignore[no-untyped-def]
    with served(state) as base:
        yield base + "/add-checkpoint"


def cosignature_of(state: WitnessState, checkpoint_note: str, response: bytes) -> int:
    """Verify the response as cosignature lines on the checkpoint; return the timestamp."""
    text = parse_note(checkpoint_note).text
    _, verified = open_note(text + "\n" + response.decode(), [state.signer.verifier()])
    assert len(verified) == 1 and verified[0].name == "witness.example/w1"
    return timestamp_of(verified[0].signature)


def test_a_first_checkpoint_from_size_zero_is_cosigned_with_a_timestamped_cosignature(
    state, log, url
):
    status, content_type, body = post(url, log.body(0, 10))
    assert content_type.startswith("text/plain")
    assert status == 200, body
    assert body.startswith("— witness.example/w1 ".encode()) and body.endswith(b"\n")
    timestamp = cosignature_of(state, log.checkpoint(10), body)
    assert abs(timestamp - time.time()) < 60
    assert state.latest(ORIGIN).tree_size == 10


def test_the_cosignature_signs_exactly_the_message_the_spec_defines(state, log, url):
    _, _, body = post(url, log.body(0, 5))
    line = body.decode().rstrip("\n")
    blob = base64.b64decode(line.split(" ")[2])
    public = state.signer.public_key
    expected_id = hashlib.sha256(b"witness.example/w1\n\x04" + public).digest()[:4]
    assert blob[:4] == expected_id
    timestamp = struct.unpack(">Q", blob[4:12])[0]
    text = parse_note(log.checkpoint(5)).text
    message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    assert message == cosigned_message(text, timestamp)
    Ed25519PublicKey.from_public_bytes(public).verify(blob[12:], message)  # raises if wrong
    vkey = state.signer.vkey()
    assert vkey.split("+", 2)[1] == expected_id.hex()
    assert base64.b64decode(vkey.split("+", 2)[2]) == b"\x04" + public
    assert isinstance(parse_cosigner_vkey(vkey), CosignatureVerifier)


def test_a_consistent_larger_checkpoint_is_cosigned_and_recorded(state, log, url):
    assert post(url, log.body(0, 10))[0] == 200
    status, _, body = post(url, log.body(10, 257))
    assert status == 200, body
    assert state.latest(ORIGIN).tree_size == 257
    assert post(url, log.body(257, 257))[0] == 200  # the same checkpoint again: cosigned again


def test_an_old_size_other_than_the_latest_cosigned_is_409_with_that_size(state, log, url):
    assert post(url, log.body(0, 10))[0] == 200
    status, content_type, body = post(url, log.body(0, 20))
    assert (status, content_type, body) == (409, "text/x.tlog.size", b"10\n")
    status, content_type, body = post(url, log.body(5, 20))
    assert (status, body) == (409, b"10\n")
    assert state.latest(ORIGIN).tree_size == 10


def test_an_unknown_origin_is_404(tmp_path, url):
    stranger = FakeLog("other.example/log")
    stranger.grow_to(3)
    status, _, body = post(url, stranger.body(0, 3))
    assert status == 404 and b"unknown_origin" in body


def test_a_checkpoint_not_signed_by_a_trusted_key_is_403(log, url):
    impostor = FakeLog(ORIGIN)  # same origin and name, another key (another key id)
    impostor.grow_to(10)
    status, _, body = post(url, impostor.body(0, 10))
    assert status == 403 and b"bad_signature" in body


def test_a_trusted_keys_signature_that_fails_to_verify_is_403(log, url):
    note = log.checkpoint(10)
    line = note.rstrip("\n").split("\n")[-1]
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[-1] ^= 1
    forged = note.replace(line.split(" ")[2], base64.b64encode(bytes(blob)).decode())
    status, _, _ = post(url, log.body(0, 10, note=forged))
    assert status == 403


def test_unknown_signatures_beside_the_logs_are_ignored(log, url):
    other = Ed25519Signer("someone.else/key", Ed25519PrivateKey.generate())
    note = sign_checkpoint(Checkpoint(ORIGIN, 10, log.root(10)), [other, log.signer])
    assert post(url, log.body(0, 10, note=note))[0] == 200


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old\n\n",
        b"old 01\n\n",
        b"old -1\n\n",
        b"old 1 \n\n",
        b"new 0\n\n",
        b"old 0\nnot-base64!\n\n",
        b"old 0\n" + base64.b64encode(b"short") + b"\n\n",
        b"old 0\n" + (base64.b64encode(bytes(32)) + b"\n") * 64 + b"\n",
        b"old 0\n",
        b"old 0\n\nnot a checkpoint\n",
        b"old 0\n\n\xff\xfe\n\n",
    ],
)
def test_a_malformed_body_is_400_and_changes_nothing(state, log, url, body):
    status, _, answer = post(url, body)
    assert status == 400, answer
    assert state.latest(ORIGIN) is None


def test_an_old_size_above_the_checkpoint_size_is_400(state, log, url):
    assert post(url, log.body(20, 10, proof=[]))[0] == 400


@pytest.mark.parametrize(
    ("old", "n", "why"),
    [(0, 0, "empty root"), (0, 10, "proof from zero"), (10, 20, "bad proof"), (10, 10, "same size")],
)
def test_inconsistent_checkpoints_are_422_and_kept_as_evidence(state, log, url, old, n, why):
    if old:
        assert post(url, log.body(0, old))[0] == 200
    if why == "empty root":
        body = log.body(0, 0, note=log.checkpoint(0, root=hashlib.sha256(b"x").digest()))
    elif why == "proof from zero":
        body = log.body(0, n, proof=[bytes(32)])
    elif why == "bad proof":
        proof = log.tree.consistency_proof(old, n)
        proof[0] = bytes(32)
        body = log.body(old, n, proof=proof)
    else:
        body = log.body(old, n, note=log.checkpoint(n, root=hashlib.sha256(b"x").digest()))
    status, _, answer = post(url, body)
    assert status == 422, answer
    assert state.latest(ORIGIN) is None if not old else state.latest(ORIGIN).tree_size == old
    assert [r["status"] for r in state.refusals()] == [422]


def test_a_fork_of_the_log_is_refused_with_422(state, log, url):
    """Another history of the same origin and key (a rewritten log) cannot prove consistency."""
    assert post(url, log.body(0, 100))[0] == 200
    forked = FakeLog(ORIGIN, salt="rewritten")
    forked.signer = log.signer
    forked.grow_to(200)
    status, _, _ = post(url, forked.body(100, 200))
    assert status == 422
    assert state.latest(ORIGIN).tree_size == 100


def test_the_latest_cosigned_checkpoint_is_served_by_origin_hash(state, log, url):
    base = url.removesuffix("/add-checkpoint")
    origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
    assert get(f"{base}/{origin_hash}/checkpoint")[0] == 404
    post(url, log.body(0, 42))
    status, body = get(f"{base}/{origin_hash}/checkpoint")
    assert status == 200
    _, verified = open_note(body, [log.signer.verifier(), state.signer.verifier()])
    assert {s.name for s in verified} == {ORIGIN, "witness.example/w1"}
    assert get(f"{base}/nothing")[0] == 404
    assert get(url)[0] == 405


def test_concurrent_submissions_never_roll_the_witness_back(state, log, url):
    """From size 10, racing submissions of 50 and of 300 (both from old 10): exactly one wins.

    Without the atomic check-and-record, both could pass the check and the smaller could be
    recorded last, rolling the witness back (the race the spec describes).
    """
    assert post(url, log.body(0, 10))[0] == 200
    bodies = [log.body(10, 50), log.body(10, 300)] * 8
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, int]] = []

    def submit(body: bytes) -> None:
        barrier.wait()
        status, _, _ = post(url, body)
        results.append((status, int(body.split(b"\n\n", 1)[1].split(b"\n")[1])))

    threads = [threading.Thread(target=submit, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [size for status, size in results if status == 200]
    assert len(winners) == 1, results
    assert sorted(status for status, _ in results) == [200] + [409] * (len(bodies) - 1)
    assert state.latest(ORIGIN).tree_size == winners[0]


def test_witness_init_prints_its_verifier_key_and_add_log_trusts_a_log(tmp_path, log):
    runner = CliRunner()
    directory = str(tmp_path / "w2")
    result = runner.invoke(cli, ["witness", "init", "--name", "renda.songjiang/w", "--state", directory])
    assert result.exit_code == 0, result.output
    vkey = result.output.strip().splitlines()[-1]
    assert parse_cosigner_vkey(vkey).name == "renda.songjiang/w"
    again = runner.invoke(cli, ["witness", "init", "--name", "x/y", "--state", directory])
    assert again.exit_code == 2 and "witness_exists" in again.output
    added = runner.invoke(cli, ["witness", "add-log", "--vkey", log.signer.vkey(), "--state", directory])
    assert added.exit_code == 0 and ORIGIN in added.output
    bad = runner.invoke(cli, ["witness", "add-log", "--vkey", vkey, "--state", directory])
    assert bad.exit_code == 2 and "bad_vkey" in bad.output  # a witness key is not a log key
    listed = runner.invoke(cli, ["witness", "logs", "--state", directory])
    assert ORIGIN in listed.output and "尚未联署" in listed.output
    assert WitnessState(directory).signer.vkey() == vkey
    missing = runner.invoke(cli, ["witness", "vkey", "--state", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "no_witness" in missing.output


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_body_makes_the_witness_fail_or_cosign_what_it_should_not(state, log, data):
    """Any bytes, or a valid body with bytes flipped, cut or inserted: a 4xx or a due 200."""
    from audit.witness.protocol import add_checkpoint

    valid = log.body(0, 10)
    kind = data.draw(st.sampled_from(["random", "flip", "cut", "insert"]))
    if kind == "random":
        body = data.draw(st.binary(max_size=600))
    else:
        i = data.draw(st.integers(0, len(valid) - 1))
        if kind == "flip":
            body = valid[:i] + bytes([valid[i] ^ data.draw(st.integers(1, 255))]) + valid[i + 1 :]
        elif kind == "cut":
            body = valid[:i]
        else:
            body = valid[:i] + data.draw(st.binary(min_size=1, max_size=8)) + valid[i:]
    answer = add_checkpoint(state, body)
    assert answer.status in (200, 400, 403, 404, 409, 422)
    if answer.status == 200:  # only ever the checkpoint the log signed (or the same, re-sent)
        assert state.latest(ORIGIN).root_hash == log.root(10)
