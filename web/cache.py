"""A small cache of rendered page bodies and API bodies, keyed by the views' position.

Everything a page or a balances read shows comes from the views, and the views cannot change
until their position moves; so a body rendered at position P may be served again to anyone who
asks the same thing (same route, arguments, language and role) while the views are still at P.
Once the position moves every older entry is simply never asked for again and ages out of the
LRU. Only the data-dependent part of a page is kept: the frame around it (who is signed in, the
sign-out form's CSRF token, how current the views are) is rendered for each request.

A body is only kept if the views' position is the same after it was made as before (so a body
made while the views moved is served once and not kept), and concurrent requests for the same
missing key wait for the one that makes it instead of all making it at once (a dashboard costs
tens of milliseconds of CPU; sixteen at once would cost sixteen times that).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from ledger.waits import while_waiting

#: How long a request waits for another one making the same body before making it itself.
WAIT_S = 30.0


class PositionCache:
    """A thread-safe LRU bounded by entries and by the total length of the bodies it keeps."""

    def __init__(self, max_entries: int = 5_000, max_chars: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._chars = 0
        self._making: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0

    def get_or_make(self, key: Hashable, make: Callable[[], Any],
                    still_valid: Callable[[], bool] = lambda: True) -> Any:  # fmt: skip
        """The value kept for `key`, or `make()` (kept if `still_valid()` after making it)."""
        while True:
            with self._lock:
                found = self._entries.get(key)
                if found is not None:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return found[0]
                event = self._making.get(key)
                if event is None:
                    event = self._making[key] = threading.Event()
                    self.misses += 1
                    break
            with while_waiting():  # this request's read slot is lent out meanwhile (web.read_slots)
                waited = event.wait(WAIT_S)
            if not waited:
                return make()  # the other request is stuck: do not wait for it any longer
            # look again: kept by the other request, or (it failed or did not keep it) ours to make
        try:
            value = make()
            if still_valid():
                self._keep(key, value)
            return value
        finally:
            with self._lock:
                self._making.pop(key, None)
            event.set()

    def _keep(self, key: Hashable, value: Any) -> None:
        size = _size(value)
        if size > self.max_chars // 8:
            return  # one huge body would push out everything else
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._chars -= old[1]
            self._entries[key] = (value, size)
            self._chars += size
            while self._entries and (len(self._entries) > self.max_entries or self._chars > self.max_chars):
                _, (_, dropped) = self._entries.popitem(last=False)
                self._chars -= dropped


def _size(value: Any) -> int:
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, tuple | list):
        return sum(_size(v) for v in value) + 1
    return 1


# -- in a request ------------------------------------------------------------------------------


def init_app(app: Any) -> None:
    """Give the app its cache (`LEDGER_CACHE_ENTRIES`, 0 to keep nothing).

    An enterprise page is ~15,000 characters at 200,000 events; 5,000 of them and the
    64-million-character bound are ~100-150 MB of memory at most.
    """
    entries = int(app.config.get("LEDGER_CACHE_ENTRIES", 5_000))
    app.extensions["web_cache"] = PositionCache(max_entries=entries) if entries > 0 else None


def cached(name: str, parts: Hashable, make: Callable[[], Any]) -> Any:
    """`make()` for this route and arguments, kept while the views stay at their position.

    The key also holds the language, the role of the person asking and the script root, so a
    body is only ever served to a request that would have rendered the very same one.
    """
    from flask import current_app, request

    from projections.queries import views_at
    from web.auth import current_user, ledger
    from web.i18n import is_english

    cache: PositionCache | None = current_app.extensions.get("web_cache")
    if cache is None:
        return make()
    app = ledger()
    position = views_at(app)
    viewer = current_user()
    key = (name, parts, is_english(), viewer.rank if viewer else None, request.script_root, position)
    return cache.get_or_make(key, make, lambda: views_at(app) == position)
