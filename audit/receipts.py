"""Receipts: C2SP tlog-proofs (``.tlog-proof``) that an event is in the log, checkable offline.

A receipt for the event at leaf index ``i`` is::

    c2sp.org/tlog-proof@v1
    extra <base64 of the entry: the event's canonical bytes, whose leaf hash is in the tree>
    index <i>
    <inclusion proof, one base64 hash a line, from the leaf's sibling up>

    <the latest checkpoint, verbatim, with every cosignature the witnesses gave>

It is made against the latest checkpoint the log's key signed; an event that checkpoint does
not yet cover gets no receipt until the next one is signed (``ledger audit sign``; the worker
signs every minute while the log grows). ``scripts/verify_proof.py receipt`` checks one with
the standard library alone.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from audit.checkpoint_log import published_note
from audit.db import audit_db
from audit.events import iter_events
from audit.log import leaf_index_of
from audit.tlog_resources import current_checkpoint, entries, tile_tree
from ledger.domain import Award, CommandReceipt
from ledger.domain.events import topic_of

if TYPE_CHECKING:
    from ledger.application import SupportLedger

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
#: The fields of an event that name what it is about (a payment, an award, a clawback, …).
REFERENCE_FIELDS = (
    "reference", "award_reference", "clawback_reference", "financing_reference",
    "transfer_reference",
)  # fmt: skip
#: The most events one reference's receipts cover.
MAX_EVENTS = 1_000


class ReceiptError(LookupError):
    """No receipt can be made: ``code`` is ``unknown_reference``, ``not_in_log`` or
    ``not_checkpointed``; the message is in Chinese and English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Receipt:
    """A receipt: the event's log position and leaf index, and the proof's text."""

    position: int
    leaf_index: int
    text: str

    def filename(self, stem: str) -> str:
        return f"{stem}-{self.leaf_index}.tlog-proof"


def format_proof(entry: bytes, index: int, path: list[bytes], checkpoint_note: str) -> str:
    """The text of a tlog-proof (tlog-proof §Format)."""
    lines = [PROOF_HEADER, "extra " + base64.b64encode(entry).decode(), f"index {index}"]
    lines += [base64.b64encode(h).decode() for h in path]
    return "\n".join(lines) + "\n\n" + checkpoint_note


def positions_for(app: SupportLedger, reference: str) -> list[int]:
    """The log positions of the events about a reference (a payment, award, clawback, …)."""
    skip = {topic_of(CommandReceipt.Accepted)}
    found = []
    for position, event in iter_events(app):
        if topic_of(type(event)) in skip:
            continue
        if any(getattr(event, name, None) == reference for name in REFERENCE_FIELDS):
            found.append(position)
            if len(found) >= MAX_EVENTS:
                break
    if not found:
        raise ReceiptError(
            "unknown_reference", f"没有关于 {reference} 的事件 / no event is about {reference}"
        )
    return found


def receipt_for(app: SupportLedger, position: int) -> Receipt:
    """The receipt of the event at a log position, against the latest checkpoint."""
    db = audit_db(app)
    with db.read() as cur:
        index = leaf_index_of(db, cur, position)
        if index is None:
            raise ReceiptError(
                "not_in_log", f"位置 {position} 不在日志中 / position {position} is not in the log"
            )
        stored = current_checkpoint(db, cur)
        size = stored.checkpoint.tree_size if stored else 0
        if stored is None or index >= size:
            raise ReceiptError(
                "not_checkpointed",
                f"位置 {position} 尚无检查点覆盖，请稍后再试或运行 ledger audit sign / position "
                f"{position} is not yet covered by a checkpoint (run `ledger audit sign`)",
            )
        tree = tile_tree(db, cur, size)
        path = tree.inclusion_proof(index, size)
        (entry,) = entries(db, cur, index, index + 1)
        note = published_note(app, stored)
    return Receipt(position, index, format_proof(entry, index, path, note))


def receipts_for(app: SupportLedger, reference: str) -> list[Receipt]:
    """The receipts of every event about a reference, in log order."""
    return [receipt_for(app, position) for position in positions_for(app, reference)]


def payment_receipt(app: SupportLedger, reference: str) -> Receipt:
    """The receipt of the event that recorded a payment (``DisbursementRecorded``)."""
    topics = [topic_of(Award.DisbursementRecorded)]
    for position, event in iter_events(app, topics=topics):
        if getattr(event, "reference", None) == reference:
            return receipt_for(app, position)
    raise ReceiptError(
        "unknown_reference", f"没有付款 {reference} / no payment has the reference {reference}"
    )


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    return {"position": receipt.position, "index": receipt.leaf_index, "proof": receipt.text}
