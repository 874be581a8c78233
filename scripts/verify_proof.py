#!/usr/bin/env python3
"""Check songjiang-ledger Merkle proofs and signed tree heads, with the Python standard library only.

This script deliberately does not import the ledger project: an overseer can read it in a few
minutes and run it against JSON published by the server without trusting any server code. The
proof verifiers are copies of those in ``audit/merkle.py`` (RFC 9162 §2.1.3.2 and §2.1.4.2 over
RFC 6962 hashing), and Ed25519 verification is the pure-Python reference algorithm of RFC 8032 §6.

Usage::

    verify_proof.py inclusion PROOF.json [--head HEAD.json [--public-key KEY]]
    verify_proof.py consistency PROOF.json [--first-head H1.json --second-head H2.json
                                            [--public-key KEY]]
    verify_proof.py head HEAD.json --public-key KEY
    verify_proof.py receipt FILE.tlog-proof --vkey LOG_VKEY [--witness VKEY ...] [--quorum K]

Documents (all hashes and signatures are hex):

* inclusion proof ``{"tree_size", "leaf_index", "leaf_hash", "audit_path": [...], "root_hash"}``
* consistency proof ``{"first_size", "second_size", "first_root", "second_root",
  "consistency_path": [...]}``
* signed tree head ``{"tree_size", "root_hash", "timestamp", "signature"}``; the Ed25519
  signature covers ``tree_head_message(tree_size, root_hash, timestamp)``, defined here exactly as
  in ``audit/merkle.py``: the UTF-8 encoding of
  ``f"songjiang-ledger tree head v1\\n{tree_size}\\n{root_hash_hex}\\n{timestamp}\\n"``, where the
  root hash is 64 lowercase hex digits and the timestamp is the JSON value as written (an integer
  in decimal, or a string verbatim).
* public key: the 32-byte raw Ed25519 key as 64 hex digits on one line, or a PEM
  ``-----BEGIN PUBLIC KEY-----`` (SubjectPublicKeyInfo) file, whose last 32 DER bytes are the key.

* receipt: a C2SP tlog-proof (c2sp.org/tlog-proof): the entry (the event's canonical bytes) in
  its ``extra`` line, its ``index``, the inclusion proof (base64 hashes, one a line) and, after
  a blank line, the log's checkpoint as a C2SP signed note (c2sp.org/signed-note,
  c2sp.org/tlog-checkpoint) with the log's Ed25519 signature and any witnesses' cosignatures
  (c2sp.org/tlog-cosignature, timestamped Ed25519). Keys are verifier keys
  ``<name>+<key id hex>+<base64(type ‖ public key)>`` (``ledger audit vkey`` prints the log's).

Exit status: 0 when everything checked is valid (an ``OK: ...`` line), 1 when a proof or signature
is invalid (a ``FAILED: ...`` line saying what failed), 2 when the command line is wrong or a file
cannot be read or does not have the expected form.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


# ---------------------------------------------------------------------------------------------
# RFC 6962 / RFC 9162 proof verification (a copy of audit/merkle.py, kept deliberately)
# ---------------------------------------------------------------------------------------------


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes | None:
    """The root the audit path leads to (RFC 9162 §2.1.3.2), or None if it cannot fit."""
    if not 0 <= index < size or len(leaf_hash) != HASH_SIZE:
        return None
    if any(len(p) != HASH_SIZE for p in proof):
        return None
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True if the audit path shows leaf_hash at index in the tree of size with root."""
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    return computed is not None and len(root) == HASH_SIZE and computed == root


def verify_consistency(
    first_size: int, second_size: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True if the proof shows the second tree extends the first (RFC 9162 §2.1.4.2)."""
    path = list(proof)
    if first_size < 0 or second_size < first_size:
        return False
    if first_size == second_size:
        if path:
            return False
        if first_size == 0:
            return first_root == EMPTY_ROOT and second_root == EMPTY_ROOT
        return first_root == second_root
    if first_size == 0 or not path:
        return False
    if len(first_root) != HASH_SIZE or len(second_root) != HASH_SIZE:
        return False
    if any(len(p) != HASH_SIZE for p in path):
        return False
    if first_size & (first_size - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def tree_head_message(tree_size: int, root_hash_hex: str, timestamp: int | str) -> bytes:
    """The signed bytes of a tree head: the same definition as audit/merkle.py.

    UTF-8 of f"songjiang-ledger tree head v1\\n{tree_size}\\n{root_hash_hex}\\n{timestamp}\\n".
    """
    return f"songjiang-ledger tree head v1\n{tree_size}\n{root_hash_hex}\n{timestamp}\n".encode()


# ---------------------------------------------------------------------------------------------
# Ed25519 signature verification, after the reference code of RFC 8032 §6
# ---------------------------------------------------------------------------------------------

_P = 2**255 - 19
_Q = 2**252 + 27742317777372353535851937790883648493  # the group order (called L in §5.1)
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _point_add(a: tuple[int, int, int, int], b: tuple[int, int, int, int]):
    # Extended homogeneous coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z.
    pa = (a[1] - a[0]) * (b[1] - b[0]) % _P
    pb = (a[1] + a[0]) * (b[1] + b[0]) % _P
    pc = 2 * a[3] * b[3] * _D % _P
    pd = 2 * a[2] * b[2] % _P
    e, f, g, h = pb - pa, pd - pc, pd + pc, pb + pa
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _point_mul(s: int, point: tuple[int, int, int, int]):
    result = (0, 1, 1, 0)  # the neutral element
    while s > 0:
        if s & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        s >>= 1
    return result


def _point_equal(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _point_decompress(data: bytes):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


_G_Y = 4 * pow(5, _P - 2, _P) % _P
_G_X = _recover_x(_G_Y, 0)
_G = (_G_X, _G_Y, 1, _G_X * _G_Y % _P)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True if signature is a valid Ed25519 signature of message by public_key (RFC 8032 §5.1.7).

    Cofactorless check [S]B = R + [k]A, with S < L and canonical point encodings required.
    """
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _point_decompress(public_key)
    if a is None:
        return False
    r_bytes = signature[:32]
    r = _point_decompress(r_bytes)
    if r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _Q:
        return False
    k = int.from_bytes(hashlib.sha512(r_bytes + public_key + message).digest(), "little") % _Q
    return _point_equal(_point_mul(s, _G), _point_add(r, _point_mul(k, a)))


# ---------------------------------------------------------------------------------------------
# Reading the documents
# ---------------------------------------------------------------------------------------------


class InputError(Exception):
    """A file that cannot be read or does not have the expected form (exit status 2)."""


class Invalid(Exception):
    """A proof, head or signature that does not check out (exit status 1)."""


_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
_HEX = frozenset("0123456789abcdefABCDEF")


def _load_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise InputError(f"{path} does not hold a JSON object")
    return document


def _field(document: dict, path: str, name: str) -> object:
    if name not in document:
        raise InputError(f"{path} has no {name!r} field")
    return document[name]


def _int_field(document: dict, path: str, name: str) -> int:
    value = _field(document, path, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{path}: {name!r} must be a non-negative integer")
    return value


def _hex_value(value: object, where: str) -> bytes:
    if not isinstance(value, str) or len(value) % 2 or not set(value) <= _HEX:
        raise InputError(f"{where} must be a string of hex digits")
    return bytes.fromhex(value)


def _hex_field(document: dict, path: str, name: str) -> bytes:
    return _hex_value(_field(document, path, name), f"{path}: {name!r}")


def _hex_list_field(document: dict, path: str, name: str) -> list[bytes]:
    value = _field(document, path, name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{path}: {name!r} must be a list of hex strings")
    return [_hex_value(item, f"{path}: {name}[{i}]") for i, item in enumerate(value)]


def load_public_key(path: str) -> bytes:
    """Read an Ed25519 public key: 64 hex digits, or a PEM SubjectPublicKeyInfo file."""
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read().strip()
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a text key file") from None
    if text.startswith("-----BEGIN"):
        lines = text.splitlines()
        if lines[0].strip() != "-----BEGIN PUBLIC KEY-----":
            raise InputError(f"{path} is not a PEM 'PUBLIC KEY' file")
        body = []
        for line in lines[1:]:
            if line.strip() == "-----END PUBLIC KEY-----":
                break
            body.append(line.strip())
        else:
            raise InputError(f"{path} has no '-----END PUBLIC KEY-----' line")
        try:
            der = base64.b64decode("".join(body), validate=True)
        except (binascii.Error, ValueError):
            raise InputError(f"{path} does not hold valid base64") from None
        if len(der) != len(_ED25519_SPKI_PREFIX) + 32 or not der.startswith(_ED25519_SPKI_PREFIX):
            raise InputError(f"{path} is not an Ed25519 public key")
        return der[-32:]
    if len(text) != 64 or not set(text) <= _HEX:
        raise InputError(f"{path} must hold 64 hex digits or a PEM public key")
    return bytes.fromhex(text)


def _read_head(path: str) -> dict:
    document = _load_json(path)
    root_hex = _field(document, path, "root_hash")
    root = _hex_field(document, path, "root_hash")
    if len(root) != HASH_SIZE or root_hex != root_hex.lower():
        raise InputError(f"{path}: 'root_hash' must be 64 lowercase hex digits")
    timestamp = _field(document, path, "timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, str)):
        raise InputError(f"{path}: 'timestamp' must be an integer or a string")
    if isinstance(timestamp, str) and ("\n" in timestamp or "\r" in timestamp):
        raise InputError(f"{path}: 'timestamp' must not contain line breaks")
    return {
        "path": path,
        "tree_size": _int_field(document, path, "tree_size"),
        "root_hash": root,
        "root_hex": root_hex,
        "timestamp": timestamp,
        "signature": _hex_field(document, path, "signature"),
    }


def _check_head_signature(head: dict, public_key: bytes) -> None:
    message = tree_head_message(head["tree_size"], head["root_hex"], head["timestamp"])
    if not ed25519_verify(public_key, message, head["signature"]):
        raise Invalid(f"the signature on the tree head {head['path']} is not valid for this key")


def _check_matches_head(what: str, size: int, root: bytes, head: dict) -> None:
    if size != head["tree_size"]:
        raise Invalid(
            f"the {what} tree size {size} differs from the tree head's size {head['tree_size']}"
        )
    if root != head["root_hash"]:
        raise Invalid(f"the {what} root hash differs from the tree head's root hash")


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def _inclusion(args: argparse.Namespace) -> str:
    path = args.proof
    proof = _load_json(path)
    size = _int_field(proof, path, "tree_size")
    index = _int_field(proof, path, "leaf_index")
    leaf = _hex_field(proof, path, "leaf_hash")
    audit_path = _hex_list_field(proof, path, "audit_path")
    root = _hex_field(proof, path, "root_hash")
    key = load_public_key(args.public_key) if args.public_key else None
    head = _read_head(args.head) if args.head else None
    if not verify_inclusion(leaf, index, size, audit_path, root):
        if index >= size:
            raise Invalid(f"leaf index {index} is not inside a tree of size {size}")
        raise Invalid(
            f"the audit path does not lead from leaf {index} to the root hash of the tree of size {size}"
        )
    notes = ""
    if head is not None:
        _check_matches_head("proof's", size, root, head)
        notes = ", which matches the tree head"
        if key is not None:
            _check_head_signature(head, key)
            notes += " and its valid signature"
    return (
        f"OK: leaf {index} (hash {leaf.hex()}) is included in the tree of size {size} "
        f"with root hash {root.hex()}{notes}"
    )


def _consistency(args: argparse.Namespace) -> str:
    path = args.proof
    proof = _load_json(path)
    first_size = _int_field(proof, path, "first_size")
    second_size = _int_field(proof, path, "second_size")
    first_root = _hex_field(proof, path, "first_root")
    second_root = _hex_field(proof, path, "second_root")
    consistency_path = _hex_list_field(proof, path, "consistency_path")
    key = load_public_key(args.public_key) if args.public_key else None
    first_head = _read_head(args.first_head) if args.first_head else None
    second_head = _read_head(args.second_head) if args.second_head else None
    if not verify_consistency(first_size, second_size, first_root, second_root, consistency_path):
        raise Invalid(
            f"the consistency path does not show that the tree of size {second_size} "
            f"extends the tree of size {first_size} with the given root hashes"
        )
    notes = ""
    if first_head is not None:
        _check_matches_head("first", first_size, first_root, first_head)
    if second_head is not None:
        _check_matches_head("second", second_size, second_root, second_head)
    if first_head is not None or second_head is not None:
        notes = ", matching the given tree heads"
        if key is not None:
            for head in (first_head, second_head):
                if head is not None:
                    _check_head_signature(head, key)
            notes += " and their valid signatures"
    return (
        f"OK: the tree of size {second_size} (root hash {second_root.hex()}) extends the tree "
        f"of size {first_size} (root hash {first_root.hex()}){notes}"
    )


def _head(args: argparse.Namespace) -> str:
    key = load_public_key(args.public_key)
    head = _read_head(args.head)
    _check_head_signature(head, key)
    return (
        f"OK: the tree head of size {head['tree_size']} with root hash {head['root_hex']} "
        f"and timestamp {head['timestamp']} is signed by the given key"
    )


# ---------------------------------------------------------------------------------------------
# C2SP signed notes, checkpoints, cosignatures and tlog-proofs (receipts)
# ---------------------------------------------------------------------------------------------

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
_SIG_PREFIX = "\u2014 "  # an em dash and a space start every signature line
_ALG_ED25519, _ALG_COSIGNATURE = 0x01, 0x04
_MAX_SIGNATURES = 100


def _b64(text: str, what: str) -> bytes:
    """Standard, padded, canonical base64, else Invalid."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Invalid(f"{what} is not valid base64") from None
    if base64.b64encode(data).decode() != text:
        raise Invalid(f"{what} is not canonical base64")
    return data


def _key_id(name: str, alg: int, key: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + key).digest()
    return int.from_bytes(digest[:4], "big")


def parse_vkey(text: str, allowed: tuple[int, ...]) -> tuple[str, int, int, bytes]:
    """A verifier key ``name+keyid+base64(type ‖ key)`` as (name, key id, type, key)."""
    parts = text.strip().split("+", 2)
    ok = len(parts) == 3 and len(parts[1]) == 8 and set(parts[1]) <= set("0123456789abcdef")
    if not ok or not parts[0] or any(c.isspace() for c in parts[0]):
        raise InputError(f"not a verifier key: {text!r}")
    try:
        blob = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"verifier key {parts[0]}: bad base64") from None
    if len(blob) != 33 or blob[0] not in allowed:
        raise InputError(f"verifier key {parts[0]}: not an Ed25519 key of type {allowed}")
    name, kid, alg, key = parts[0], int(parts[1], 16), blob[0], blob[1:]
    if kid != _key_id(name, alg, key):
        raise InputError(f"verifier key {name}: key id {parts[1]} does not match the key")
    return name, kid, alg, key


def _split_note(note: str) -> tuple[str, list[tuple[str, int, bytes]]]:
    """A signed note's text and its signatures (name, key id, signature bytes)."""
    if any(ord(c) < 0x20 and c != "\n" for c in note) or not note.endswith("\n"):
        raise Invalid("the checkpoint is not a well-formed signed note")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise Invalid("the checkpoint has no signatures")
    body, lines = note[: cut + 1], note[cut + 2 : -1].split("\n")
    if not lines or len(lines) > _MAX_SIGNATURES:
        raise Invalid("the checkpoint has no signatures, or too many")
    signatures = []
    for line in lines:
        name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not line.startswith(_SIG_PREFIX) or not name or "+" in name:
            raise Invalid(f"not a signature line: {line[:60]!r}")
        blob = _b64(b64, f"the signature of {name}")
        if len(blob) < 5:
            raise Invalid(f"the signature of {name} is too short")
        signatures.append((name, int.from_bytes(blob[:4], "big"), blob[4:]))
    return body, signatures


def _checkpoint_fields(body: str) -> tuple[str, int, bytes]:
    lines = body[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise Invalid("the checkpoint text has fewer than three lines, or an empty one")
    size = lines[1]
    if not (size == "0" or (size[:1] in "123456789" and size.isascii() and size.isdigit())):
        raise Invalid(f"bad tree size {size!r} in the checkpoint")
    root = _b64(lines[2], "the checkpoint's root hash")
    if len(root) != HASH_SIZE:
        raise Invalid("the checkpoint's root hash is not 32 bytes")
    return lines[0], int(size), root


def parse_receipt(text: str) -> dict:
    """A tlog-proof's parts: extra (bytes), index, proof hashes and the checkpoint note."""
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != PROOF_HEADER:
        raise Invalid(f"not a {PROOF_HEADER} receipt")
    extra = b""
    rest = lines[1:]
    if rest and rest[0].startswith("extra "):
        extra = _b64(rest.pop(0)[len("extra ") :], "the extra line")
    if not rest or not rest[0].startswith("index "):
        raise Invalid("the receipt has no index line")
    index_text = rest.pop(0)[len("index ") :]
    if not (index_text == "0" or (index_text[:1] in "123456789" and index_text.isascii()
                                  and index_text.isdigit())):  # fmt: skip
        raise Invalid(f"bad index {index_text!r}")
    path = [_b64(line, "an inclusion proof hash") for line in rest]
    if any(len(h) != HASH_SIZE for h in path):
        raise Invalid("an inclusion proof hash is not 32 bytes")
    return {"extra": extra, "index": int(index_text), "path": path, "note": note}


def _count_signatures(body: str, signatures: list, keys: list, message_of) -> int:
    """How many of these keys signed; a known key's bad signature is Invalid."""
    valid = 0
    for name, kid, _alg, key in keys:
        for sig_name, sig_kid, blob in signatures:
            if (sig_name, sig_kid) != (name, kid):
                continue
            message, signature = message_of(body, blob)
            if signature is None or not ed25519_verify(key, message, signature):
                raise Invalid(f"the signature of {name} does not verify")
            valid += 1
            break
    return valid


def _cosigned_message(body: str, blob: bytes) -> tuple[bytes, bytes | None]:
    if len(blob) != 8 + 64:
        return b"", None
    timestamp = int.from_bytes(blob[:8], "big")
    if timestamp >= 2**63:
        return b"", None
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode(), blob[8:]


def _entry_summary(entry: bytes) -> str:
    parts = entry.split(b"\n", 5)
    if len(parts) == 6 and parts[0] == b"songjiang-ledger event v1":
        return f"position {parts[1].decode(errors='replace')}, {parts[4].decode(errors='replace')}"
    return f"{len(entry)} bytes"


def _receipt(args: argparse.Namespace) -> str:
    try:
        with open(args.receipt, "rb") as handle:
            raw = handle.read(4_000_000)
    except OSError as error:
        raise InputError(f"cannot read {args.receipt}: {error.strerror or error}") from None
    return check_receipt(raw, args.vkey, args.witness, args.quorum)


def check_receipt(
    raw: bytes, vkey: str, witness_vkeys: Sequence[str] = (), quorum: int | None = None
) -> str:
    """Check a receipt's bytes under the log's vkey and witnesses' vkeys; the OK line, or
    Invalid (InputError for unusable keys)."""
    log_key = parse_vkey(vkey, (_ALG_ED25519,))
    witnesses = [parse_vkey(w, (_ALG_COSIGNATURE,)) for w in witness_vkeys]
    quorum = len(witnesses) if quorum is None else quorum
    if not 0 <= quorum <= len(witnesses):
        raise InputError(f"--quorum {quorum} needs between 0 and {len(witnesses)} --witness keys")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("the receipt is not UTF-8 text") from None
    receipt = parse_receipt(text)
    body, signatures = _split_note(receipt["note"])
    origin, size, root = _checkpoint_fields(body)
    if origin != log_key[0]:
        raise Invalid(f"the checkpoint is of the log {origin!r}, not {log_key[0]!r}")
    leaf = hashlib.sha256(b"\x00" + receipt["extra"]).digest()
    if not verify_inclusion(leaf, receipt["index"], size, receipt["path"], root):
        raise Invalid("the inclusion proof does not lead to the checkpoint's root hash")
    plain = lambda body, blob: (body.encode(), blob if len(blob) == 64 else None)  # noqa: E731
    if _count_signatures(body, signatures, [log_key], plain) != 1:
        raise Invalid(f"the checkpoint carries no signature of the log key {log_key[0]}")
    cosigned = _count_signatures(body, signatures, witnesses, _cosigned_message)
    if cosigned < quorum:
        raise Invalid(f"{cosigned} of the given witnesses cosigned the checkpoint; {quorum} needed")
    return (
        f"OK: the entry at index {receipt['index']} ({_entry_summary(receipt['extra'])}) is in "
        f"the log {origin} of size {size}, signed by its key; {cosigned} witness cosignature(s) "
        f"verified (quorum {quorum})"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="verify_proof.py",
        description=(
            "Check songjiang-ledger Merkle proofs and signed tree heads. "
            "The script needs nothing but Python's standard library and does not trust the server. "
            "It exits with 0 when everything checked is valid, 1 when something is invalid, "
            "and 2 when the command line is wrong or a file cannot be read."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inclusion = commands.add_parser(
        "inclusion",
        help="Check that a leaf is included in a tree.",
        description=(
            "Check an inclusion proof: that the leaf hash sits at the leaf index in the tree "
            "of the given size and root hash. A root hash does not by itself fix the tree size, "
            "so give the signed tree head with --head to check the size as well."
        ),
    )
    inclusion.add_argument("proof", metavar="PROOF.json", help="The inclusion proof to check.")
    inclusion.add_argument(
        "--head",
        metavar="HEAD.json",
        help="A signed tree head whose size and root hash the proof must match.",
    )
    inclusion.add_argument(
        "--public-key",
        metavar="KEY",
        help="Also check the tree head's signature with this Ed25519 public key file.",
    )
    inclusion.set_defaults(run=_inclusion)

    consistency = commands.add_parser(
        "consistency",
        help="Check that a later tree extends an earlier one.",
        description=(
            "Check a consistency proof: that the tree of the second size and root hash "
            "contains the tree of the first size and root hash as its beginning, unchanged. "
            "A root hash does not by itself fix the tree size, so give the signed tree heads "
            "with --first-head and --second-head to check the sizes as well."
        ),
    )
    consistency.add_argument("proof", metavar="PROOF.json", help="The consistency proof to check.")
    consistency.add_argument(
        "--first-head",
        metavar="H1.json",
        help="A signed tree head that the first size and root hash must match.",
    )
    consistency.add_argument(
        "--second-head",
        metavar="H2.json",
        help="A signed tree head that the second size and root hash must match.",
    )
    consistency.add_argument(
        "--public-key",
        metavar="KEY",
        help="Also check the tree heads' signatures with this Ed25519 public key file.",
    )
    consistency.set_defaults(run=_consistency)

    head = commands.add_parser(
        "head",
        help="Check the signature on a signed tree head.",
        description=(
            "Check that a signed tree head carries a valid Ed25519 signature by the given key. "
            "The key file holds the raw public key as 64 hex digits, or a PEM public key."
        ),
    )
    head.add_argument("head", metavar="HEAD.json", help="The signed tree head to check.")
    head.add_argument(
        "--public-key",
        metavar="KEY",
        required=True,
        help="The Ed25519 public key file of the ledger.",
    )
    head.set_defaults(run=_head)

    receipt = commands.add_parser(
        "receipt",
        help="Check a C2SP tlog-proof (.tlog-proof receipt) of an event.",
        description=(
            "Check a receipt: that its entry (the extra line) hashes to a leaf that the "
            "inclusion proof places at its index in the checkpointed tree, that the checkpoint "
            "is signed by the log key (--vkey, from `ledger audit vkey`) and cosigned by at "
            "least --quorum of the --witness keys (default: all of them)."
        ),
    )
    receipt.add_argument("receipt", metavar="FILE", help="The .tlog-proof file to check.")
    receipt.add_argument("--vkey", required=True, help="The log's verifier key (type 0x01).")
    receipt.add_argument(
        "--witness", action="append", default=[], metavar="VKEY",
        help="A witness's verifier key (cosignature type 0x04); repeatable.",
    )  # fmt: skip
    receipt.add_argument(
        "--quorum", type=int, metavar="K",
        help="How many of the --witness keys must have cosigned (default: all given).",
    )  # fmt: skip
    receipt.set_defaults(run=_receipt)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "inclusion" and args.public_key and not args.head:
        parser.error("--public-key with an inclusion proof needs --head")
    if (
        args.command == "consistency"
        and args.public_key
        and not (args.first_head or args.second_head)
    ):
        parser.error("--public-key with a consistency proof needs --first-head or --second-head")
    try:
        message = args.run(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Invalid as failure:
        print(f"FAILED: {failure}")
        return 1
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
