"""A real server for the browser suite: waitress serving the web on a free port over a seeded
SQLite ledger, and a headless Debian Chromium driven by Playwright.

Without /usr/bin/chromium the suite is skipped with that reason, unless
LEDGER_TEST_REQUIRE_BROWSER=1 (as in CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import factories as f
import pytest
from servers import waitress_in_thread
from werkzeug.security import generate_password_hash

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "browser pass"


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"the browser suite needs Debian's chromium at {CHROMIUM} (scripts/ci-system-deps)"
    if os.environ.get("LEDGER_TEST_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (LEDGER_TEST_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a waitress server running the web over a small seeded ledger."""
    _require_chromium()

    from audit.heads import sign_tree_head
    from audit.keys import generate_key
    from ledger.storage import open_ledger
    from projections.runner import catch_up
    from web import create_app

    directory = tmp_path_factory.mktemp("browser")
    ledger = open_ledger(f"sqlite:///{directory}/ledger.sqlite3")
    ledger.define_measures()
    ledger.register_user("admin", ["admin"], actor="")
    quick_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    for name, roles in {"olga": ["officer"], "ada": ["approver"], "aud": ["auditor"]}.items():
        ledger.register_user(name, roles, actor="admin")
        ledger.set_password_hash(name, quick_hash, actor="admin")
    commands = [
        (f.enterprise(), "olga"),
        (f.enterprise(f.USCC_B, name="上海松江精密电子有限公司"), "olga"),
        (f.budget(), "olga"),
        (f.budget("B-M01", measure="M01"), "olga"),
        (f.award(), "olga"),
        (f.award("A-2", uscc=f.USCC_B, amount_fen=2_000_000), "olga"),
        (f.disbursement(), "olga"),
        (f.approve(), "ada"),
        (f.transfer(), "olga"),
        (f.financing(), "olga"),
    ]
    assert not any(isinstance(r, Exception) for r in ledger.execute_many(commands))
    catch_up(ledger)
    key = directory / "signing-key.pem"
    generate_key(key)
    sign_tree_head(ledger, key_path=key)
    app = create_app({"LEDGER_APP": ledger, "SECRET_KEY": "browser-test"})
    with waitress_in_thread(app) as base:
        yield base
    ledger.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"],
        )  # fmt: skip
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def shoot():  # type: ignore[no-untyped-def]
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
