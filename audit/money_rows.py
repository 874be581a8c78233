"""The money events' stored rows, decoded for a replay without building domain events.

A replay needs of each money event its class, its aggregate's id, a few fields and its
``timestamp``. :func:`money_rows` reads them with one plain ``SELECT`` per batch and decodes
each row's ``state`` with the application's own transcoder (after its cipher and compressor,
when it has them, as the mapper does), so the fields have exactly the values the domain event
would carry; what it skips is the rest of the mapper's work (a UUID object per row, the event
object). A row whose class has a ``class_version`` above 1, or whose state names one, goes
through ``app.mapper.to_domain_event`` instead, so the class's upcasters run as they would for
any reader. ``tests/audit/test_replay_direct.py`` compares both ways at every position.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from eventsourcing.utils import resolve_topic

from audit.db import as_bytes, audit_db

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: Rows read per statement (each batch in its own short read transaction).
BATCH = 5_000


def money_rows(
    app: SupportLedger, topics: tuple[str, ...], after: int, stop: int | None
) -> Iterator[tuple[int, type, str, dict[str, Any]]]:
    """``(position, event class, originator id as UUID text, fields)`` of the events of these
    topics in ``(after, stop]`` (stop None: to the end), in position order.

    ``fields`` is the decoded state: what the domain event's ``__dict__`` holds, except its
    ``originator_id`` and ``originator_version``.
    """
    db = audit_db(app)
    decode = _decoder(app)
    marks = ", ".join("?" for _ in topics)
    upper = "" if stop is None else " AND {pos} <= ?"
    select = db.sql(
        "SELECT {pos}, CAST(originator_id AS TEXT), originator_version, topic, state "
        f"FROM {{events}} WHERE {{pos}} > ?{upper} AND topic IN ({marks}) "
        "ORDER BY {pos} LIMIT ?"
    )
    bounds = () if stop is None else (stop,)
    last = after
    while True:
        with db.read() as cur:
            cur.execute(select, (last, *bounds, *topics, BATCH))
            rows = cur.fetchall()
        for position, originator_id, version, topic, state in rows:
            cls = resolve_topic(topic)
            fields = decode(topic, originator_id, version, as_bytes(state))
            if "class_version" in fields or getattr(cls, "class_version", 1) != 1:
                stored = StoredEvent(UUID(originator_id), version, topic, as_bytes(state))
                fields = dict(vars(app.mapper.to_domain_event(stored)))
                del fields["originator_id"], fields["originator_version"]
            yield int(position), cls, uuid_text(originator_id), fields
        if len(rows) < BATCH:
            return
        last = int(rows[-1][0])


def uuid_text(stored: str) -> str:
    """A stored originator id (SQLite: 32 hex digits; PostgreSQL: ``uuid`` cast to text) as
    ``str(UUID(stored))`` gives it, without making the UUID in the usual cases."""
    if len(stored) == 32 and stored == stored.lower():
        return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"
    if len(stored) == 36 and stored == stored.lower() and stored[8::5][:4] == "----":
        return stored
    return str(UUID(stored))


def _decoder(app: SupportLedger) -> Any:
    """The mapper's decoding of a stored state (cipher, compressor, transcoder), with its error."""
    mapper = app.mapper
    cipher, compressor, transcoder = mapper.cipher, mapper.compressor, mapper.transcoder

    def decode(topic: str, originator_id: str, version: int, state: bytes) -> dict[str, Any]:
        try:
            if cipher:
                state = cipher.decrypt(state)
            if compressor:
                state = compressor.decompress(state)
            return transcoder.decode(state)
        except Exception as e:
            raise MapperDeserialisationError(
                f"Failed to deserialise state of stored event with topic '{topic}', "
                f"originator_id '{originator_id}' and originator_version {version}: {e}"
            ) from e

    return decode
