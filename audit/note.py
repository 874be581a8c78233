"""C2SP signed notes (c2sp.org/signed-note): text signed by one or more keys.

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines::

    — <key name> <base64(4-byte key id ‖ signature)>

The key id of an Ed25519 key is ``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]``; its verifier
key (*vkey*) is ``<name>+<key id hex>+<base64(0x01 ‖ public key)>``. Verifying a note ignores
signatures of unknown keys (another name or another id), rejects the note if a known key's
signature fails, and rejects it unless at least one known key's signature verifies.

Other signature types (the witnesses' timestamped cosignatures, type 0x04) plug in as other
:class:`Verifier` / :class:`Signer` implementations: a verifier is a name, a key id and a
``verify(text, signature)``; :func:`split_vkey` parses any vkey into its parts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

#: Signature type identifier bytes (signed-note §Signature types) this project uses.
ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
#: The most signature lines a note may carry (the spec asks to accept at least 16; Go: 100).
MAX_SIGNATURES = 100
#: The largest note accepted, in bytes.
MAX_NOTE_BYTES = 1_000_000
#: The em dash and space that start every signature line.
SIG_PREFIX = "\u2014 "

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note that is malformed, or that no trusted key verifies (``code`` says which)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name, its 32-bit id and the signature bytes after it."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """The signature line, ending in a newline."""
        blob = struct.pack(">I", self.key_id) + self.signature
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Note:
    """A parsed note: its text (with the final newline) and its signatures in order."""

    text: str
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        """The note as text: the text, a blank line and its signature lines."""
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


class Verifier:
    """A known key: its name, its id and how to check its signatures over a note's text."""

    name: str
    key_id: int

    def verify(self, text: bytes, signature: bytes) -> bool:  # pragma: no cover - interface
        raise NotImplementedError


class Signer:
    """A key that signs notes: its name, its id and ``sign(text) -> signature bytes``."""

    name: str
    key_id: int

    def sign(self, text: bytes) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError


def check_key_name(name: str) -> str:
    """A key name, checked: non-empty, without Unicode spaces, ``+`` or control characters."""
    if not name or "+" in name or any(c.isspace() or ord(c) < 0x20 for c in name):
        raise NoteError("bad_key_name", f"invalid key name {name!r}")
    return name


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """The recommended key id: the first four bytes of SHA-256(name ‖ 0x0A ‖ alg ‖ key)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()
    return struct.unpack(">I", digest[:4])[0]


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    """An Ed25519 public key's 32 bytes (RFC 8032 encoding)."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def format_vkey(name: str, alg: int, public_key: bytes, kid: int | None = None) -> str:
    """A verifier key: ``<name>+<key id hex>+<base64(alg ‖ public key)>``."""
    check_key_name(name)
    kid = key_id(name, alg, public_key) if kid is None else kid
    return f"{name}+{kid:08x}+{base64.b64encode(bytes([alg]) + public_key).decode()}"


def split_vkey(vkey: str) -> tuple[str, int, int, bytes]:
    """A verifier key's parts: ``(name, key id, signature type, public key bytes)``."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise NoteError("bad_vkey", f"not a verifier key: {vkey!r}")
    name = check_key_name(parts[0])
    blob = strict_b64decode(parts[2], "bad_vkey")
    if len(blob) < 2:
        raise NoteError("bad_vkey", f"verifier key without key material: {vkey!r}")
    return name, int(parts[1], 16), blob[0], blob[1:]


def strict_b64decode(text: str, code: str) -> bytes:
    """Standard, padded, canonical base64 (RFC 4648 §4); anything else raises :class:`NoteError`."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(code, f"invalid base64: {text[:80]!r}") from None
    if base64.b64encode(data).decode() != text:
        raise NoteError(code, f"non-canonical base64: {text[:80]!r}")
    return data


class Ed25519Verifier(Verifier):
    """An Ed25519 (type 0x01) note verifier."""

    def __init__(self, name: str, public_key: bytes, kid: int | None = None) -> None:
        self.name = check_key_name(name)
        self.public_key = bytes(public_key)
        if len(self.public_key) != 32:
            raise NoteError("bad_vkey", "an Ed25519 public key has 32 bytes")
        self.key_id = key_id(name, ALG_ED25519, self.public_key) if kid is None else kid
        self._key = Ed25519PublicKey.from_public_bytes(self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, text)
        except InvalidSignature:
            return False
        return True

    def vkey(self) -> str:
        """This key as a verifier key string."""
        return format_vkey(self.name, ALG_ED25519, self.public_key, self.key_id)


class Ed25519Signer(Signer):
    """An Ed25519 (type 0x01) note signer under a key name."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self.name = check_key_name(name)
        self._key = private_key
        self.public_key = raw_public_key(private_key.public_key())
        self.key_id = key_id(name, ALG_ED25519, self.public_key)

    def sign(self, text: bytes) -> bytes:
        return self._key.sign(text)

    def verifier(self) -> Ed25519Verifier:
        """The verifier of this signer's signatures."""
        return Ed25519Verifier(self.name, self.public_key)

    def vkey(self) -> str:
        """This key's verifier key string."""
        return self.verifier().vkey()


def parse_vkey(vkey: str) -> Verifier:
    """An Ed25519 verifier from its verifier key (other types raise ``unknown_key_type``)."""
    name, kid, alg, key = split_vkey(vkey)
    if alg != ALG_ED25519:
        raise NoteError("unknown_key_type", f"signature type 0x{alg:02x} is not Ed25519")
    if kid != key_id(name, alg, key):
        raise NoteError("bad_vkey", f"key id {kid:08x} does not match the key of {name}")
    return Ed25519Verifier(name, key, kid)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        text = data
    else:
        if len(data) > MAX_NOTE_BYTES:
            raise NoteError("malformed_note", "note too large")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("malformed_note", "a note must be UTF-8") from None
    if len(text) > MAX_NOTE_BYTES:
        raise NoteError("malformed_note", "note too large")
    if _CONTROL.search(text):
        raise NoteError("malformed_note", "a note must not hold control characters")
    return text


def _parse_signature(line: str) -> Signature:
    if not line.startswith(SIG_PREFIX):
        raise NoteError("malformed_note", f"not a signature line: {line[:80]!r}")
    name, sep, b64 = line[len(SIG_PREFIX):].partition(" ")
    if not sep or not b64:
        raise NoteError("malformed_note", f"not a signature line: {line[:80]!r}")
    check_key_name(name)
    blob = strict_b64decode(b64, "malformed_note")
    if len(blob) < 5:
        raise NoteError("malformed_note", "signature too short")
    return Signature(name, struct.unpack(">I", blob[:4])[0], blob[4:])


def parse_note(data: bytes | str) -> Note:
    """A note's text and signature lines, parsed strictly (nothing is verified)."""
    text = _decode(data)
    if not text.endswith("\n"):
        raise NoteError("malformed_note", "a note must end in a newline")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed_note", "no blank line before the signatures")
    body, sig_block = text[: split + 1], text[split + 2:]
    lines = sig_block[:-1].split("\n") if sig_block else []
    if not lines:
        raise NoteError("malformed_note", "a note needs at least one signature")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("malformed_note", f"more than {MAX_SIGNATURES} signatures")
    return Note(body, tuple(_parse_signature(line) for line in lines))


def sign_note(text: str, signers: Sequence[Signer], extra: Iterable[Signature] = ()) -> str:
    """A note of ``text`` signed by each signer (then any ``extra`` signature lines kept)."""
    if not text.endswith("\n") or _CONTROL.search(text):
        raise NoteError("malformed_note", "note text must end in a newline, no control chars")
    message = text.encode()
    sigs = [Signature(s.name, s.key_id, s.sign(message)) for s in signers]
    return Note(text, tuple(sigs) + tuple(extra)).render()


def open_note(data: bytes | str, verifiers: Iterable[Verifier]) -> tuple[Note, list[Signature]]:
    """Parse and verify a note: ``(note, the signatures that verified)``.

    Signatures from keys not among ``verifiers`` (by name and id together) are ignored but kept
    in the note. A known key whose signature fails rejects the note (``bad_signature``); no
    verified signature at all rejects it too (``unverified_note``).
    """
    note = parse_note(data)
    known = {(v.name, v.key_id): v for v in verifiers}
    message = note.text.encode()
    verified: list[Signature] = []
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, sig.signature):
            raise NoteError("bad_signature", f"signature of {sig.name} does not verify")
        if all((s.name, s.key_id) != (sig.name, sig.key_id) for s in verified):
            verified.append(sig)
    if not verified:
        raise NoteError("unverified_note", "no signature of a known key")
    return note, verified
