"""The session cookie (web/sessions.py): an unchanged session is signed and sent again at most once
a minute, a changed one at once; the session still ends its lifetime after the last request;
while older keys are accepted, the cookie is signed with the current key at the next answer."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from web import auth, create_app

COOKIE = "ledger_session"


def set_cookie(response: Any) -> str | None:
    """The session's Set-Cookie header of an answer (None if it sent none)."""
    for value in response.headers.getlist("Set-Cookie"):
        if value.startswith(COOKIE + "="):
            return str(value)
    return None


def signed_at(web_app: Flask, cookie_header: str) -> float:
    value = cookie_header.split(";")[0].split("=", 1)[1]
    serializer = web_app.session_interface.get_signing_serializer(web_app)  # type: ignore[attr-defined]
    return float(serializer.loads(value, return_timestamp=True)[1].timestamp())


def test_an_unchanged_session_is_not_signed_again_within_the_minute(
    web_app: Flask, as_user: Any
) -> None:
    client = as_user("vic")
    for _ in range(3):
        answer = client.get("/enterprises")
        assert answer.status_code == 200  # still signed in
        assert set_cookie(answer) is None


def test_once_the_cookie_is_old_enough_the_next_answer_signs_it_again(
    web_app: Flask, as_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2 s, not 1: the signature's time is in whole seconds, so a cookie signed at x.99 counts
    # as signed at x, and may already look a second old
    monkeypatch.setattr(web_app.session_interface, "refresh_after_s", 2.0)
    client = as_user("vic")
    assert set_cookie(client.get("/enterprises")) is None
    time.sleep(2.1)  # the cookie is now older than that
    refreshed = set_cookie(client.get("/enterprises"))
    assert refreshed is not None
    assert "Expires=" in refreshed and "HttpOnly" in refreshed  # the lifetime moves forward
    assert signed_at(web_app, refreshed) >= time.time() - 5
    assert client.get("/enterprises").status_code == 200  # the new cookie works
    assert set_cookie(client.get("/enterprises")) is None  # and is new again


def test_a_changed_session_is_sent_at_once(web_app: Flask, as_user: Any, csrf: Any) -> None:
    client = as_user("vic")
    assert set_cookie(client.get("/enterprises")) is None
    answer = client.post("/signout", data={"csrf_token": csrf(client, "/enterprises")})
    assert answer.status_code == 302
    ended = set_cookie(answer)
    assert ended is not None and "Expires=Thu, 01 Jan 1970" in ended  # the cookie is deleted
    after = client.get("/enterprises")
    assert after.status_code == 302 and "/signin" in after.headers["Location"]


def test_a_forged_or_expired_cookie_is_no_session(web_app: Flask, as_user: Any) -> None:
    client = as_user("vic")
    forged = URLSafeTimedSerializer("another secret", salt="cookie-session").dumps({"user": "vic"})
    client.set_cookie(COOKIE, forged)
    assert client.get("/enterprises").status_code == 302
    client = as_user("vic")
    web_app.permanent_session_lifetime = -1  # type: ignore[assignment]  # every cookie too old
    assert client.get("/enterprises").status_code == 302


def test_while_an_older_key_is_accepted_each_answer_signs_with_the_current_one(
    seeded: Any, sign_in_as: Any
) -> None:
    old = create_app({"LEDGER_APP": seeded, "TESTING": True, "SECRET_KEY": "old"})
    client = old.test_client()
    assert sign_in_as(client, "vic").status_code == 302
    rotated = create_app({"LEDGER_APP": seeded, "TESTING": True, "SECRET_KEY": "new",
                          "SECRET_KEY_FALLBACKS": ["old"]})  # fmt: skip
    moved = rotated.test_client()
    moved.set_cookie(COOKIE, client.get_cookie(COOKIE).value)  # type: ignore[union-attr]
    answer = moved.get("/enterprises")
    assert answer.status_code == 200  # the old key's cookie is still accepted
    resigned = set_cookie(answer)
    assert resigned is not None
    value = resigned.split(";")[0].split("=", 1)[1]
    URLSafeTimedSerializer(
        "new", salt="cookie-session", signer_kwargs={"key_derivation": "hmac"}
    ).loads(value)  # signed by the current key


def page_token(client: Any, csrf: Any) -> str:
    return str(csrf(client, "/enterprises"))


def test_a_sessions_pages_share_a_csrf_token_for_a_minute_and_it_works(
    web_app: Flask, as_user: Any, csrf: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = as_user("vic")
    first = page_token(client, csrf)
    time.sleep(1.1)  # a signature made now would differ (its timestamp is in whole seconds)
    assert page_token(client, csrf) == first  # signed once, not on every page
    other = as_user("vic")  # another session of the same person
    assert page_token(other, csrf) != first
    assert client.post("/signout", data={"csrf_token": "x" + first[1:]}).status_code == 400
    answer = client.post("/signout", data={"csrf_token": first})
    assert answer.status_code == 302 and set_cookie(answer) is not None  # signed out
    monkeypatch.setattr(auth.PageCsrfTokens, "REUSE_S", 0.0)
    signed_anew = page_token(other, csrf)
    time.sleep(1.1)  # the signature's timestamp is in whole seconds
    assert page_token(other, csrf) != signed_anew  # a minute on: signed again
    answer = other.post("/signout", data={"csrf_token": page_token(other, csrf)})
    assert answer.status_code == 302 and set_cookie(answer) is not None
