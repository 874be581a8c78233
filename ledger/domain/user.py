"""Users: the people who may act on the ledger, with their roles and API tokens."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidState
from ledger.ids import ledger_id

#: viewer reads; auditor also audits; officer records; approver approves; admin manages users.
ROLES = ("viewer", "auditor", "officer", "approver", "admin")


class User(Aggregate):
    """A person who may act, with roles. Access changes are events, audited like money.

    Tokens are stored only as SHA-256 digests; passwords only as salted scrypt hashes.
    """

    @staticmethod
    def create_id(name: str) -> UUID:
        return ledger_id("user", name)

    @event("Registered")
    def __init__(self, name: str, roles: list[str], actor: str) -> None:
        self.name = name
        self.roles = set(roles)
        self.token_sha256_by_id: dict[str, str] = {}
        self.password_hash: str | None = None

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def grant_role(self, role: str, actor: str) -> None:
        if role in self.roles:
            raise InvalidState(f"{self.name} already holds the role {role}")
        self._grant_role(role=role, actor=actor)

    @event("RoleGranted")
    def _grant_role(self, role: str, actor: str) -> None:
        self.roles.add(role)

    def revoke_role(self, role: str, actor: str) -> None:
        if role not in self.roles:
            raise InvalidState(f"{self.name} does not hold the role {role}")
        self._revoke_role(role=role, actor=actor)

    @event("RoleRevoked")
    def _revoke_role(self, role: str, actor: str) -> None:
        self.roles.discard(role)

    def issue_token(self, token_id: str, token_sha256: str, actor: str) -> None:
        assert token_id not in self.token_sha256_by_id, token_id
        self._issue_token(token_id=token_id, token_sha256=token_sha256, actor=actor)

    @event("TokenIssued")
    def _issue_token(self, token_id: str, token_sha256: str, actor: str) -> None:
        self.token_sha256_by_id[token_id] = token_sha256

    def revoke_token(self, token_id: str, actor: str) -> None:
        if token_id not in self.token_sha256_by_id:
            raise InvalidState(f"{self.name} has no token {token_id}")
        self._revoke_token(token_id=token_id, actor=actor)

    @event("TokenRevoked")
    def _revoke_token(self, token_id: str, actor: str) -> None:
        del self.token_sha256_by_id[token_id]

    def set_password_hash(self, password_hash: str, actor: str) -> None:
        self._set_password_hash(password_hash=password_hash, actor=actor)

    @event("PasswordSet")
    def _set_password_hash(self, password_hash: str, actor: str) -> None:
        self.password_hash = password_hash
