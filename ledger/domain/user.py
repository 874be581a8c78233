"""Users: the people who may act on the ledger, with their roles and API tokens.

The events record only what an auditor needs to know: who was registered with which roles,
which role was granted or revoked, which token (by id, with its expiry) was issued or revoked,
and that a password was changed. No password hash and no token hash ever enters an event; they
live in the credentials table (`ledger.credentials`), which is mutable and outside the log.

Stores made before that rule hold two legacy event shapes, still loadable: `PasswordSet` (with
the password's hash) and `TokenIssued` version 1 (with the token's SHA-256). Their upcasters
drop the secret when an event is read, so no decoded event carries it, and the aggregate notes
that the user's credentials must be rotated (`ledger users rotate`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidState
from ledger.ids import ledger_id

#: viewer reads; auditor also audits; officer records; approver approves; admin manages users.
ROLES = ("viewer", "auditor", "officer", "approver", "admin")


class User(Aggregate):
    """A person who may act, with roles. Access changes are events, audited like money."""

    # The event classes are declared here (not made by `@event("Name")`) because their topics
    # are permanent and two of them have a legacy shape to upcast.

    class Registered(Aggregate.Created):
        name: str
        roles: list[str]
        actor: str

    class RoleGranted(Aggregate.Event):
        role: str
        actor: str

    class RoleRevoked(Aggregate.Event):
        role: str
        actor: str

    class TokenIssued(Aggregate.Event):
        """A token was issued (version 1 also held the token's SHA-256: dropped when read)."""

        class_version = 2
        token_id: str
        expires_at: str | None
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.pop("token_sha256", None)
            state["expires_at"] = None  # a legacy token: it had no expiry (and no longer works)

    class TokenRevoked(Aggregate.Event):
        token_id: str
        actor: str

    class PasswordSet(Aggregate.Event):
        """Legacy (never recorded any more): a password was set, with its hash (dropped when read)."""

        class_version = 2
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.pop("password_hash", None)

    class PasswordChanged(Aggregate.Event):
        """The user's password was set or changed (its hash is in the credentials table)."""

        actor: str

    @staticmethod
    def create_id(name: str) -> UUID:
        return ledger_id("user", name)

    @event(Registered)
    def __init__(self, name: str, roles: list[str], actor: str) -> None:
        self.name = name
        self.roles = set(roles)
        #: token id → expiry (ISO 8601, UTC) of every token not revoked; None for legacy tokens.
        self.tokens: dict[str, str | None] = {}
        self.password_set = False
        #: A password was set before hashes left the log: it must be rotated.
        self.password_legacy = False

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def needs_rotation(self) -> bool:
        """Whether a secret of this user was once recorded in the log (and is still in use)."""
        return self.password_legacy or any(e is None for e in self.tokens.values())

    def grant_role(self, role: str, actor: str) -> None:
        if role in self.roles:
            raise InvalidState(variant="role_held", name=self.name, role=role)
        self._grant_role(role=role, actor=actor)

    @event(RoleGranted)
    def _grant_role(self, role: str, actor: str) -> None:
        self.roles.add(role)

    def revoke_role(self, role: str, actor: str) -> None:
        if role not in self.roles:
            raise InvalidState(variant="role_missing", name=self.name, role=role)
        self._revoke_role(role=role, actor=actor)

    @event(RoleRevoked)
    def _revoke_role(self, role: str, actor: str) -> None:
        self.roles.discard(role)

    def issue_token(self, token_id: str, expires_at: str, actor: str) -> None:
        assert token_id not in self.tokens, token_id
        self._issue_token(token_id=token_id, expires_at=expires_at, actor=actor)

    @event(TokenIssued)
    def _issue_token(self, token_id: str, expires_at: str | None, actor: str) -> None:
        self.tokens[token_id] = expires_at

    def revoke_token(self, token_id: str, actor: str) -> None:
        if token_id not in self.tokens:
            raise InvalidState(variant="token_missing", name=self.name, token_id=token_id)
        self._revoke_token(token_id=token_id, actor=actor)

    @event(TokenRevoked)
    def _revoke_token(self, token_id: str, actor: str) -> None:
        del self.tokens[token_id]

    @event(PasswordSet)
    def _legacy_password_set(self, actor: str) -> None:  # only ever replayed, never called
        self.password_set = True
        self.password_legacy = True

    def change_password(self, actor: str) -> None:
        self._change_password(actor=actor)

    @event(PasswordChanged)
    def _change_password(self, actor: str) -> None:
        self.password_set = True
        self.password_legacy = False
