"""Who is asking: sign-in with a password (session cookie) or an API bearer token, and roles.

Roles form a ladder: viewer < auditor < officer < approver, and admin above them all. A page
or endpoint names the lowest role it needs; anyone higher may use it too. The ledger itself
still checks the role each command needs (only an approver may approve a payment), so the web
never decides more than who may reach the ledger.

Sign-ins and failed sign-ins are logged. After a few failures for the same name from the same
address every further attempt from there must wait, and the wait doubles with each failure
(see `SignInThrottle`: the same person from another address still signs in).
"""

from __future__ import annotations

import ipaddress
import logging
import sqlite3
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
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf import CSRFProtect
from flask_wtf.csrf import generate_csrf

from web.i18n import is_english

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
        # remembered for at most a second per process (ledger.users: TOKEN_CACHE_S)
        holder = ledger().users.token_holder(header[len("Bearer ") :].strip())
        if holder is not None:
            viewer = Viewer(holder.name, holder.roles, via_token=True)
    elif session.get("user"):
        # read afresh on every request: a change made anywhere counts at the next one
        user = ledger().users.peek_user(session["user"])
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


def throttle_address(address: str | None) -> str:
    """The address a throttle counts: an IPv4 address, or the /64 network of an IPv6 one (one
    host holds a whole /64, so counting single IPv6 addresses would count nothing)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "-"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class SignInThrottle:
    """Failed sign-ins counted per (name, address), per address and per name; says how long to wait.

    Each attempt first *reserves* itself (`reserve`): in one atomic step every count is checked
    and, if none is over its limit, raised by one; only then is the password checked, and a right
    password gives the reservation back (`succeeded`). So however many attempts arrive at once,
    at most `free_failures` passwords are checked for one name from one address before the waits
    begin. Limits, within a window that ends `window_s` after the last failure:

    - per (name, address): `free_failures` (LEDGER_SIGNIN_FREE_FAILURES, default 3);
    - per address, any names: `address_factor` × that (30): one address cannot try every name;
    - per name, any addresses: `name_factor` × that (90): many addresses cannot guess one
      password, and locking a person out from elsewhere takes 30 addresses (IPv6: /64 networks).

    Beyond a limit every further attempt on that count waits `first_wait_s` (60 s), doubling with
    each further failure, at most `max_wait_s` (15 min). Someone signing in from their own
    address is never held back by another address's failures under the name limit.
    """

    #: Counts kept at most (the oldest are forgotten first; every one older than the window is).
    MAX_KEYS = 100_000

    def __init__(self, free_failures: int, window_s: float = 900.0, first_wait_s: float = 60.0,
                 max_wait_s: float = 900.0, address_factor: int = 10, name_factor: int = 30) -> None:  # fmt: skip
        self.free_failures = max(1, int(free_failures))
        self.window_s = window_s
        self.first_wait_s = first_wait_s
        self.max_wait_s = max_wait_s
        self.address_failures = self.free_failures * address_factor
        self.name_failures = self.free_failures * name_factor
        self._failures: dict[str, tuple[int, float]] = {}  # key → (count, last failure time)
        self._lock = threading.Lock()

    def limits(self, name: str, address: str | None) -> list[tuple[str, int]]:
        """The counts an attempt of `name` from `address` touches, with their limits."""
        who, where = name.casefold(), throttle_address(address)
        return [
            (f"pair:{where}:{who}", self.free_failures),
            (f"addr:{where}", self.address_failures),
            (f"name:{who}", self.name_failures),
        ]

    def _wait(self, count: int, last: float, limit: int, now: float) -> float:
        if count < limit or abs(now - last) > self.window_s:
            return 0.0
        delay = min(self.first_wait_s * 2.0 ** min(count - limit, 30), self.max_wait_s)
        return max(last + delay - now, 0.0)

    def _fresh(self, count: int, last: float, now: float) -> int:
        """`count`, or 0 when its last failure is outside the window (or the clock restarted)."""
        return count if abs(now - last) <= self.window_s else 0

    @contextmanager
    def _counts(self) -> Iterator[dict[str, tuple[int, float]]]:
        """The counts, held for one atomic step."""
        with self._lock:
            yield self._failures

    def _get(self, counts: Any, key: str) -> tuple[int, float]:
        return counts.get(key, (0, 0.0))

    def _put(self, counts: Any, key: str, count: int, last: float) -> None:
        if count <= 0:
            counts.pop(key, None)
        else:
            counts[key] = (count, last)

    def _prune(self, counts: Any, now: float) -> None:
        if len(counts) <= self.MAX_KEYS:
            return
        for key in [k for k, (_n, last) in counts.items() if abs(now - last) > self.window_s]:
            del counts[key]
        if len(counts) > self.MAX_KEYS:  # keep the most recent half
            for key, _ in sorted(counts.items(), key=lambda item: item[1][1])[: len(counts) // 2]:
                del counts[key]

    def reserve(self, name: str, address: str | None) -> float:
        """Count one attempt now and return 0, or return the seconds to wait (nothing counted)."""
        limits = self.limits(name, address)
        with self._counts() as counts:
            now = time.monotonic()  # inside the step: counts are written in time order
            found = {key: self._get(counts, key) for key, _ in limits}
            wait = max(self._wait(*found[key], limit, now) for key, limit in limits)
            if wait > 0:
                return wait
            self._prune(counts, now)
            for key, _ in limits:
                self._put(counts, key, self._fresh(*found[key], now) + 1, now)
        return 0.0

    def succeeded(self, name: str, address: str | None) -> None:
        """The reserved attempt was right: forget this pair's failures, give back the others."""
        pair, *others = self.limits(name, address)
        with self._counts() as counts:
            now = time.monotonic()
            self._put(counts, pair[0], 0, now)
            for key, _ in others:
                count, last = self._get(counts, key)
                self._put(counts, key, self._fresh(count, last, now) - 1, last)


class SharedSignInThrottle(SignInThrottle):
    """The same counts kept in a SQLite file, so that every process of one server shares them
    (with several worker processes a throttle per process would allow that many more tries).

    Each step is one `BEGIN IMMEDIATE` transaction, so two processes cannot both reserve the
    last free attempt. Times are `time.monotonic()`, the same clock for every process of a
    machine (a count from before a restart of the clock is treated as expired). If the file stays
    locked longer than `busy_s`, the attempt is refused with a short wait (never a 500).
    """

    def __init__(self, path: str, free_failures: int, *args: Any, busy_s: float = 10.0,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(free_failures, *args, **kwargs)
        self.path = path
        self.busy_s = busy_s
        with self._counts() as db:
            db.execute("CREATE TABLE IF NOT EXISTS failures "
                       "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, last REAL NOT NULL)")  # fmt: skip
            db.execute("CREATE INDEX IF NOT EXISTS failures_last ON failures (last)")

    @contextmanager
    def _counts(self) -> Iterator[Any]:
        """A connection in one write transaction (so counts are read and raised atomically)."""
        db = sqlite3.connect(self.path, timeout=self.busy_s, isolation_level=None)
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

    def _get(self, counts: Any, key: str) -> tuple[int, float]:
        row = counts.execute("SELECT count, last FROM failures WHERE key = ?", (key,)).fetchone()
        return (int(row[0]), float(row[1])) if row else (0, 0.0)

    def _put(self, counts: Any, key: str, count: int, last: float) -> None:
        if count <= 0:
            counts.execute("DELETE FROM failures WHERE key = ?", (key,))
        else:
            counts.execute("INSERT OR REPLACE INTO failures (key, count, last) VALUES (?, ?, ?)",
                           (key, count, last))  # fmt: skip

    def _prune(self, counts: Any, now: float) -> None:
        counts.execute("DELETE FROM failures WHERE last < ? OR last > ?",
                       (now - self.window_s, now + self.window_s))  # fmt: skip
        excess = counts.execute("SELECT COUNT(*) FROM failures").fetchone()[0] - self.MAX_KEYS
        if excess > 0:
            counts.execute("DELETE FROM failures WHERE key IN "
                           "(SELECT key FROM failures ORDER BY last LIMIT ?)", (excess,))  # fmt: skip

    def reserve(self, name: str, address: str | None) -> float:
        try:
            return super().reserve(name, address)
        except sqlite3.OperationalError:  # locked for longer than busy_s: refuse, briefly
            log.warning("sign-in throttle file busy; attempt refused name=%r", name)
            return 1.0

    def succeeded(self, name: str, address: str | None) -> None:
        try:
            super().succeeded(name, address)
        except sqlite3.OperationalError:  # the sign-in stands; the reservation ages out
            log.warning("sign-in throttle file busy; reservation kept name=%r", name)


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
    address = request.remote_addr  # the peer; X-Forwarded-For is not trusted
    wait = throttle.reserve(name, address)  # counted before any password is checked
    if wait > 0:
        log.warning("sign-in refused (too many failures) name=%r addr=%s", name, address)
        seconds = int(wait) + 1
        for code in ("en", "zh") if is_english() else ("zh", "en"):  # both, the page's first
            with force_locale(code):
                flash(_("Too many failed sign-ins. Try again in %(s)d seconds.", s=seconds), "error")
        page = render_template("signin.html", next_url=next_url, name=name)
        return page, 429, {"Retry-After": str(seconds)}
    # Only the credentials table is checked (never a hash of a legacy event); an unknown name
    # costs as much as a wrong password.
    user = ledger().users.check_password(name, password)
    if user is None:
        log.warning("sign-in failed name=%r addr=%s", name, address)
        flash(_("The name or the password is wrong."), "error")
        return render_template("signin.html", next_url=next_url, name=name), 401
    throttle.succeeded(name, address)
    session.clear()
    session.permanent = True
    session["user"] = user.name
    session["pw"] = _password_marker(user.name)
    # a new CSRF token for the new session, in the cookie sign-in sends: the pages after need
    # not change the session (and sign its cookie again) to make one
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)  # not a token of the old session's
    generate_csrf()
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


class PageCsrfTokens:
    """`csrf_token()` for the pages: Flask-WTF's signed token of the session's CSRF secret, but
    signed at most once every `REUSE_S` seconds per session, not on every page.

    Every page carries a form (sign out), and signing the token afresh took about 5% of a
    page's time. A token is good for `WTF_CSRF_TIME_LIMIT` (an hour); one signed less than a
    minute ago is as good, and is checked the same way.
    """

    REUSE_S = 60.0
    MOST = 10_000  # sessions remembered at once (then forgotten all together)

    def __init__(self) -> None:
        self._signed: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def __call__(self) -> str:
        field = current_app.config["WTF_CSRF_FIELD_NAME"]
        secret = session.get(field)
        if not isinstance(secret, str) or field in g:
            return str(generate_csrf())  # a new session's first, or this request's own
        now = time.monotonic()
        found = self._signed.get(secret)
        if found is not None and 0 <= now - found[1] < self.REUSE_S:
            setattr(g, field, found[0])  # the same token for the rest of the request
            return found[0]
        token = str(generate_csrf())
        with self._lock:
            if len(self._signed) >= self.MOST:
                self._signed.clear()
            self._signed[secret] = (token, now)
        return token


def init_app(app: Flask) -> None:
    shared = app.config.get("LEDGER_SIGNIN_THROTTLE_FILE")
    free = app.config["LEDGER_SIGNIN_FREE_FAILURES"]
    app.extensions["signin_throttle"] = SharedSignInThrottle(shared, free) if shared else SignInThrottle(free)
    csrf.init_app(app)
    page_csrf_token = PageCsrfTokens()
    app.jinja_env.globals["csrf_token"] = page_csrf_token
    app.context_processor(lambda: {"csrf_token": page_csrf_token})  # after Flask-WTF's own
    app.register_blueprint(bp)

    @app.context_processor
    def _viewer() -> dict[str, Any]:
        return {"viewer": current_user()}
