"""Signed notes and checkpoints follow C2SP signed-note and tlog-checkpoint exactly."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from audit.note import (
    Ed25519Signer,
    NoteError,
    Signature,
    format_vkey,
    key_id,
    open_note,
    parse_note,
    parse_vkey,
    sign_note,
    split_vkey,
)

# The example of c2sp.org/signed-note §Verifier keys.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmR"
    "KuwHjG1Yu72IneyaQM=\n"
)
ORIGIN = "ledger.test/log"


@pytest.fixture
def signer() -> Ed25519Signer:
    return Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())


def test_the_spec_example_note_verifies_under_the_spec_vkey():
    note, verified = open_note(SPEC_NOTE, [parse_vkey(SPEC_VKEY)])
    assert note.text == "This is an example message.\n"
    assert [s.name for s in verified] == ["example.com/foo"]
    assert verified[0].key_id == 0x530D903A


def test_key_id_is_the_first_four_bytes_of_sha256_of_name_newline_type_key(signer):
    digest = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + signer.public_key).digest()
    assert signer.key_id == int.from_bytes(digest[:4], "big")
    assert key_id(ORIGIN, 1, signer.public_key) == signer.key_id
    name, kid, alg, key = split_vkey(signer.vkey())
    assert (name, kid, alg, key) == (ORIGIN, signer.key_id, 1, signer.public_key)
    assert signer.vkey() == f"{ORIGIN}+{signer.key_id:08x}+" + base64.b64encode(
        b"\x01" + signer.public_key
    ).decode()


def test_a_note_signed_here_round_trips_and_signature_line_has_the_spec_form(signer):
    text = sign_note("hello\n", [signer])
    body, sig_line = text.split("\n\n")
    assert body == "hello"
    assert sig_line.startswith(f"— {ORIGIN} ") and sig_line.endswith("=\n")
    blob = base64.b64decode(sig_line.split(" ")[2])
    assert int.from_bytes(blob[:4], "big") == signer.key_id and len(blob) == 4 + 64
    note, verified = open_note(text, [signer.verifier()])
    assert note.text == "hello\n" and len(verified) == 1


def test_unknown_signatures_are_ignored_and_kept(signer):
    other = Ed25519Signer("other.example/key", Ed25519PrivateKey.generate())
    same_name = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())  # same name, other id
    text = sign_note("text\n", [other, signer, same_name])
    note, verified = open_note(text, [signer.verifier()])
    assert len(note.signatures) == 3
    assert [(s.name, s.key_id) for s in verified] == [(ORIGIN, signer.key_id)]


def test_a_known_key_with_a_bad_signature_rejects_the_whole_note(signer):
    good = Ed25519Signer("other.example/key", Ed25519PrivateKey.generate())
    forged = Signature(ORIGIN, signer.key_id, b"\x00" * 64)
    text = sign_note("text\n", [good], extra=[forged])
    with pytest.raises(NoteError) as caught:
        open_note(text, [signer.verifier(), good.verifier()])
    assert caught.value.code == "bad_signature"


def test_a_note_without_any_known_signature_is_rejected(signer):
    text = sign_note("text\n", [signer])
    stranger = Ed25519Signer("x.example/y", Ed25519PrivateKey.generate())
    with pytest.raises(NoteError) as caught:
        open_note(text, [stranger.verifier()])
    assert caught.value.code == "unverified_note"


def test_a_changed_text_fails_verification(signer):
    text = sign_note("amount 100\n", [signer])
    with pytest.raises(NoteError):
        open_note(text.replace("100", "900"), [signer.verifier()])


@pytest.mark.parametrize(
    "bad",
    [
        "no blank line\n— a/b AAAAAAA=\n",
        "text\n\n",  # no signature
        "text\n\n— a/b AAAAAAA=",  # no final newline
        "text\n\n- a/b AAAAAAA=\n",  # a hyphen, not an em dash
        "text\n\n— a/b AAAA\n",  # fewer than 5 bytes
        "text\n\n— a/b AAAAAAA\n",  # missing padding
        "text\n\n— a+b AAAAAAA=\n",  # plus in the name
        "text\n\n—  AAAAAAA=\n",  # empty name
        "te\txt\n\n— a/b AAAAAAA=\n",  # control character
        "text\r\n\n— a/b AAAAAAA=\n",
        b"\xff\xfe\n\n\xe2\x80\x94 a/b AAAAAAA=\n",  # not UTF-8
    ],
)
def test_malformed_notes_are_refused_with_a_code(bad):
    with pytest.raises(NoteError) as caught:
        parse_note(bad)
    assert caught.value.code == "malformed_note" or caught.value.code == "bad_key_name"


def test_the_text_is_separated_from_signatures_by_the_last_blank_line(signer):
    text = sign_note("para one\n\npara two\n", [signer])
    note, _ = open_note(text, [signer.verifier()])
    assert note.text == "para one\n\npara two\n"


def test_more_than_the_signature_limit_is_refused(signer):
    many = [Signature("k.example/x", i, b"s") for i in range(101)]
    with pytest.raises(NoteError):
        parse_note(sign_note("t\n", [signer], extra=many))
    sixteen = [Signature("k.example/x", i, b"s") for i in range(15)]
    assert len(parse_note(sign_note("t\n", [signer], extra=sixteen)).signatures) == 16


@pytest.mark.parametrize(
    "vkey",
    [
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # wrong id
        "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # upper hex
        "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # type 0x02
        "example.com/foo+530d903a",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",
    ],
)
def test_bad_verifier_keys_are_refused(vkey):
    with pytest.raises(NoteError):
        parse_vkey(vkey)


def test_format_vkey_matches_the_spec_example():
    _, kid, alg, key = split_vkey(SPEC_VKEY)
    assert format_vkey("example.com/foo", alg, key) == SPEC_VKEY
    assert kid == key_id("example.com/foo", alg, key)


def test_a_checkpoint_round_trips_through_its_signed_note(signer):
    cp = Checkpoint(ORIGIN, 20852163, hashlib.sha256(b"x").digest())
    text = sign_checkpoint(cp, [signer])
    assert text.startswith(f"{ORIGIN}\n20852163\n{base64.b64encode(cp.root_hash).decode()}\n\n— ")
    opened, _note, verified = open_checkpoint(text, [signer.verifier()], origin=ORIGIN)
    assert opened == cp and len(verified) == 1


def test_a_checkpoint_of_another_origin_is_refused(signer):
    text = sign_checkpoint(Checkpoint(ORIGIN, 1, bytes(32)), [signer])
    with pytest.raises(CheckpointError) as caught:
        open_checkpoint(text, [signer.verifier()], origin="other.example/log")
    assert caught.value.code == "wrong_origin"


ROOT = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"o\n01\n{ROOT}\n",  # leading zero
        f"o\n-1\n{ROOT}\n",
        f"o\n+1\n{ROOT}\n",
        f"o\n1 \n{ROOT}\n",
        f"o\n١\n{ROOT}\n",  # an Arabic-Indic digit
        f"o\n{2**64}\n{ROOT}\n",
        f"\n1\n{ROOT}\n",  # empty origin
        "o\n1\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "o\n1\n" + ROOT.rstrip("=") + "\n",
        f"o\n1\n{ROOT}",  # no final newline
        "o\n1\n",
        f"o\n1\n{ROOT}\n\n",  # an empty extension line
    ],
)
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(NoteError):
        parse_checkpoint(text)


def test_empty_tree_and_extension_lines_parse():
    assert parse_checkpoint(f"o\n0\n{ROOT}\n").tree_size == 0
    assert parse_checkpoint(f"o\n5\n{ROOT}\next one\n").extensions == ("ext one",)
