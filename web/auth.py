"""Who is asking: sign-in with a password (session cookie) or an API bearer token, and roles.

Roles form a ladder: viewer < auditor < officer < approver, and admin above them all. A page
or endpoint names the lowest role it needs; anyone higher may use it too. The ledger itself
still checks the role each command needs (only an approver may approve a payment), so the web
never decides more than who may reach the ledger.

Sign-ins and failed sign-ins are logged. After a few failures for the same name (or from the
same address) every further attempt must wait, and the wait doubles with each failure.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import CSRFProtect

log = logging.getLogger("web.auth")

#: The role ladder: each role may do what every role below it may.
ROLE_RANK = {"viewer": 0, "auditor": 1, "officer": 2, "approver": 3, "admin": 4}

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("auth", __name__)
csrf = CSRFProtect()

@dataclass(frozen=True)
class Viewer:
    """The signed-in person (or token holder) of this request."""

    name: str
    roles: frozenset[str]
    via_token: bool = False

    @property
    def rank(self) -> int:
        return max((ROLE_RANK.get(role, -1) for role in self.roles), default=-1)

    def may(self, role: str) -> bool:
        """Whether this person holds `role` or a role above it."""
        return self.rank >= ROLE_RANK[role]


def ledger() -> Any:
    """The ledger application of the current Flask app."""
    return current_app.extensions["ledger"]


def _password_marker(name: str) -> str | None:
    """A short digest of the user's password in the credentials table (None without one): a
    changed password ends older sessions."""
    return ledger().users.password_marker(name)


def current_user() -> Viewer | None:
    """The person of this request: from a bearer token, else from the session cookie."""
    if "viewer" in g:
        return g.viewer
    viewer = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = ledger().user_for_token(header[len("Bearer ") :].strip())
        if user is not None:
            viewer = Viewer(user.name, frozenset(user.roles), via_token=True)
    elif session.get("user"):
        user = ledger().get_user(session["user"])
        marker = _password_marker(user.name) if user is not None else None
        if user is not None and marker is not None and session.get("pw") == marker:
            viewer = Viewer(user.name, frozenset(user.roles))
        else:
            session.clear()
    g.viewer = viewer
    return viewer


def _is_api() -> bool:
    return request.path.startswith("/api/")


def requires(role: str, *, token_only: bool = False) -> Callable[[F], F]:
    """Let a view run only for someone who holds `role` or above.

    Anonymous callers get 401 (API) or a redirect to the sign-in page (pages); callers below
    the role get 403. With `token_only`, a session cookie is not enough: a bearer token is
    needed (so that no cross-site form can use a signed-in browser to write).
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            viewer = current_user()
            if viewer is None or (token_only and not viewer.via_token):
                if _is_api() or token_only:
                    abort(401)
                return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
            if not viewer.may(role):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_role = role  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


class SignInThrottle:
    """Counts recent failed sign-ins per name and per address, and says how long to wait."""

    def __init__(self, free_failures: int, window_s: float = 900.0, max_wait_s: float = 300.0):
        self.free_failures = free_failures
        self.window_s = window_s
        self.max_wait_s = max_wait_s
        self._failures: dict[str, tuple[int, float]] = {}  # key → (count, last failure time)
        self._lock = threading.Lock()

    def wait_s(self, *keys: str) -> float:
        """Seconds until another attempt for these keys is allowed (0 when it is now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                count, last = self._failures.get(key, (0, 0.0))
                if now - last > self.window_s:
                    continue
                if count >= self.free_failures:
                    delay = min(2.0 ** (count - self.free_failures), self.max_wait_s)
                    wait = max(wait, last + delay - now)
        return max(wait, 0.0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:  # a limit on everything
                self._failures.clear()
            for key in keys:
                count, last = self._failures.get(key, (0, 0.0))
                if now - last > self.window_s:
                    count = 0
                self._failures[key] = (count + 1, now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


class SharedSignInThrottle(SignInThrottle):
    """The same counts kept in a SQLite file, so that every process of one server shares them
    (with several worker processes a throttle per process would allow that many more tries).

    Only sign-ins touch it, each with one short transaction; times are `time.monotonic()`,
    which is the same clock for every process of a machine.
    """

    def __init__(self, path: str, free_failures: int, window_s: float = 900.0,
                 max_wait_s: float = 300.0) -> None:  # fmt: skip
        super().__init__(free_failures, window_s, max_wait_s)
        self.path = path
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS failures "
                       "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, last REAL NOT NULL)")  # fmt: skip

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        """A connection in one write transaction (so a count is read and raised atomically)."""
        import sqlite3

        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def wait_s(self, *keys: str) -> float:
        now = time.monotonic()
        wait = 0.0
        with self._connect() as db:
            for key in keys:
                row = db.execute("SELECT count, last FROM failures WHERE key = ?", (key,)).fetchone()
                count, last = row if row else (0, 0.0)
                if now - last > self.window_s:
                    continue
                if count >= self.free_failures:
                    delay = min(2.0 ** (count - self.free_failures), self.max_wait_s)
                    wait = max(wait, last + delay - now)
        return max(wait, 0.0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._connect() as db:
            if db.execute("SELECT COUNT(*) FROM failures").fetchone()[0] > 100_000:  # a limit on everything
                db.execute("DELETE FROM failures")
            for key in keys:
                row = db.execute("SELECT count, last FROM failures WHERE key = ?", (key,)).fetchone()
                count, last = row if row else (0, 0.0)
                if now - last > self.window_s:
                    count = 0
                db.execute("INSERT OR REPLACE INTO failures (key, count, last) VALUES (?, ?, ?)",
                           (key, count + 1, now))  # fmt: skip

    def succeeded(self, *keys: str) -> None:
        with self._connect() as db:
            db.executemany("DELETE FROM failures WHERE key = ?", [(key,) for key in keys])


def _safe_next(target: str | None) -> str:
    """Only a path on this site may be a redirect target after sign-in."""
    if not target:
        return url_for("pages.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.dashboard")
    return target


@bp.route("/signin", methods=["GET", "POST"])
def sign_in() -> Any:
    """Show the sign-in form; check a name and password and start a session."""
    next_url = request.values.get("next", "")
    if request.method == "GET":
        return render_template("signin.html", next_url=next_url, name="")
    name = request.form.get("name", "").strip()[:100]
    password = request.form.get("password", "")[:1000]
    throttle: SignInThrottle = current_app.extensions["signin_throttle"]
    keys = (f"name:{name}", f"addr:{request.remote_addr}")
    wait = throttle.wait_s(*keys)
    if wait > 0:
        log.warning("sign-in refused (too many failures) name=%r addr=%s", name, request.remote_addr)
        flash(_("Too many failed sign-ins. Try again in %(s)d seconds.", s=int(wait) + 1), "error")
        return render_template("signin.html", next_url=next_url, name=name), 429
    # Only the credentials table is checked (never a hash of a legacy event); an unknown name
    # costs as much as a wrong password.
    user = ledger().users.check_password(name, password)
    if user is None:
        throttle.failed(*keys)
        log.warning("sign-in failed name=%r addr=%s", name, request.remote_addr)
        flash(_("The name or the password is wrong."), "error")
        return render_template("signin.html", next_url=next_url, name=name), 401
    throttle.succeeded(*keys)
    session.clear()
    session.permanent = True
    session["user"] = user.name
    session["pw"] = _password_marker(user.name)
    log.info("sign-in name=%r addr=%s", user.name, request.remote_addr)
    return redirect(_safe_next(next_url))


@bp.route("/signout", methods=["POST"])
def sign_out() -> Any:
    """End the session."""
    name = session.get("user")
    session.clear()
    if name:
        log.info("sign-out name=%r addr=%s", name, request.remote_addr)
    return redirect(url_for("auth.sign_in"))


def init_app(app: Flask) -> None:
    shared = app.config.get("LEDGER_SIGNIN_THROTTLE_FILE")
    free = app.config["LEDGER_SIGNIN_FREE_FAILURES"]
    app.extensions["signin_throttle"] = SharedSignInThrottle(shared, free) if shared else SignInThrottle(free)
    csrf.init_app(app)
    app.register_blueprint(bp)

    @app.context_processor
    def _viewer() -> dict[str, Any]:
        return {"viewer": current_user()}
