"""The demo year on each store, loaded once per test session and shared by the indicator and
report tests (`demo_ledger`); the stores are removed when the session ends."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from stores import drop_schema, postgres_base_url

from ledger.demo import load_demo
from ledger.storage import open_ledger
from projections.runner import catch_up

YEAR = 2025
_LOADED: dict[str, tuple[str, Any]] = {}


def demo_ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """(url, ledger) of the demo year with its views caught up, on `request.param`'s store."""
    backend = request.param
    if backend in _LOADED:
        return _LOADED[backend]
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo')}/demo.sqlite3"
    else:
        base = postgres_base_url()
        url = f"{base}{'&' if '?' in base else '?'}schema=t_{uuid.uuid4().hex[:16]}"
    app = open_ledger(url)
    load_demo(app, seed=2025, fiscal_year=YEAR, password=None)
    catch_up(app)
    _LOADED[backend] = (url, app)

    def remove() -> None:
        _LOADED.pop(backend, None)
        app.close()
        if backend != "sqlite":
            drop_schema(url)

    request.addfinalizer(remove)
    return url, app
