"""audit.replay_state: the digest computed a piece at a time is the digest of the whole encoding.

Signed snapshots name ``SHA-256(encode_state(books))``; the check of every snapshot in
``audit verify`` hashes the state without building that encoding, and hashes a stored state
as it decompresses it. Both must give exactly the digest of the bytes, at every position of a
history with every kind of money event, with pieces of one or two rows as well as the default.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest

import audit.replay_state as rs
from audit.replay import _Books
from audit.replay_snapshots import money_fields
from tests.audit.test_replay_direct import every_money_event  # noqa: F401  (a fixture)


@pytest.mark.parametrize("rows_at_once", [1, 2, rs.ROWS_AT_ONCE])
def test_the_streamed_digest_is_the_digest_of_the_encoding_at_every_position(
    every_money_event: Any, rows_at_once: int, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setattr(rs, "ROWS_AT_ONCE", rows_at_once)
    books = _Books()
    seen = set()
    assert rs.state_digest_of(books) == rs.state_digest(rs.encode_state(books))  # empty
    for _position, cls, originator_id, fields in money_fields(every_money_event, 0, None):
        books.apply_fields(cls, originator_id, fields)
        encoded = rs.encode_state(books)
        assert rs.state_digest_of(books) == rs.state_digest(encoded)
        seen.add(encoded)
    assert len(seen) > 10  # the state changed along the way
    assert len(books.disbursements) > 2 and len(books.awards) > 1  # several rows to a piece


def test_a_stored_state_is_hashed_as_it_is_decompressed(
    every_money_event: Any, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    books = _Books()
    for _position, cls, originator_id, fields in money_fields(every_money_event, 0, None):
        books.apply_fields(cls, originator_id, fields)
    encoded = rs.encode_state(books)
    stored = zlib.compress(encoded)
    monkeypatch.setattr(rs, "DECOMPRESS_AT_ONCE", 7)  # many pieces
    assert rs.stored_state_digest(stored) == rs.state_digest(encoded)
    assert rs.stored_state_digest(stored[: len(stored) // 2]) is None  # truncated
    assert rs.stored_state_digest(b"not zlib at all") is None
    assert rs.stored_state_digest(zlib.compress(encoded + b" ")) != rs.state_digest(encoded)
