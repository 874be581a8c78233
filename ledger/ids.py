"""Aggregate ids derived from references, so that a retried command finds what it made."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

#: The ledger's own uuid5 namespace (a fixed random uuid; never change it).
LEDGER_NAMESPACE = UUID("6f1d3c52-5a0e-4b8e-9a55-1c2d7d0b5e11")


@lru_cache(maxsize=200_000)
def ledger_id(kind: str, *parts: object) -> UUID:
    """The id of the `kind` aggregate named by `parts`, e.g. ``ledger_id("award", "A-1")``."""
    return uuid5(LEDGER_NAMESPACE, "\x1f".join([kind, *map(str, parts)]))
