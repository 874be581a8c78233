"""The canonical JSON of a replay state, and its SHA-256, which a signed snapshot names.

:func:`encode_state` gives the bytes a snapshot stores (compressed); :func:`state_digest_of`
gives their digest without building them, a few thousand rows at a time, so a check of every
snapshot holds the state itself and little more (the bytes and their lists are larger than
the state); :func:`stored_state_digest` likewise hashes a stored snapshot's state as it is
decompressed.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.replay import _Books

#: Rows encoded at a time by :func:`state_digest_of`.
ROWS_AT_ONCE = 4096
#: Bytes decompressed at a time by :func:`stored_state_digest`.
DECOMPRESS_AT_ONCE = 1 << 20

_SEPARATORS = (",", ":")


def _sections(books: _Books) -> list[tuple[str, dict[Any, Any], Callable[[Any, Any], list[Any]]]]:
    """Each part of the state: its name, its rows by key, and a row as the JSON list it is
    written as. Every list starts with its row's key, which is unique, so rows sorted by key
    are the lists sorted."""
    from audit.replay import AWARD_SUMS, BUDGET_SUMS

    measure_sums = AWARD_SUMS + BUDGET_SUMS
    return [
        ("awards", books.awards, lambda k, v: [k, *v]),
        ("disbursements", books.disbursements, lambda k, amount: [*k, amount]),
        ("budgets", books.budgets, lambda k, v: [k, *v]),
        ("enterprise", books.enterprise, lambda k, row: [*k, [row[c] for c in AWARD_SUMS]]),
        ("measure", books.measure, lambda k, row: [*k, [row[c] for c in measure_sums]]),
    ]


def encode_state(books: _Books) -> bytes:
    """The canonical JSON of a replay state (sorted lists, compact, UTF-8; ids as UUID text)."""
    state = {
        name: sorted(row(k, v) for k, v in rows.items()) for name, rows, row in _sections(books)
    }
    return json.dumps(state, ensure_ascii=False, separators=_SEPARATORS).encode()


def _encoded_pieces(books: _Books) -> Iterator[bytes]:
    """:func:`encode_state`'s bytes, in pieces of at most ROWS_AT_ONCE rows."""
    for n, (name, rows, row) in enumerate(_sections(books)):
        yield (b"{" if n == 0 else b"],") + json.dumps(name).encode() + b":["
        keys = sorted(rows)
        for start in range(0, len(keys), ROWS_AT_ONCE):
            chunk = [row(k, rows[k]) for k in keys[start : start + ROWS_AT_ONCE]]
            text = json.dumps(chunk, ensure_ascii=False, separators=_SEPARATORS)[1:-1]
            yield (b"," if start else b"") + text.encode()
    yield b"]}"


def state_digest_of(books: _Books) -> str:
    """``state_digest(encode_state(books))``, without holding the encoding."""
    digest = hashlib.sha256()
    for piece in _encoded_pieces(books):
        digest.update(piece)
    return digest.hexdigest()


def decode_state(data: bytes) -> _Books:
    """A replay state from its canonical JSON."""
    from audit.replay import AWARD_SUMS, BUDGET_SUMS, _Books

    state = json.loads(data)
    books = _Books()

    books.awards = {k: (u, m, y) for k, u, m, y in state["awards"]}
    books.disbursements = {(k, ref): amount for k, ref, amount in state["disbursements"]}
    books.budgets = {k: (m, y) for k, m, y in state["budgets"]}
    award_sums, budget_sums = AWARD_SUMS, AWARD_SUMS + BUDGET_SUMS
    for u, y, sums in state["enterprise"]:
        books.enterprise[(u, y)] = dict(zip(award_sums, sums, strict=True))
    for m, y, sums in state["measure"]:
        books.measure[(m, y)] = dict(zip(budget_sums, sums, strict=True))
    return books


def state_digest(encoded: bytes) -> str:
    return hashlib.sha256(encoded).hexdigest()


def stored_state_digest(compressed: bytes) -> str | None:
    """The digest of a stored (zlib-compressed) state, decompressed a piece at a time; None
    when it cannot be decompressed."""
    digest = hashlib.sha256()
    inflate = zlib.decompressobj()
    try:
        data = inflate.decompress(compressed, DECOMPRESS_AT_ONCE)
        while data:
            digest.update(data)
            data = inflate.decompress(inflate.unconsumed_tail, DECOMPRESS_AT_ONCE)
        digest.update(inflate.flush())
    except zlib.error:
        return None
    if not inflate.eof:
        return None  # truncated
    return digest.hexdigest()
