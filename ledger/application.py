"""SupportLedger: the write side's application. Commands in, events and receipts out.

A command (a dict as clients send it, or a `ledger.commands.Command`) is parsed, then performed
in a unit of work (`ledger.unit_of_work`) by its handler (`ledger.handlers`); users, tokens and
passwords are `ledger.users`'.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Transcoding

from ledger.catalogue import Catalogue, load_catalogue
from ledger.commands import Command, parse_command
from ledger.container import Extensions
from ledger.domain import Measure, User
from ledger.errors import LedgerError
from ledger.unit_of_work import (
    DUPLICATE,
    RECORDED,
    AggregateCarry,
    Outcome,
    UnitOfWork,
    run_batch,
)
from ledger.users import DEFAULT_TOKEN_DAYS, SYSTEM_ACTOR, Users

__all__ = [
    "DUPLICATE", "RECORDED", "AggregateCarry", "Outcome", "SupportLedger", "UnitOfWork", "item_dict",
]  # fmt: skip

if TYPE_CHECKING:
    from ledger.storage import Store

#: The store's query for the stored events of many aggregates: (recorder, ids) → {id: events}.
EventsLoader = Callable[[Any, list[UUID]], dict[UUID, list[Any]]]
EventsAfterLoader = Callable[[Any, Mapping[UUID, int]], dict[UUID, list[Any]]]

A = TypeVar("A", bound=Aggregate)


class DateAsISO(Transcoding):
    """Business dates (`paid_on`, `granted_on`, …) stored as ISO `YYYY-MM-DD` text."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class SupportLedger(Application[UUID]):
    """The ledger of support paid under the policy's measures, and the outcomes it buys."""

    name = "SupportLedger"
    #: Attempts at a command that keeps meeting concurrent writers before giving up.
    conflict_attempts = 50

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        catalogue: Catalogue | None = None,
        store: Store | None = None,
        load_events_many: EventsLoader | None = None,
        load_events_after: EventsAfterLoader | None = None,
    ) -> None:
        """`store`: where the events are (given by `ledger.storage.open_ledger`, which
        composes the application); `load_events_many(recorder, ids)`: the store's query for
        the stored events of many aggregates at once (without it, one query per aggregate);
        `load_events_after(recorder, {id: version})`: its query for the events of a few
        aggregates after given versions (without it, cached aggregates are brought up to
        date one query each, by the repository)."""
        # A bounded LRU cache of aggregates, fast-forwarded from the store on every get (so it
        # is never stale); a hot budget is then not replayed from its first event every time.
        base_env = {
            "IS_SNAPSHOTTING_ENABLED": "n",
            "AGGREGATE_CACHE_MAXSIZE": "20000",
            "AGGREGATE_CACHE_FASTFORWARD": "y",
            "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
        }
        super().__init__({**base_env, **(env or {})})
        self.catalogue = catalogue or load_catalogue()
        self.store = store
        #: The parts other packages open on this application (views, audit database).
        self.extensions = Extensions()
        #: The stored events of many aggregates in one query (None: one query per aggregate).
        self.select_events_many: Callable[[list[UUID]], dict[UUID, list[Any]]] | None = (
            None if load_events_many is None else partial(load_events_many, self.recorder)
        )
        #: The stored events of a few aggregates after given versions, in one query (or None).
        self.select_events_after: Callable[[Mapping[UUID, int]], dict[UUID, list[Any]]] | None = (
            None if load_events_after is None else partial(load_events_after, self.recorder)
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- setting up -------------------------------------------------------------------------

    def define_measures(self, actor: str = SYSTEM_ACTOR) -> int:
        """Define every measure of the catalogue not yet defined; returns how many were new.

        Items the catalogue gained since are added; nothing is ever removed here.
        """
        changed: list[Measure] = []
        for spec in self.catalogue.measures:
            items = [item_dict(item) for item in spec.items]
            try:
                measure = self.repository.get(Measure.create_id(spec.code))
            except AggregateNotFoundError:
                measure = Measure(
                    code=spec.code,
                    pillar=spec.pillar,
                    title_zh=spec.title_zh,
                    title_en=spec.title_en,
                    items=items,
                    actor=actor,
                )
            else:
                for item in items:
                    if item["code"] not in measure.items:
                        measure.add_item(item, actor=actor)
            if measure.pending_events:
                changed.append(measure)
        if changed:
            self.save(*changed)
        return len(changed)

    # -- users (see ledger.users: the facts are events, the secrets are in ledger_credentials) --

    @property
    def users(self) -> Users:
        """The users, roles, tokens and passwords of this ledger."""
        service = self.__dict__.get("_users")
        if service is None:
            service = self.__dict__["_users"] = Users(self)
        return service

    def has_users(self) -> bool:
        return self.users.has_users()

    def register_user(
        self, name: str, roles: Sequence[str], actor: str, expires_days: int = DEFAULT_TOKEN_DAYS
    ) -> str:
        """Register a user with roles and return an API token, shown only this once."""
        return self.users.register(name, roles, actor, expires_days)

    def issue_token(self, name: str, actor: str, expires_days: int = DEFAULT_TOKEN_DAYS) -> str:
        """Issue another API token for a user (an admin, or the user itself)."""
        return self.users.issue_token(name, actor, expires_days)

    def revoke_token(self, name: str, token_id: str, actor: str) -> None:
        self.users.revoke_token(name, token_id, actor)

    def grant_role(self, name: str, role: str, actor: str) -> None:
        self.users.grant_role(name, role, actor)

    def revoke_role(self, name: str, role: str, actor: str) -> None:
        self.users.revoke_role(name, role, actor)

    def set_password(self, name: str, password: str, actor: str) -> None:
        self.users.set_password(name, password, actor)

    def set_password_hash(self, name: str, password_hash: str, actor: str) -> None:
        self.users.set_password_hash(name, password_hash, actor)

    def user_for_token(self, token: str) -> User | None:
        """The user an API token belongs to, or None if the token is not (or no longer) valid."""
        return self.users.user_for_token(token)

    def get_user(self, name: str) -> User | None:
        return self.users.get_user(name)

    # -- commands ----------------------------------------------------------------------------

    def execute(self, command: Mapping[str, Any] | Command, actor: str) -> Outcome:
        """Perform one command as `actor`; raise the `LedgerError` of its first broken rule."""
        (result,) = self.execute_many([(command, actor)])
        if isinstance(result, LedgerError):
            raise result
        return result

    def execute_many(
        self,
        commands: Sequence[tuple[Mapping[str, Any] | Command, str]],
        *,
        dry_run: bool = False,
        carry: AggregateCarry | None = None,
    ) -> list[Outcome | LedgerError]:
        """Perform many commands (objects as clients send them, or commands already built),
        each independently, and save the accepted ones together.

        Each command is checked against the state the commands before it left, so a batch
        records what the same commands sent one by one would. Returns, per command, its
        `Outcome` or the `LedgerError` that refused it. With `dry_run`, nothing is saved.
        `carry`: one caller's batches in sequence (a bulk import's) pass the same carry, so a
        batch starts from the aggregates the one before saved (see `AggregateCarry`).
        """
        parsed: list[Command | LedgerError] = []
        for data, _actor in commands:
            try:
                parsed.append(parse_command(data))
            except LedgerError as error:
                parsed.append(error.as_result())
        return run_batch(self, parsed, [actor for _data, actor in commands], dry_run, carry)

    # -- reading current state (for `ledger show`) -------------------------------------------

    def find(self, cls: type[A], *id_parts: Any) -> A | None:
        """The aggregate of this class named by these parts (e.g. a reference), or None."""
        try:
            return self.repository.get(cls.create_id(*id_parts))
        except AggregateNotFoundError:
            return None

    def log_position(self) -> int:
        """The position of the last event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0


def item_dict(item: Any) -> dict[str, Any]:
    """A catalogue item as the plain dict a Measure records."""
    return {
        "code": item.code,
        "title_zh": item.title_zh,
        "title_en": item.title_en,
        "kind": item.kind,
        "max_fen": item.max_fen,
        "counts_towards_cap": item.counts_towards_cap,
        "rule_zh": item.rule_zh,
        "rule_en": item.rule_en,
    }
