"""The log's side of witnessing: configured witnesses, submissions, stored cosignatures, quorum.

Witnesses are configured by name, verifier key (cosignature/v1, type 0x04) and URL
(``ledger audit witnesses add``). :func:`submit_pending` — called after every signing by the
worker's ``audit-sign`` job and ``ledger serve``'s follower, so retried every interval —
submits the newest checkpoint to each witness that has not cosigned it, with the consistency
proof from the size that witness last cosigned (a 409 names another size: one retry from that
one). Every HTTP call has a bounded timeout (``LEDGER_WITNESS_TIMEOUT_S``, default 5 s) and a
witness that is down or refuses is logged and tried again next time: recording never waits for
a witness. Valid cosignatures are stored (``audit_cosignatures``) and published on the
checkpoint (:mod:`audit.witness_tables` registers them with :func:`audit.checkpoint_log.published_note`).

A checkpoint counts as *published* when at least ``LEDGER_WITNESS_QUORUM`` configured witnesses
cosigned it (default: 1 when any witness is configured, else 0).
"""

from __future__ import annotations

import base64
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from audit.checkpoint import Checkpoint
from audit.checkpoint_log import StoredCheckpoint, latest_checkpoint
from audit.db import audit_db
from audit.heads import utc_timestamp
from audit.log import stored_tree
from audit.note import NoteError, open_note, parse_note
from audit.witness.cosignature import CosignatureVerifier, parse_cosigner_vkey, timestamp_of
from audit.witness_tables import COSIGNATURES, WITNESSES

if TYPE_CHECKING:
    from ledger.application import SupportLedger

log = logging.getLogger(__name__)

QUORUM_VARIABLE = "LEDGER_WITNESS_QUORUM"
TIMEOUT_VARIABLE = "LEDGER_WITNESS_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 5.0
#: The largest witness answer read.
MAX_ANSWER_BYTES = 64 * 1024


class WitnessConfigError(ValueError):
    """A witness configuration that cannot be right (``code`` says why)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Witness:
    """A configured witness."""

    name: str
    vkey: str
    url: str

    @property
    def verifier(self) -> CosignatureVerifier:
        return parse_cosigner_vkey(self.vkey)


@dataclass(frozen=True)
class Cosignature:
    """A stored cosignature line of one witness on one checkpoint."""

    witness: str
    tree_size: int
    root_hash: str
    line: str
    cosigned_at: int


def add_witness(app: SupportLedger, vkey: str, url: str, name: str | None = None) -> Witness:
    """Configure a witness (a newer row of the same name replaces the older)."""
    try:
        verifier = parse_cosigner_vkey(vkey)
    except NoteError as exc:
        raise WitnessConfigError("bad_vkey", str(exc)) from None
    if name is not None and name != verifier.name:
        raise WitnessConfigError("bad_vkey", f"the key is named {verifier.name!r}, not {name!r}")
    if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        raise WitnessConfigError("bad_url", f"not an http(s) URL: {url!r}")
    witness = Witness(verifier.name, vkey.strip(), url.rstrip("/"))
    db = audit_db(app)
    with db.write() as cur:
        cur.execute(
            db.sql(f"INSERT INTO {{t}}{WITNESSES} (name, vkey, url, added_at) VALUES (?, ?, ?, ?)"),
            (witness.name, witness.vkey, witness.url, utc_timestamp()),
        )
    return witness


def witnesses(app: SupportLedger, cur: Any = None) -> list[Witness]:
    """The configured witnesses (the newest row of each name), by name."""
    db = audit_db(app)
    sql = db.sql(f"SELECT name, vkey, url FROM {{t}}{WITNESSES} ORDER BY id")
    if cur is None:
        with db.read() as own:
            own.execute(sql)
            rows = own.fetchall()
    else:
        cur.execute(sql)
        rows = cur.fetchall()
    latest = {name: Witness(name, vkey, url) for name, vkey, url in rows}
    return [latest[name] for name in sorted(latest)]


def quorum(configured: int) -> int:
    """``LEDGER_WITNESS_QUORUM`` (a whole number), else 1 when any witness is configured."""
    text = os.environ.get(QUORUM_VARIABLE, "").strip()
    if text.isdigit():
        return int(text)
    if text:
        log.error("%s=%r is not a whole number; using the default", QUORUM_VARIABLE, text)
    return 1 if configured else 0


def _timeout_s() -> float:
    try:
        value = float(os.environ.get(TIMEOUT_VARIABLE, "") or DEFAULT_TIMEOUT_S)
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return min(max(value, 0.1), 60.0)


def _verified(witness: Witness, checkpoint_text: str, line: str) -> bool:
    try:
        open_note(checkpoint_text + "\n" + line, [witness.verifier])
    except NoteError:
        return False
    return True


def valid_cosignatures(app: SupportLedger, checkpoint: Checkpoint) -> list[Cosignature]:
    """The stored cosignatures of a checkpoint that verify under a configured witness's key."""
    db = audit_db(app)
    with db.read() as cur:
        configured = {w.name: w for w in witnesses(app, cur)}
        cur.execute(
            db.sql(
                f"SELECT witness, tree_size, root_hash, line, cosigned_at FROM {{t}}{COSIGNATURES} "
                "WHERE tree_size = ? AND root_hash = ? ORDER BY id DESC"
            ),
            (checkpoint.tree_size, checkpoint.root_hash.hex()),
        )
        rows = cur.fetchall()
    found: dict[str, Cosignature] = {}
    text = checkpoint.text()
    for name, size, root, line, cosigned_at in rows:
        witness = configured.get(name)
        if name in found or witness is None or not _verified(witness, text, line):
            continue
        found[name] = Cosignature(name, int(size), root, line, int(cosigned_at))
    return [found[name] for name in sorted(found)]


def _last_cosigned_size(db: Any, cur: Any, witness: Witness, up_to: int) -> int:
    """The largest size this witness cosigned for us, not above ``up_to`` (0 if none)."""
    cur.execute(
        db.sql(
            f"SELECT MAX(tree_size) FROM {{t}}{COSIGNATURES} WHERE witness = ? AND tree_size <= ?"
        ),
        (witness.name, up_to),
    )
    row = cur.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


@dataclass(frozen=True)
class Outcome:
    """What one submission to one witness came to."""

    witness: str
    tree_size: int
    status: str  # cosigned, refused, unreachable
    http_status: int | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"witness": self.witness, "tree_size": self.tree_size, "status": self.status,
                "http_status": self.http_status, "detail": self.detail}  # fmt: skip


def _log_public_key() -> bytes | None:
    from audit.keys import SigningKeyError, load_private_key, trusted_public_keys
    from audit.note import raw_public_key

    try:
        return raw_public_key(load_private_key().public_key())
    except SigningKeyError:
        keys = sorted(trusted_public_keys())
        return bytes.fromhex(keys[0]) if keys else None


def latest_signed(app: SupportLedger) -> StoredCheckpoint | None:
    """The newest checkpoint the log's key signed (None without a key or a checkpoint)."""
    public = _log_public_key()
    if public is None:
        return None
    db = audit_db(app)
    with db.read() as cur:
        return latest_checkpoint(db, cur, public)


def submit_pending(app: SupportLedger) -> list[Outcome]:
    """Submit the newest checkpoint to every configured witness that has not cosigned it."""
    configured = witnesses(app)
    if not configured:
        return []
    stored = latest_signed(app)
    if stored is None:
        return []
    done = {c.witness for c in valid_cosignatures(app, stored.checkpoint)}
    outcomes = [_submit(app, w, stored) for w in configured if w.name not in done]
    for outcome in outcomes:
        (log.info if outcome.status == "cosigned" else log.warning)(
            "witness %s, checkpoint of size %s: %s %s", outcome.witness, outcome.tree_size,
            outcome.status, outcome.detail,
        )  # fmt: skip
    return outcomes


def _submit(app: SupportLedger, witness: Witness, stored: StoredCheckpoint) -> Outcome:
    db = audit_db(app)
    size = stored.checkpoint.tree_size
    with db.read() as cur:
        old = _last_cosigned_size(db, cur, witness, size)
    try:
        status, body = _post(app, witness, old, stored)
        if status == 409:
            claimed = _size_of(body)
            if claimed is None or claimed > size:
                return Outcome(witness.name, size, "refused", 409,
                               f"the witness has cosigned a larger tree ({body[:40]!r}) than "
                               "this log holds: was the log truncated?")  # fmt: skip
            status, body = _post(app, witness, claimed, stored)
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
        return Outcome(witness.name, size, "unreachable", None, str(exc)[:200])
    if status != 200:
        return Outcome(witness.name, size, "refused", status, body[:200].decode(errors="replace"))
    return _store(app, witness, stored, body)


def _size_of(body: bytes) -> int | None:
    text = body.decode("ascii", errors="replace")
    return int(text[:-1]) if text.endswith("\n") and text[:-1].isdigit() else None


def _post(app: SupportLedger, witness: Witness, old: int, stored: StoredCheckpoint) -> tuple[int, bytes]:
    db = audit_db(app)
    size = stored.checkpoint.tree_size
    with db.read() as cur:
        proof = stored_tree(db, cur).consistency_proof(old, size) if 0 < old < size else []
    lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    body = f"old {old}\n{lines}\n".encode() + stored.note.encode()
    request = urllib.request.Request(
        witness.url + "/add-checkpoint", data=body, method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=_timeout_s()) as response:
            return response.status, response.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(MAX_ANSWER_BYTES)


def _store(app: SupportLedger, witness: Witness, stored: StoredCheckpoint, body: bytes) -> Outcome:
    size = stored.checkpoint.tree_size
    text = parse_note(stored.note).text
    try:
        lines = [line + "\n" for line in body.decode("utf-8").splitlines()]
    except UnicodeDecodeError:
        lines = []
    valid = [line for line in lines if _verified(witness, text, line)]
    if not valid:
        return Outcome(witness.name, size, "refused", 200, "no valid cosignature in the answer")
    db = audit_db(app)
    with db.write() as cur:
        for line in valid:
            signature = parse_note(text + "\n" + line).signatures[0]
            cur.execute(
                db.sql(
                    f"INSERT INTO {{t}}{COSIGNATURES} (witness, checkpoint_id, tree_size, "
                    "root_hash, line, cosigned_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                ),
                (witness.name, stored.id, size, stored.checkpoint.root_hash.hex(), line,
                 timestamp_of(signature.signature), utc_timestamp()),
            )  # fmt: skip
    return Outcome(witness.name, size, "cosigned", 200, f"{len(valid)} cosignature(s)")


def publication(app: SupportLedger, checkpoint: Checkpoint) -> dict[str, Any]:
    """Who cosigned a checkpoint, the quorum, and whether it counts as published."""
    configured = witnesses(app)
    cosigned = [c.witness for c in valid_cosignatures(app, checkpoint)]
    needed = quorum(len(configured))
    return {"cosigned_by": cosigned, "witnesses": len(configured), "quorum": needed,
            "published": len(cosigned) >= needed}  # fmt: skip


def annotate_heads(app: SupportLedger, heads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add each head's ``witnessing`` (see :func:`publication`) where it has a checkpoint."""
    from audit.checkpoint import parse_checkpoint

    for head in heads:
        note = head.get("checkpoint")
        if note:
            try:
                head["witnessing"] = publication(app, parse_checkpoint(parse_note(note).text))
            except NoteError:
                head["witnessing"] = None
    return heads


def witnessing_text(status: dict[str, Any] | None) -> str:
    """A head's witnessing for people: cosignatures against the quorum, published or not."""
    if not status or not status["witnesses"]:
        return ""
    got, needed = len(status["cosigned_by"]), status["quorum"]
    state = "已发布 published" if status["published"] else "未发布 not published"
    return f"  联署 cosigned {got}/{status['witnesses']} (法定数 quorum {needed}) {state}"


def cosigned_checkpoint_text(app: SupportLedger, stored: StoredCheckpoint) -> str:
    """A stored checkpoint's note with its valid cosignatures appended."""
    lines = [c.line for c in valid_cosignatures(app, stored.checkpoint)]
    return stored.note + "".join(line for line in lines if line not in stored.note)
