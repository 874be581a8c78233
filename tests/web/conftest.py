"""Fixtures for the web tests: a seeded ledger (on each store), its Flask app and clients.

The ledger of the shared `app` fixture gets passwords for its users, an auditor (`aud`), one
user who is both officer and approver (`both`), a small year of facts, views caught up and a
signed tree head. Clients sign in through the real form, CSRF token and all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import factories as f
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from web import create_app

PASSWORD = "correct horse"
#: name → roles of every user the web tests sign in as.
USERS = {
    "admin": ["admin"],
    "olga": ["officer"],
    "oscar": ["officer"],
    "ada": ["approver"],
    "vic": ["viewer"],
    "aud": ["auditor"],
    "both": ["approver", "officer"],
}


def seed(ledger: Any) -> None:
    """A small year: two enterprises, a budget, awards, payments, a transfer, a financing."""
    commands = [
        (f.enterprise(), "olga"),
        (f.enterprise(f.USCC_B, name="上海松江精密电子有限公司"), "olga"),
        (f.budget(), "olga"),
        (f.award(), "olga"),
        (f.award("A-2", uscc=f.USCC_B, amount_fen=2_000_000), "olga"),
        (f.disbursement(), "olga"),
        (f.approve(), "ada"),
        (f.disbursement("D-2", amount_fen=1_000_000), "oscar"),
        (f.transfer(), "olga"),
        (f.financing(), "olga"),
    ]
    for result in ledger.execute_many(commands):
        assert not isinstance(result, Exception), result


@pytest.fixture
def seeded(app: Any, tmp_path: Any) -> Any:
    """The shared ledger with web users, a few facts, views caught up and a signed tree head."""
    from audit.heads import sign_tree_head
    from audit.keys import generate_key
    from projections.runner import catch_up

    quick_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    for name, roles in USERS.items():
        if app.get_user(name) is None:
            app.register_user(name, roles, actor="admin")
        app.set_password_hash(name, quick_hash, actor="admin")
    seed(app)
    catch_up(app)
    key = tmp_path / "signing-key.pem"
    generate_key(key)
    sign_tree_head(app, key_path=key)
    app.test_signing_key = key
    return app


@pytest.fixture
def web_app(seeded: Any) -> Iterator[Flask]:
    flask_app = create_app(
        {"LEDGER_APP": seeded, "TESTING": True, "SECRET_KEY": "test", "LEDGER_READ_TIMEOUT_S": 0.3}
    )
    yield flask_app


@pytest.fixture
def client(web_app: Flask) -> FlaskClient:
    return web_app.test_client()


def csrf_token(client: FlaskClient, path: str = "/signin") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD) -> Any:
    """Sign in through the form (with its CSRF token); returns the response."""
    token = csrf_token(client)
    return client.post("/signin", data={"name": name, "password": password, "csrf_token": token})


@pytest.fixture
def sign_in_as():  # type: ignore[no-untyped-def]
    """The function that signs a test client of any app in through the form (a fixture, not an
    import of this module: tests/browser has a conftest of the same module name)."""
    return sign_in


@pytest.fixture
def csrf():  # type: ignore[no-untyped-def]
    """The function that reads a page's CSRF token."""
    return csrf_token


@pytest.fixture
def as_user(web_app: Flask):  # type: ignore[no-untyped-def]
    """A function that returns a test client signed in as the named user."""

    def make(name: str) -> FlaskClient:
        client = web_app.test_client()
        response = sign_in(client, name)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make


@pytest.fixture
def token(seeded: Any):  # type: ignore[no-untyped-def]
    """A function that issues a bearer token for the named user and returns the header."""

    def make(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {seeded.issue_token(name, actor='admin')}"}

    return make
