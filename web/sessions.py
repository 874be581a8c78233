"""The session cookie: signed as Flask signs it, re-signed at most once a minute.

A signed-in session is permanent (it ends `PERMANENT_SESSION_LIFETIME` after the last request),
so Flask signs the cookie afresh and sends it back on every answer, to move that end forward.
That signature, and building its serializer on every request, took about 5% of a page's time.
Here the serializer is built once per secret, and an unchanged session's cookie is sent back
only once it is at least `REFRESH_AFTER_S` old: the session still ends the full lifetime after
the last request, give or take that minute. A session that changed (signed in, signed out, a
CSRF token made) is always sent, as before; and while older keys are still accepted
(`SECRET_KEY_FALLBACKS`), every answer signs with the current one, as Flask does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

if TYPE_CHECKING:
    from flask import Flask, Request
    from itsdangerous import URLSafeTimedSerializer

#: An unchanged session's cookie is signed and sent again once it is this old (seconds).
REFRESH_AFTER_S = 60.0


class SignedSession(SecureCookieSession):
    """A session, with when its incoming cookie was signed (None: no cookie came, or it needs
    signing again, as one signed with an older key)."""

    signed_at: float | None = None


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the serializer made once and the cookie refreshed
    at most every `refresh_after_s` seconds while the session is unchanged."""

    session_class = SignedSession

    def __init__(self, refresh_after_s: float = REFRESH_AFTER_S) -> None:
        self.refresh_after_s = refresh_after_s
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        found = self._serializers.get(key)
        if found is None:
            found = super().get_signing_serializer(app)
            assert found is not None
            self._serializers = {key: found}  # a new secret replaces the old serializer
        return found

    def open_session(self, app: Flask, request: Request) -> SignedSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        if not app.config["SECRET_KEY_FALLBACKS"]:  # else it may be an older key's: sign anew
            session.signed_at = signed.timestamp()
        return session

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or not 0 <= time.time() - signed_at < self.refresh_after_s


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookies()
