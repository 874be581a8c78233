"""Where the parts opened on one ledger application are kept: a typed `Extensions` registry.

`ledger.storage.open_ledger` composes the application: it hands `SupportLedger` its `Store` and
the store's batch loader through the constructor. The other packages open parts of their own on
the same store (the views recorder in projections, the audit's database in audit) once per
application; they keep them in the application's `extensions`, keyed by the part's class, never
as attributes patched onto the application::

    views = app.extensions.get(ViewsRecorderMixin, lambda: make_views(app))

A part is made on first use, at most once even when several threads ask at the same moment,
and lives as long as its application.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Extensions:
    """The parts other packages keep on one ledger application, one per class."""

    def __init__(self) -> None:
        self._parts: dict[type, object] = {}
        self._lock = threading.RLock()  # a part's maker may ask for another part

    def get(self, kind: type[T], make: Callable[[], T]) -> T:
        """The part of this class, made (once) by `make` if there is none yet."""
        part = self._parts.get(kind)
        if part is None:
            with self._lock:
                part = self._parts.get(kind)
                if part is None:
                    part = make()
                    if not isinstance(part, kind):
                        raise TypeError(f"{kind.__name__} part is a {type(part).__name__}")
                    self._parts[kind] = part
        return part  # type: ignore[return-value]  # stored only after the isinstance check

    def kinds(self) -> list[type]:
        """The classes of the parts made so far."""
        return list(self._parts)
