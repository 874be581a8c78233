"""``add-checkpoint`` (c2sp.org/tlog-witness): every check of the spec, in its order.

The request body is an old size line (``old N``), up to 63 consistency proof lines (one base64
hash each), an empty line and a signed checkpoint. The answers:

* 400 a body that is not that (or an old size above the checkpoint's size);
* 404 an origin the witness does not witness;
* 403 no valid signature of a key trusted for the origin, or one such signature that fails;
* 409 an old size other than the size of the latest checkpoint cosigned for the origin (zero
  when none), with that size and a newline as ``text/x.tlog.size``;
* 422 a size-zero checkpoint without the empty tree's root, a non-empty proof from size zero,
  a consistency proof that does not verify, the same size with another root;
* 200 the witness's cosignature line(s), after recording the checkpoint.

The 409 and 422 checks and the recording run in one transaction of the witness's state; a
validly signed submission refused by them is kept in ``witness_refusals``.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass

from audit.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from audit.merkle_hash import EMPTY_ROOT, HASH_SIZE
from audit.merkle_verify import verify_consistency
from audit.note import Note, NoteError, Signature, parse_note
from audit.witness.state import WitnessState

#: The most consistency proof lines a client may send.
MAX_PROOF_LINES = 63
#: The content type of a 409's body.
SIZE_CONTENT_TYPE = "text/x.tlog.size"

_OLD = re.compile(rb"old (0|[1-9][0-9]{0,18})\n")


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, body and content type."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


def _error(status: int, code: str, zh: str, en: str) -> Answer:
    return Answer(status, f"{code}: {zh} / {en}\n".encode())


@dataclass(frozen=True)
class Submission:
    """A parsed add-checkpoint body."""

    old_size: int
    proof: tuple[bytes, ...]
    note_bytes: bytes
    note: Note
    checkpoint: Checkpoint


class MalformedRequest(ValueError):
    """A body that is not an add-checkpoint request (400)."""


def parse_submission(body: bytes) -> Submission:
    """The old size, proof and checkpoint of a body; :class:`MalformedRequest` if it is not one."""
    match = _OLD.match(body)
    if match is None:
        raise MalformedRequest("the first line must be `old <size>` in decimal")
    rest = body[match.end() :]
    proof: list[bytes] = []
    while not rest.startswith(b"\n"):
        line, sep, rest = rest.partition(b"\n")
        if not sep:
            raise MalformedRequest("no empty line before the checkpoint")
        if len(proof) == MAX_PROOF_LINES:
            raise MalformedRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
        proof.append(_hash_line(line))
    note_bytes = rest[1:]
    try:
        note = parse_note(note_bytes)
        checkpoint = parse_checkpoint(note.text)
    except NoteError as exc:
        raise MalformedRequest(f"not a signed checkpoint: {exc}") from None
    return Submission(int(match.group(1)), tuple(proof), note_bytes, note, checkpoint)


def _hash_line(line: bytes) -> bytes:
    try:
        value = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedRequest("a proof line is not base64") from None
    if len(value) != HASH_SIZE or base64.b64encode(value) != line:
        raise MalformedRequest("a proof line is not one base64 SHA-256 hash")
    return value


def add_checkpoint(state: WitnessState, body: bytes) -> Answer:
    """Check a submission and, when every check passes, record and cosign it."""
    try:
        sub = parse_submission(body)
    except MalformedRequest as exc:
        return _error(400, "malformed_request", "请求格式错误", str(exc))
    origin = sub.checkpoint.origin
    verifiers = state.verifiers(origin)
    if not verifiers:
        return _error(404, "unknown_origin", "本见证人不见证此日志", f"unknown origin {origin!r}")
    try:
        _, _, verified = open_checkpoint(sub.note_bytes, verifiers, origin=origin)
    except NoteError as exc:
        return _error(403, "bad_signature", "日志签名无效", str(exc))
    if sub.old_size > sub.checkpoint.tree_size:
        return _error(400, "old_size_too_large", "旧规模大于检查点规模",
                      "the old size is larger than the checkpoint's size")  # fmt: skip
    return _check_and_record(state, sub, verified)


def _check_and_record(state: WitnessState, sub: Submission, verified: list[Signature]) -> Answer:
    checkpoint = sub.checkpoint
    with state.transaction() as cur:
        latest = state.latest(checkpoint.origin, cur)
        latest_size = 0 if latest is None else latest.tree_size
        if sub.old_size != latest_size:
            _refuse(cur, sub, 409, f"old size {sub.old_size}, latest cosigned {latest_size}")
            return Answer(409, f"{latest_size}\n".encode(), SIZE_CONTENT_TYPE)
        problem = _inconsistency(sub, latest.root_hash if latest else EMPTY_ROOT)
        if problem is not None:
            _refuse(cur, sub, 422, problem[1])
            return _error(422, problem[0], "与已见证的检查点不一致", problem[1])
        timestamp = max(1, int(time.time()))
        cosignature = state.signer.cosign(sub.note.text, timestamp)
        # what GET <origin hash>/checkpoint serves: the log's verified signatures and ours
        kept = Note(sub.note.text, (*verified, cosignature)).render()
        cur.execute(
            "INSERT INTO witness_checkpoints (origin, tree_size, root_hash, note, cosigned_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
            "tree_size = excluded.tree_size, root_hash = excluded.root_hash, "
            "note = excluded.note, cosigned_at = excluded.cosigned_at",
            (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash, kept, timestamp),
        )
    return Answer(200, cosignature.line().encode())


def _inconsistency(sub: Submission, old_root: bytes) -> tuple[str, str] | None:
    """Why the checkpoint is not consistent with the latest cosigned one (None when it is)."""
    checkpoint = sub.checkpoint
    if checkpoint.tree_size == 0 and checkpoint.root_hash != EMPTY_ROOT:
        return "bad_empty_root", "a checkpoint of size 0 must have the empty tree's root"
    if sub.old_size == 0:
        if sub.proof:
            return "bad_proof", "a proof from size 0 must be empty"
        return None
    if sub.old_size == checkpoint.tree_size and checkpoint.root_hash != old_root:
        return "root_mismatch", "same size as the latest cosigned checkpoint, another root"
    if not verify_consistency(
        sub.old_size, checkpoint.tree_size, old_root, checkpoint.root_hash, list(sub.proof)
    ):
        return "bad_proof", (
            f"the consistency proof from {sub.old_size} to {checkpoint.tree_size} does not verify"
        )
    return None


def _refuse(cur: object, sub: Submission, status: int, reason: str) -> None:
    """Keep a validly signed submission that was refused (evidence of a misbehaving log)."""
    cur.execute(  # type: ignore[attr-defined]
        "INSERT INTO witness_refusals (origin, received_at, status, reason, body) "
        "VALUES (?, ?, ?, ?, ?)",
        (sub.checkpoint.origin, int(time.time()), status, reason,
         sub.note_bytes.decode("utf-8")),
    )  # fmt: skip
