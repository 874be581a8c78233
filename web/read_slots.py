"""Read slots: at most `LEDGER_READS_AT_ONCE` reads (GET and HEAD requests) of this process
run at once (default 2; 0 leaves them unlimited); the others wait for a slot in turn, first
come, first served (`FairSlots`).

A page is a few milliseconds of Python. Sixteen of them in the threads of one process at once
do not finish sooner: they take turns at the interpreter's lock, and each turn costs. With
`scripts/bench_scale.py --web-only --reads-at-once 2,0` at a million events (cold enterprise
pages, 16 client processes, one server process), two slots served 1.43× (SQLite) and 1.30×
(PostgreSQL) the pages per second of sixteen threads unlimited.

Commands and the other writes (POST and the rest) are never held: the group committer
(`ledger.group_commit`) gathers requests that wait side by side, which is its point, and a
sign-in's password hash runs outside the interpreter's lock. A read that waits for the views
(`min_position`) or for another thread's rendering lends its slot out while it waits
(`ledger.waits`), so slow readers cannot stall quick ones.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask

from ledger.waits import lending

READ_METHODS = frozenset({"GET", "HEAD"})


class FairSlots:
    """A semaphore that serves its waiters first come, first served.

    `threading.Semaphore` lets whoever asks at the moment a slot is freed take it — often a
    request that has just arrived, or the thread that freed it — while earlier ones keep
    waiting: the waits are short on average but have a long tail. Here a freed slot is handed
    straight to the longest waiter, so a read waits behind those that came before it, never
    behind later ones.
    """

    def __init__(self, slots: int) -> None:
        self._lock = threading.Lock()
        self._free = slots
        self._waiting: collections.deque[threading.Lock] = collections.deque()

    def acquire(self) -> None:
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return
            handed = threading.Lock()
            handed.acquire()
            self._waiting.append(handed)
        handed.acquire()  # until `release` hands this waiter the slot

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()  # the slot passes on, never free in between
            else:
                self._free += 1

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class ReadSlots:
    """WSGI middleware: a read runs once it holds one of ``slots`` slots (in arrival order)."""

    def __init__(self, wsgi_app: Any, slots: int) -> None:
        if slots < 1:
            raise ValueError("read slots must be at least 1")
        self.wsgi_app = wsgi_app
        self.slots = slots
        self._free = FairSlots(slots)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET").upper() not in READ_METHODS:
            return self.wsgi_app(environ, start_response)  # type: ignore[no-any-return]
        with self._free, lending(self._lent):
            return self.wsgi_app(environ, start_response)  # type: ignore[no-any-return]

    @contextlib.contextmanager
    def _lent(self) -> Iterator[None]:
        """The slot of the read now waiting, free for another until the wait ends."""
        self._free.release()
        try:
            yield
        finally:
            self._free.acquire()


def init_app(app: Flask) -> None:
    """Wrap the application in read slots, as many as `LEDGER_READS_AT_ONCE` (0: none)."""
    slots = int(app.config.get("LEDGER_READS_AT_ONCE", 0) or 0)
    if slots > 0:
        app.wsgi_app = ReadSlots(app.wsgi_app, slots)  # type: ignore[method-assign]
