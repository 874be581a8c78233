"""Command receipts: the idempotency record of every accepted command."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.ids import ledger_id


class CommandReceipt(Aggregate):
    """One accepted command, keyed by its type and idempotency key.

    It is saved in the same transaction as the events the command caused, so two writers
    sending the same command race on its id and only one records. Its `content` is what a
    repeat is compared with, and it lets later commands find what a reference named (the
    award a disbursement belongs to, for example).
    """

    # The events, declared here because their names and fields are stored forever.

    class Accepted(Aggregate.Created):
        command_type: str
        key: str
        content: dict[str, Any]
        content_sha256: str
        actor: str
    @staticmethod
    def create_id(command_type: str, key: str) -> UUID:
        return ledger_id("receipt", command_type, key)

    @event(Accepted)
    def __init__(
        self, command_type: str, key: str, content: dict[str, Any], content_sha256: str, actor: str
    ) -> None:
        self.command_type = command_type
        self.key = key
        self.content = content
        self.content_sha256 = content_sha256
        self.actor = actor
