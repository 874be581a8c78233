"""C2SP tlog-checkpoints (c2sp.org/tlog-checkpoint): a Merkle tree head as a signed note.

The note text is at least three non-empty lines: the log's **origin**, the **tree size** in
decimal without leading zeroes, the **root hash** in standard base64, then optional extension
lines (non-empty; this log writes none)::

    ledger.songjiang.gov.cn/qsip-2025
    17734
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — ledger.songjiang.gov.cn/qsip-2025 Az3grl…

The log signs with its Ed25519 key under the origin as key name. :func:`parse_checkpoint`
parses a note's text strictly; :func:`open_checkpoint` verifies a signed checkpoint under
trusted keys and checks its origin.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audit.note import (
    Note,
    NoteError,
    Signature,
    Signer,
    Verifier,
    open_note,
    sign_note,
    strict_b64decode,
)

#: The environment variable naming the log's origin (and its key's name).
ORIGIN_VARIABLE = "LEDGER_LOG_ORIGIN"
#: The origin when ``LEDGER_LOG_ORIGIN`` is unset.
DEFAULT_ORIGIN = "ledger.songjiang.gov.cn/qsip-2025"
#: RFC 6962 with SHA-256.
HASH_SIZE = 32

_SIZE = re.compile(r"0|[1-9][0-9]*")
#: Tree sizes are uint64 in every implementation (Go's tlog among them).
MAX_TREE_SIZE = 2**63 - 1


class CheckpointError(NoteError):
    """A checkpoint whose text is not a valid tlog-checkpoint, or of another origin."""


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its RFC 6962 root hash (32 bytes)."""

    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("malformed_checkpoint", "the origin must be one non-empty line")
        if not 0 <= self.tree_size <= MAX_TREE_SIZE:
            raise CheckpointError("malformed_checkpoint", "tree size out of range")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError("malformed_checkpoint", "a root hash has 32 bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointError("malformed_checkpoint", "extension lines must be non-empty")

    def text(self) -> str:
        """The note text of this checkpoint (ending in a newline)."""
        lines = [self.origin, str(self.tree_size), base64.b64encode(self.root_hash).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


def log_origin() -> str:
    """The log's origin: ``LEDGER_LOG_ORIGIN``, else :data:`DEFAULT_ORIGIN`."""
    return os.environ.get(ORIGIN_VARIABLE, "").strip() or DEFAULT_ORIGIN


def parse_checkpoint(text: str) -> Checkpoint:
    """A checkpoint from a note's text (not the signatures), parsed strictly."""
    if not text.endswith("\n"):
        raise CheckpointError("malformed_checkpoint", "checkpoint text must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise CheckpointError(
            "malformed_checkpoint", "a checkpoint has at least three non-empty lines"
        )
    origin, size_text, root_text, *extensions = lines
    if not _SIZE.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
        raise CheckpointError("malformed_checkpoint", f"bad tree size {size_text[:40]!r}")
    root = strict_b64decode(root_text, "malformed_checkpoint")
    if len(root) != HASH_SIZE:
        raise CheckpointError("malformed_checkpoint", "a root hash has 32 bytes")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(
    checkpoint: Checkpoint, signers: Sequence[Signer], extra: Iterable[Signature] = ()
) -> str:
    """The signed note of a checkpoint (any ``extra`` signature lines, e.g. cosignatures, after)."""
    return sign_note(checkpoint.text(), signers, extra)


def open_checkpoint(
    data: bytes | str, verifiers: Iterable[Verifier], *, origin: str | None = None
) -> tuple[Checkpoint, Note, list[Signature]]:
    """Verify a signed checkpoint: ``(checkpoint, note, verified signatures)``.

    With ``origin``, a checkpoint of another origin is refused (``wrong_origin``).
    """
    note, verified = open_note(data, verifiers)
    checkpoint = parse_checkpoint(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(
            "wrong_origin", f"checkpoint of {checkpoint.origin!r}, expected {origin!r}"
        )
    return checkpoint, note, verified
