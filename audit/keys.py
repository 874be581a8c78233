"""The Ed25519 key that signs tree heads, kept in files outside the database.

The private key lives at the path ``LEDGER_SIGNING_KEY`` names (default
``var/audit-signing-key.pem`` under the current directory) as an unencrypted PKCS #8 PEM file
readable by its owner only. Beside it, ``<path>.pub`` holds the public key as 64 lowercase hex
digits on one line: the form ``scripts/verify_proof.py --public-key`` reads, and what overseers
are given. Whoever can read the private key can sign tree heads, so it must never be stored in
the ledger's database, and the database's owner should not be able to read it.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

KEY_VARIABLE = "LEDGER_SIGNING_KEY"
DEFAULT_KEY_PATH = Path("var") / "audit-signing-key.pem"


class SigningKeyError(OSError):
    """The signing key is missing, unreadable or not an Ed25519 key."""




def key_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The private key's path: the argument, else ``LEDGER_SIGNING_KEY``, else the default."""
    if path:
        return Path(path)
    return Path(os.environ.get(KEY_VARIABLE, "").strip() or DEFAULT_KEY_PATH)


def public_key_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The public key file beside the private key (``<private key path>.pub``)."""
    private = key_path(path)
    return private.with_name(private.name + ".pub")


def generate_key(path: str | os.PathLike[str] | None = None, *, force: bool = False) -> Path:
    """Write a new key pair; return the private key's path. Refuses to overwrite unless forced."""
    private_path = key_path(path)
    if private_path.exists() and not force:
        raise SigningKeyError(f"{private_path} exists; refusing to replace a signing key")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = private_path.with_name(private_path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.replace(tmp, private_path)
    public_key_path(private_path).write_text(public_key_hex(key.public_key()) + "\n")
    return private_path


def load_private_key(path: str | os.PathLike[str] | None = None) -> Ed25519PrivateKey:
    """The signing key, read from its file."""
    private_path = key_path(path)
    try:
        data = private_path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(
            f"cannot read the signing key {private_path}: {exc.strerror}; "
            f"run `ledger audit keygen` or set {KEY_VARIABLE}"
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise SigningKeyError(f"{private_path} is not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{private_path} is not an Ed25519 key")
    return key


def public_key_hex(key: Ed25519PublicKey) -> str:
    """A public key as 64 lowercase hex digits (the raw 32 bytes)."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def load_public_key_hex(path: str | os.PathLike[str]) -> str:
    """A public key file (64 hex digits, or a PEM public key) as 64 lowercase hex digits."""
    text = Path(path).read_text().strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"{path} is not an Ed25519 public key")
        return public_key_hex(key)
    if len(text) != 64 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise SigningKeyError(f"{path} holds neither 64 hex digits nor a PEM public key")
    return text.lower()


def trusted_public_keys(
    extra: list[str | os.PathLike[str]] | None = None,
) -> set[str]:
    """The public keys tree heads are checked against: the ones given, else the configured one.

    The configured key is ``<LEDGER_SIGNING_KEY>.pub``, or derived from the private key if only
    that exists. The keys stored beside each head in the database are never trusted on their
    own: whoever could rewrite a head could rewrite its key too.
    """
    keys = {load_public_key_hex(p) for p in extra or []}
    if keys:
        return keys
    pub = public_key_path()
    if pub.exists():
        return {load_public_key_hex(pub)}
    if key_path().exists():
        return {public_key_hex(load_private_key().public_key())}
    return set()
