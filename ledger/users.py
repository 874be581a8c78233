"""Users, roles, API tokens and passwords: a small service beside the ledger's commands.

The facts (registered, role granted or revoked, token issued or revoked, password changed) are
events of the `User` aggregate; the secrets (password hashes, token hashes) are rows of the
credentials table (`ledger.credentials`), which is the only thing authentication reads.

A token is ``sjl_<token id>_<secret>``: it does not embed the user's name (any valid name works,
dots and Chinese characters included). It is looked up by its id, compared in constant time
with the SHA-256 stored for that id, and refused once expired or revoked.

Verified tokens are remembered for at most `TOKEN_CACHE_S` (1 s) per process (`token_holder`),
so that a busy API does not read the credentials table and the user's history on every
request; once an answer is half that old, one request reads it again while the others keep it. Any change to users or credentials made in this process (a token issued or revoked, a
role granted or revoked, a password set, a rotation), through any ledger application of the
process, forgets every remembered token at once: such a change takes effect immediately in the
process that made it, and within `TOKEN_CACHE_S` in every other process (another server, or
`ledger users revoke-token` run from a shell). Expiry is checked on every request.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from ledger.credentials import PASSWORD, TOKEN, Credentials, iso, utc_now
from ledger.domain import ROLES, User
from ledger.domain.events import topic_of
from ledger.errors import Forbidden, InvalidState, UnknownActor, ValidationFailed

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: The actor recorded for facts the ledger itself sets up (the first admin).
SYSTEM_ACTOR = "system"
TOKEN_PREFIX = "sjl_"
DEFAULT_TOKEN_DAYS = 365
MAX_TOKEN_DAYS = 3650
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000
MAX_NAME_LENGTH = 100

_TOKEN_ID_BYTES = 8  # 16 hex digits
_TOKEN_SECRET_BYTES = 32

#: How long a process may answer for a verified token without reading the store again: the
#: bound within which a change made by another process takes effect here (0: never remember).
TOKEN_CACHE_S = 1.0
#: Verified tokens remembered at most per ledger application (all are forgotten when full).
TOKEN_CACHE_MAX = 10_000


class _Changes:
    """How many changes to users or credentials this process has made (any store): a token
    remembered before the latest change is read afresh."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self.count += 1


_CHANGES = _Changes()


@dataclass(frozen=True)
class TokenHolder:
    """Who a valid token speaks for, as verified at `verified_at` (time.monotonic)."""

    name: str
    roles: frozenset[str]
    token_id: str
    expires_at: datetime | None
    verified_at: float
    changes: int


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def parse_token(token: str) -> str | None:
    """The token id of a token in the current format, or None."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        return None
    token_id, sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not secret or len(token_id) != 2 * _TOKEN_ID_BYTES:
        return None
    if any(c not in "0123456789abcdef" for c in token_id):
        return None
    return token_id


def check_name(name: Any) -> str:
    """A user name: 1–100 characters, no spaces, control or invisible format characters."""
    bad = (
        not isinstance(name, str)
        or not name
        or len(name) > MAX_NAME_LENGTH
        or any(unicodedata.category(c)[0] in "CZ" for c in name)
    )
    if bad:
        raise ValidationFailed(
            variant="user_name", max_length=MAX_NAME_LENGTH, fields={"name": ["invalid"]}
        )
    return name


def check_password_policy(name: str, password: Any) -> str:
    """At least 10 characters, and neither the user's name nor containing it (any case)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            variant="password_short",
            min_length=MIN_PASSWORD_LENGTH,
            fields={"password": ["too_short"]},
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            variant="password_long",
            max_length=MAX_PASSWORD_LENGTH,
            fields={"password": ["too_long"]},
        )
    if name.casefold() in password.casefold():
        raise ValidationFailed(variant="password_has_name", fields={"password": ["contains_name"]})
    return password


def _check_days(expires_days: Any) -> int:
    if type(expires_days) is not int or not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise ValidationFailed(
            variant="token_days", max_days=MAX_TOKEN_DAYS, fields={"expires_days": ["out_of_range"]}
        )
    return expires_days


def _hash_password(password: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password)


#: Compared against when a user has no password, so that a wrong name costs as much as a
#: wrong password (made on first use: hashing is slow on purpose).
_DUMMY_HASH: list[str] = []


class Users:
    """The users of one ledger: registration, roles, tokens, passwords, rotation."""

    def __init__(self, app: SupportLedger, clock: Callable[[], datetime] = utc_now) -> None:
        self.app = app
        self.credentials = Credentials(app)
        #: The current instant (UTC); expiry is judged by it.
        self.clock = clock
        #: Seconds a verified token is remembered (see the module's text; 0 turns it off).
        self.token_cache_s = TOKEN_CACHE_S
        #: Seconds on a clock that only goes forward; a remembered token's age is judged by it.
        self.monotonic = time.monotonic
        self._holders: dict[str, TokenHolder] = {}  # by the token's SHA-256
        self._refreshing: set[str] = set()  # tokens one request is reading again
        self._refresh_lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------------

    def has_users(self) -> bool:
        return bool(self.app.recorder.select_notifications(
            start=None, limit=1, topics=[topic_of(User.Registered)]
        ))  # fmt: skip

    def get_user(self, name: str, *, copy: bool = True) -> User | None:
        """The user of that name, or None. A copy unless `copy` is false: then the repository's
        cached user itself, for reading only (who is asking, with which roles), never to change."""
        if not isinstance(name, str) or not name:
            return None
        try:
            return self.app.repository.get(User.create_id(name), deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            return None

    def peek_user(self, name: str) -> User | None:
        """The cached user, not a copy (`get_user(name, copy=False)`): for reading only."""
        return self.get_user(name, copy=False)

    def user(self, name: str) -> User:
        user = self.get_user(name)
        if user is None:
            raise UnknownActor(name=name)
        return user

    def require_role(self, actor: str, role: str) -> User:
        user = self.user(actor)
        if not user.has_role(role):
            raise Forbidden(actor=actor, role=role)
        return user

    def names(self) -> list[str]:
        """Every registered user's name, in the order they were registered."""
        names: list[str] = []
        last = None
        recorder, to_event = self.app.recorder, self.app.mapper.to_domain_event
        while True:
            page = recorder.select_notifications(start=last, limit=1000, inclusive_of_start=False,
                                                 topics=[topic_of(User.Registered)])  # fmt: skip
            names.extend(to_event(n).name for n in page)
            if len(page) < 1000:
                return names
            last = page[-1].id

    def list_users(self) -> list[dict[str, Any]]:
        """Every user: name, roles, tokens (id, issued, expiry, revoked), password set or not.

        Never a hash: only what a credential is and whether it can still be used.
        """
        now = self.clock()
        out = []
        for name in self.names():
            user = self.user(name)
            rows = self.credentials.of_user(name)
            tokens = [
                {"token_id": r.credential_id, "issued_at": r.issued_at, "expires_at": r.expires_at,
                 "revoked_at": r.revoked_at, "usable": r.usable_at(now)}
                for r in rows if r.kind == TOKEN
            ]  # fmt: skip
            known = {t["token_id"] for t in tokens}
            tokens += [
                {"token_id": token_id, "issued_at": None, "expires_at": None, "revoked_at": None,
                 "usable": False, "legacy": True}
                for token_id, expires_at in user.tokens.items()
                if expires_at is None and token_id not in known
            ]  # fmt: skip
            out.append({
                "name": name,
                "roles": sorted(user.roles),
                "password_set": any(r.kind == PASSWORD for r in rows),
                "tokens": tokens,
                "needs_rotation": user.needs_rotation,
            })  # fmt: skip
        return out

    def needing_rotation(self) -> list[str]:
        """Users whose password or tokens were once recorded in the log (legacy events)."""
        return [name for name in self.names() if self.user(name).needs_rotation]

    # -- authentication ----------------------------------------------------------------------

    def user_for_token(self, token: str) -> User | None:
        """The user an API token belongs to, or None if it is not (or no longer) valid."""
        verified = self._verified(token)
        return None if verified is None else self.get_user(verified[0].name)  # a copy, to keep

    def _verified(self, token: str) -> tuple[User, Any] | None:
        """(the user, the credentials row) of a valid token, read from the store; else None."""
        token_id = parse_token(token)
        if token_id is None:
            return None
        row = self.credentials.get(TOKEN, token_id)
        if row is None or not secrets.compare_digest(row.secret_hash, token_sha256(token)):
            return None
        if not row.usable_at(self.clock()):
            return None
        user = self.peek_user(row.user_name)
        if user is None or token_id not in user.tokens:
            return None
        return user, row

    def token_holder(self, token: str) -> TokenHolder | None:
        """Who a valid API token speaks for (name and roles), or None; remembered for at most
        `token_cache_s` and until this process changes any user or credential (see above)."""
        if not isinstance(token, str):
            return None
        key = token_sha256(token)
        now_s = self.monotonic()
        holder = self._holders.get(key)
        fresh = (
            holder is not None
            and holder.changes == _CHANGES.count
            and 0 <= now_s - holder.verified_at < self.token_cache_s
        )
        if fresh and now_s - holder.verified_at >= self.token_cache_s / 2 and self._claim(key):
            fresh = False  # half as old as the bound: this request reads it again, the others
            # meanwhile keep the remembered answer (so they do not all read at once at the bound)
        if not fresh:
            try:
                return self._verify_and_remember(token, key, now_s)
            finally:
                with self._refresh_lock:
                    self._refreshing.discard(key)
        assert holder is not None
        if holder.expires_at is not None and holder.expires_at <= self.clock():
            return None
        return holder

    def _claim(self, key: str) -> bool:
        """Whether this request is the one to read a remembered token again (no other is)."""
        with self._refresh_lock:
            if key in self._refreshing:
                return False
            self._refreshing.add(key)
            return True

    def _verify_and_remember(self, token: str, key: str, now_s: float) -> TokenHolder | None:
        changes = _CHANGES.count  # read before the store: a change meanwhile makes it stale
        verified = self._verified(token)
        if verified is None:
            self._holders.pop(key, None)
            return None
        user, row = verified
        expires_at = None if row.expires_at is None else datetime.fromisoformat(row.expires_at)
        holder = TokenHolder(user.name, frozenset(user.roles), row.credential_id, expires_at,
                             now_s, changes)  # fmt: skip
        if self.token_cache_s > 0:
            if len(self._holders) >= TOKEN_CACHE_MAX:
                self._holders.clear()
            self._holders[key] = holder
        return holder

    def check_password(self, name: str, password: str) -> User | None:
        """The user if `password` is theirs (from the credentials table only), else None."""
        from werkzeug.security import check_password_hash

        row = self.credentials.get(PASSWORD, name) if isinstance(name, str) and name else None
        if row is None:
            if not _DUMMY_HASH:
                _DUMMY_HASH.append(_hash_password(secrets.token_urlsafe(16)))
            check_password_hash(_DUMMY_HASH[0], password)
            return None
        if not check_password_hash(row.secret_hash, password):
            return None
        return self.get_user(name)

    def password_marker(self, name: str) -> str | None:
        """A short digest of the user's password row: a changed password ends older sessions."""
        row = self.credentials.get(PASSWORD, name)
        if row is None:
            return None
        return hashlib.sha256(f"{row.issued_at}\x1f{row.secret_hash}".encode()).hexdigest()[:16]

    # -- changing ----------------------------------------------------------------------------

    def register(self, name: str, roles: Sequence[str], actor: str,
                 expires_days: int = DEFAULT_TOKEN_DAYS) -> str:  # fmt: skip
        """Register a user with roles and return an API token, shown only this once.

        The first user may be registered by anyone (the store has no admin yet); every later
        one needs an admin.
        """
        check_name(name)
        roles = list(roles) if isinstance(roles, (list, tuple, set, frozenset)) else []
        bad_roles = sorted({str(r) for r in roles} - set(ROLES))
        if not roles or bad_roles:
            raise ValidationFailed(
                variant="roles", roles=", ".join(ROLES), bad_roles=bad_roles, fields={"roles": bad_roles}
            )
        _check_days(expires_days)
        if self.has_users():
            self.require_role(actor, "admin")
        else:
            actor = actor or SYSTEM_ACTOR
        if self.get_user(name) is not None:
            raise InvalidState(variant="user_exists", name=name)
        user = User(name=name, roles=sorted(set(roles)), actor=actor)
        return self._issue_and_save(user, actor, expires_days)

    def issue_token(self, name: str, actor: str, expires_days: int = DEFAULT_TOKEN_DAYS) -> str:
        """Issue another API token for a user (an admin, or the user itself)."""
        _check_days(expires_days)
        if actor != name:
            self.require_role(actor, "admin")
        return self._issue_and_save(self.user(name), actor, expires_days)

    def _issue_and_save(self, user: User, actor: str, expires_days: int) -> str:
        token, token_id, issued_at, expires_at = self._new_token(user, actor, expires_days)
        try:
            self.app.save(user)  # the fact first: a token never works without its event
            self.credentials.add_token(user.name, token_id, token_sha256(token), issued_at, expires_at)
        finally:
            _CHANGES.bump()
        return token

    def _new_token(self, user: User, actor: str, expires_days: int) -> tuple[str, str, datetime, datetime]:
        token_id = secrets.token_hex(_TOKEN_ID_BYTES)
        while token_id in user.tokens:
            token_id = secrets.token_hex(_TOKEN_ID_BYTES)
        token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(_TOKEN_SECRET_BYTES)}"
        issued_at = self.clock()
        expires_at = issued_at + timedelta(days=expires_days)
        user.issue_token(token_id, iso(expires_at), actor=actor)
        return token, token_id, issued_at, expires_at

    def revoke_token(self, name: str, token_id: str, actor: str) -> None:
        """Revoke one token of a user (an admin, or the user itself)."""
        if actor != name:
            self.require_role(actor, "admin")
        user = self.user(name)
        user.revoke_token(token_id, actor=actor)
        try:
            self.app.save(user)
            self.credentials.revoke_token(token_id, self.clock())
        finally:  # after the store changed: a token verified before now is read afresh
            _CHANGES.bump()

    def grant_role(self, name: str, role: str, actor: str) -> None:
        self.require_role(actor, "admin")
        if role not in ROLES:
            raise ValidationFailed(variant="role_unknown", role=role, fields={"role": [role]})
        user = self.user(name)
        user.grant_role(role, actor=actor)
        try:
            self.app.save(user)
        finally:
            _CHANGES.bump()

    def revoke_role(self, name: str, role: str, actor: str) -> None:
        self.require_role(actor, "admin")
        user = self.user(name)
        user.revoke_role(role, actor=actor)
        try:
            self.app.save(user)
        finally:
            _CHANGES.bump()

    def set_password(self, name: str, password: str, actor: str) -> None:
        """Set a user's web password (an admin, or the user itself), after the policy."""
        self.user(name)
        check_password_policy(name, password)
        self.set_password_hash(name, _hash_password(password), actor)

    def set_password_hash(self, name: str, password_hash: str, actor: str) -> None:
        """Store an already made werkzeug hash as a user's password (the policy is the caller's)."""
        if actor != name:
            self.require_role(actor, "admin")
        user = self.user(name)
        user.change_password(actor=actor)
        try:
            self.app.save(user)
            self.credentials.set_password_hash(name, password_hash, self.clock())
        finally:
            _CHANGES.bump()

    def rotate(self, actor: str, expires_days: int = DEFAULT_TOKEN_DAYS) -> list[dict[str, Any]]:
        """Revoke every token in use, give every user a fresh token and a new random password.

        Returns ``[{"name", "token", "password", "revoked": [token ids]}]`` (shown only once).
        """
        self.require_role(actor, "admin")
        _check_days(expires_days)
        out = []
        for name in self.names():
            user = self.user(name)
            revoked = sorted(user.tokens)
            for token_id in revoked:
                user.revoke_token(token_id, actor=actor)
            token, token_id, issued_at, expires_at = self._new_token(user, actor, expires_days)
            password = _random_password(name)
            password_hash = _hash_password(password)
            user.change_password(actor=actor)
            try:
                self.app.save(user)
                now = self.clock()
                for old in revoked:
                    self.credentials.revoke_token(old, now)
                self.credentials.add_token(name, token_id, token_sha256(token), issued_at, expires_at)
                self.credentials.set_password_hash(name, password_hash, now)
            finally:
                _CHANGES.bump()
            out.append({"name": name, "token": token, "password": password, "revoked": revoked})
        return out


def _random_password(name: str) -> str:
    while True:
        password = secrets.token_urlsafe(15)  # 20 characters
        try:
            return check_password_policy(name, password)
        except ValidationFailed:  # pragma: no cover - the name inside 20 random characters
            continue
