"""The canonical bytes of a stored event, and its RFC 6962 leaf hash.

A leaf covers exactly what the store holds for one event: its position in the log (the
notification id), the originator id, the originator version, the topic and the state bytes::

    b"songjiang-ledger event v1\\n" + f"{position}\\n{id32}\\n{version}\\n{topic}\\n".encode()
    + state

where ``id32`` is the originator id as 32 hex digits: a UUID column's value (PostgreSQL) as
its lowercase hex, a text column's value (SQLite stores that same hex) exactly as stored, and
``state`` the stored bytes as they are (they come last, so no length prefix is needed; a topic
never contains a line break). The leaf hash is ``SHA-256(0x00 ‖ those bytes)``. Including the
position means that moving an event, even unchanged, changes its leaf.

This lives in the ledger package because the ledger's recorder (:mod:`ledger.leaf_index`) indexes
every event's leaf in the transaction that records it; the audit re-exports it
(:mod:`audit.leaves`) and recomputes leaves with it when it verifies.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

LEAF_PREFIX = b"songjiang-ledger event v1\n"


def canonical_id(originator_id: Any) -> str:
    """An originator id as it goes into a leaf: a UUID's hex, or stored text exactly as stored.

    Text is not normalised, so that rewriting an id into another spelling of the same UUID
    still changes the leaf.
    """
    if isinstance(originator_id, UUID):
        return originator_id.hex
    return str(originator_id)


def event_bytes(position: int, originator_id: Any, version: int, topic: str, state: bytes) -> bytes:
    """The canonical bytes of one stored event (see the module docstring)."""
    head = f"{position}\n{canonical_id(originator_id)}\n{version}\n{topic}\n".encode()
    return LEAF_PREFIX + head + bytes(state)


def entry_size(position: int, originator_id: Any, version: int, topic: str, state: bytes) -> int:
    """``len(event_bytes(...))``, without building the bytes."""
    head = f"{position}\n{canonical_id(originator_id)}\n{version}\n{topic}\n"
    return len(LEAF_PREFIX) + len(head.encode()) + len(state)


def event_leaf_hash(
    position: int, originator_id: Any, version: int, topic: str, state: bytes
) -> bytes:
    """The RFC 6962 leaf hash of one stored event."""
    return hashlib.sha256(
        b"\x00" + event_bytes(position, originator_id, version, topic, state)
    ).digest()


def row_leaf_hashes(rows: Any) -> list[tuple[int, bytes]]:
    """``(position, leaf_hash)`` for rows of ``(position, originator_id, version, topic, state)``.

    The hot loop of indexing and verification, written for speed; it computes exactly what
    :func:`event_leaf_hash` does.
    """
    sha = hashlib.sha256
    prefix = b"\x00" + LEAF_PREFIX
    out = []
    append = out.append
    for position, originator_id, version, topic, state in rows:
        oid = originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)
        head = f"{position}\n{oid}\n{version}\n{topic}\n".encode()
        h = sha(prefix)
        h.update(head)
        h.update(state)
        append((position, h.digest()))
    return out


def row_leaf_hashes_split(rows: Any) -> tuple[list[int], list[bytes]]:
    """Like :func:`row_leaf_hashes`, as two lists: the positions and the leaf hashes."""
    sha = hashlib.sha256
    prefix = b"\x00" + LEAF_PREFIX
    topics: dict[str, bytes] = {}
    positions = [row[0] for row in rows]
    hashes = []
    append = hashes.append
    for position, originator_id, version, topic, state in rows:
        oid = originator_id.hex if isinstance(originator_id, UUID) else originator_id
        topic_bytes = topics.get(topic)
        if topic_bytes is None:
            topic_bytes = topics[topic] = str(topic).encode()
        try:
            data = b"%s%d\n%s\n%d\n%s\n%s" % (
                prefix, position, oid.encode(), version, topic_bytes, state
            )
        except (TypeError, AttributeError):  # a row of unexpected types, e.g. forged
            data = b"\x00" + event_bytes(position, oid, version, topic, _as_bytes(state))
        append(sha(data).digest())
    return positions, hashes


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return b"" if value is None else str(value).encode()
