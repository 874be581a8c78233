"""Timestamped Ed25519 cosignatures, ``cosignature/v1`` (c2sp.org/tlog-cosignature).

A cosignature is a note signature line over a checkpoint::

    — <cosigner name> base64(key id ‖ u64 timestamp ‖ Ed25519 signature)

with the key id ``SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]`` and the signature made over::

    cosignature/v1
    time <timestamp>
    <the whole checkpoint text, ending in its newline>

The timestamp is POSIX seconds, big-endian, never zero, at most 2**63 - 1. The message does not
commit to the cosigner's name, so one public key must never serve two cosigners.
"""

from __future__ import annotations

import struct
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from audit.note import (
    ALG_COSIGNATURE_V1,
    NoteError,
    Signature,
    Signer,
    Verifier,
    check_key_name,
    format_vkey,
    key_id,
    raw_public_key,
    split_vkey,
)

#: The largest timestamp a cosignature may carry.
MAX_TIMESTAMP = 2**63 - 1
_TIMESTAMP = struct.Struct(">Q")
_ED25519_SIGNATURE_BYTES = 64


def cosigned_message(checkpoint_text: str | bytes, timestamp: int) -> bytes:
    """The exact bytes a ``cosignature/v1`` signature covers."""
    if not 0 < timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"a cosignature timestamp must be in 1..2**63-1, not {timestamp}")
    body = checkpoint_text.encode() if isinstance(checkpoint_text, str) else bytes(checkpoint_text)
    return b"cosignature/v1\ntime %d\n" % timestamp + body


def timestamp_of(signature: bytes) -> int:
    """The timestamp inside a cosignature's signature bytes (after the key id)."""
    if len(signature) != _TIMESTAMP.size + _ED25519_SIGNATURE_BYTES:
        raise NoteError("malformed_cosignature", "a cosignature/v1 signature has 72 bytes")
    return int(_TIMESTAMP.unpack(signature[: _TIMESTAMP.size])[0])


class CosignatureSigner(Signer):
    """A witness's key, signing checkpoints as timestamped cosignatures."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self.name = check_key_name(name)
        self._key = private_key
        self.public_key = raw_public_key(private_key.public_key())
        self.key_id = key_id(self.name, ALG_COSIGNATURE_V1, self.public_key)

    def sign(self, text: bytes, timestamp: int | None = None) -> bytes:
        """``u64 timestamp ‖ Ed25519 signature`` over the cosigned message of ``text``."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        return _TIMESTAMP.pack(timestamp) + self._key.sign(cosigned_message(text, timestamp))

    def cosign(self, checkpoint_text: str, timestamp: int | None = None) -> Signature:
        """The cosignature of a checkpoint's text, as a note signature."""
        return Signature(self.name, self.key_id, self.sign(checkpoint_text.encode(), timestamp))

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)

    def vkey(self) -> str:
        """The verifier key: ``<name>+<key id>+base64(0x04 ‖ public key)``."""
        return format_vkey(self.name, ALG_COSIGNATURE_V1, self.public_key, self.key_id)


class CosignatureVerifier(Verifier):
    """A witness's public key, checking its cosignatures (a note verifier of type 0x04)."""

    def __init__(self, name: str, public_key: bytes, kid: int | None = None) -> None:
        self.name = check_key_name(name)
        if len(public_key) != 32:
            raise NoteError("bad_vkey", "an Ed25519 public key has 32 bytes")
        self.public_key = bytes(public_key)
        self.key_id = key_id(self.name, ALG_COSIGNATURE_V1, self.public_key)
        if kid is not None and kid != self.key_id:
            raise NoteError("bad_vkey", f"key id {kid:08x} does not match the key of {name}")
        self._key = Ed25519PublicKey.from_public_bytes(self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            timestamp = timestamp_of(signature)
            self._key.verify(signature[_TIMESTAMP.size :], cosigned_message(text, timestamp))
        except (InvalidSignature, NoteError, ValueError):
            return False
        return True

    def vkey(self) -> str:
        return format_vkey(self.name, ALG_COSIGNATURE_V1, self.public_key, self.key_id)


def parse_cosigner_vkey(vkey: str) -> CosignatureVerifier:
    """A witness's verifier key (type 0x04) as a verifier; other types raise ``NoteError``."""
    name, kid, alg, key = split_vkey(vkey)
    if alg != ALG_COSIGNATURE_V1:
        raise NoteError(
            "unknown_key_type", f"signature type 0x{alg:02x} is not a cosignature/v1 key (0x04)"
        )
    return CosignatureVerifier(name, key, kid)
