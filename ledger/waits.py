"""Waiting without holding a turn: code that sleeps until something else happens (the views
reaching a position, another thread's rendering) says so with :func:`while_waiting`, and
whoever rations turns in this context (the web's read slots, `web.read_slots`) lends the turn
out meanwhile. Outside such a context it does nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

#: What lends this context's turn out while it waits (None: nothing to lend).
_LEND: contextvars.ContextVar[Callable[[], AbstractContextManager[None]] | None] = (
    contextvars.ContextVar("ledger_waits_lend", default=None)
)


def while_waiting() -> AbstractContextManager[None]:
    """Wrap a wait (a sleep, an event's wait) in this: the turn is given back meanwhile."""
    lend = _LEND.get()
    return lend() if lend is not None else contextlib.nullcontext()


@contextlib.contextmanager
def lending(lend: Callable[[], AbstractContextManager[None]]) -> Iterator[None]:
    """Within the block, waits in this context run inside ``lend()``."""
    token = _LEND.set(lend)
    try:
        yield
    finally:
        _LEND.reset(token)
