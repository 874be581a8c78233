"""The unit of work: commands performed against one consistent set of loaded aggregates.

Every command runs in a unit of work: it loads what it names, checks every rule in the order
DESIGN §4 gives, and only then triggers events. The events of a command (or of a batch of
commands) are saved in one atomic `put(...)`, together with the commands' receipts, so either
all of them land or none do. A concurrent writer that saved first makes the put fail with a
conflict; the work is then reloaded and redone (`run_batch`), which is why retries are harmless.
"""

from __future__ import annotations

import copy
import itertools
import logging
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError

from ledger.commands import Command
from ledger.domain import Award, Budget, CommandReceipt, Measure, User
from ledger.errors import Forbidden, LedgerError, ReferenceConflict, UnknownActor, ValidationFailed
from ledger.handlers import HANDLERS
from ledger.leaves import entry_size

if TYPE_CHECKING:
    from ledger.application import SupportLedger

log = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)

RECORDED = "recorded"
DUPLICATE = "duplicate"
#: Every event's log entry (its canonical bytes, ledger.leaves) must be shorter than this: the
#: C2SP entry bundles length-prefix entries with a uint16.
ENTRY_BYTES_LIMIT = 65_536
#: An entry whose state and topic (at 4 bytes a character) are shorter than the limit less
#: this is shorter than the limit whatever its position and version (their digits, the prefix
#: and the id's 32 hex digits take fewer than 128 bytes): its exact size need not be counted.
_ENTRY_HEAD_BYTES_MAX = 128


@dataclass(frozen=True)
class Outcome:
    """What happened to an accepted command: recorded (at a log position) or a duplicate."""

    command_type: str
    key: str
    status: str
    position: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.command_type,
            "key": self.key,
            "status": self.status,
            "position": self.position,
        }


class RecordedMeanwhile(Exception):
    """A command decided on reads that another writer's recording of it overtook: redo the batch."""


@dataclass
class UnitOfWork:
    """The aggregates one command (or one batch of commands) has loaded and changed.

    `touched` holds what the current command got or added, so that the work per command
    stays small however large the batch grows.
    """

    app: SupportLedger
    loaded: dict[UUID, Aggregate | None] = field(default_factory=dict)
    touched: dict[UUID, Aggregate] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)
    #: Receipts that looked absent for commands then refused by their own rules.
    refused_receipt_ids: list[UUID] = field(default_factory=list)
    #: Aggregates as an earlier batch of the same caller saved them (`AggregateCarry`), taken
    #: by `preload` instead of being replayed from their first event.
    carry: AggregateCarry | None = None
    #: Aggregates got as copies of the repository's cached ones (`cache_saved` puts them back).
    cached_ids: list[UUID] = field(default_factory=list)

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate with this id as this unit of work sees it, or None."""
        if aggregate_id not in self.loaded:
            carried = self._carried(aggregate_id)
            if carried is not None:
                self.loaded[aggregate_id] = carried
            else:
                try:
                    self.loaded[aggregate_id] = self.app.repository.get(aggregate_id)
                except AggregateNotFoundError:
                    self.loaded[aggregate_id] = None
                else:
                    self.cached_ids.append(aggregate_id)  # a copy of the one it caches
        aggregate = self.loaded[aggregate_id]
        assert aggregate is None or isinstance(aggregate, cls), (aggregate_id, cls)
        if aggregate is not None:
            self.touched[aggregate_id] = aggregate
        return aggregate

    def _carried(self, aggregate_id: UUID) -> Aggregate | None:
        """A carried aggregate (a budget, a measure) with the events stored after it applied."""
        if self.carry is None:
            return None
        aggregate = self.carry.take(aggregate_id)
        if aggregate is not None:
            to_domain_event = self.app.mapper.to_domain_event
            for stored_event in self.app.recorder.select_events(aggregate_id, gt=aggregate.version):
                aggregate = to_domain_event(stored_event).mutate(aggregate)
        return aggregate

    def add(self, aggregate: Aggregate) -> None:
        assert self.loaded.get(aggregate.id) is None, aggregate.id
        self.loaded[aggregate.id] = aggregate
        self.touched[aggregate.id] = aggregate

    def preload(self, aggregate_ids: Iterable[UUID]) -> None:
        """Reconstruct many aggregates from one query (those not loaded yet); absent ones are None."""
        wanted = list(dict.fromkeys(i for i in aggregate_ids if i not in self.loaded))
        if not wanted:
            return
        assert self.app.select_events_many is not None
        stored = self.app.select_events_many(wanted)
        to_domain_event = self.app.mapper.to_domain_event
        carried = self.carry.take_if_stored if self.carry is not None else _nothing_carried
        for aggregate_id in wanted:
            events = stored.get(aggregate_id, ())
            aggregate = carried(aggregate_id, events)
            after = 0 if aggregate is None else aggregate.version
            for stored_event in events:
                if stored_event.originator_version > after:
                    aggregate = to_domain_event(stored_event).mutate(aggregate)
            self.loaded[aggregate_id] = aggregate

    def carry_on(self) -> None:
        """Hand the aggregates of a saved batch to the next batch of the same caller."""
        if self.carry is not None:
            self.carry.keep(self.loaded)

    def preload_batch(self, commands: Sequence[Command], actors: Sequence[str] = ()) -> None:
        """Load what a batch's commands name in two queries, instead of one query each.

        First the commands' receipts, the receipts of the commands they refer to (the
        disbursement an approval names), the aggregates they name and the users who act; then
        the awards that the disbursements and clawbacks they refer to belong to. Measures and
        budgets are few and hot (a budget has an event per award): they come from the
        repository's cache, brought up to date in a third query (`fast_forward_cached`).
        """
        if self.app.select_events_many is None or len(commands) < 2:
            return
        parents = (command.parent_receipt_id() for command in commands)
        self.preload([
            *(i for command in commands for i in (command.receipt_id(), *command.named_ids())),
            *(i for i in parents if i is not None),
            *(User.create_id(actor) for actor in dict.fromkeys(actors) if actor),
        ])  # fmt: skip
        second = []
        for command in commands:
            parent_id = command.parent_receipt_id()
            receipt = None if parent_id is None else self.loaded.get(parent_id)
            if receipt is not None:
                second.append(Award.create_id(receipt.content["award_reference"]))
        self.preload(second)
        self.fast_forward_cached(_measures_and_budgets(commands))

    def fast_forward_cached(self, aggregate_ids: Iterable[UUID]) -> None:
        """Those of these aggregates the repository caches (a batch's measures and budgets: few
        and hot, a budget with an event per award), brought up to date in one query: what the
        repository's fast-forward does with one query each. Each is a copy of the cached one,
        as the repository gives it; once the batch is saved, `cache_saved` puts it back."""
        cache = self.app.repository.cache
        select_events_after = self.app.select_events_after
        if cache is None or select_events_after is None:
            return
        carried = self.carry if self.carry is not None else {}
        cached: dict[UUID, Aggregate] = {}
        for aggregate_id in aggregate_ids:
            if aggregate_id in self.loaded or aggregate_id in carried:
                continue
            try:
                cached[aggregate_id] = cache.get(aggregate_id)
            except KeyError:
                continue  # not cached: the repository replays it, if a command asks
        if not cached:
            return
        stored = select_events_after({i: aggregate.version for i, aggregate in cached.items()})
        to_domain_event = self.app.mapper.to_domain_event
        for aggregate_id, aggregate in cached.items():
            aggregate = copy.deepcopy(aggregate)  # never the cached object itself
            for stored_event in stored.get(aggregate_id, ()):
                aggregate = to_domain_event(stored_event).mutate(aggregate)
            self.loaded[aggregate_id] = aggregate
            self.cached_ids.append(aggregate_id)

    def cache_saved(self) -> None:
        """Once the batch is saved: the aggregates it had from the repository's cache, as saved,
        back into the cache, so that the next batch reads only what was stored after them (not
        the events this one stored, again). Not for a caller that carries them (a bulk import):
        the next batch changes a carried aggregate itself, and the cache must never hold one
        changed but unsaved."""
        cache = self.app.repository.cache
        if cache is None or self.carry is not None:
            return
        for aggregate_id in self.cached_ids:
            aggregate = self.loaded.get(aggregate_id)
            if aggregate is not None and not aggregate.pending_events:
                cache.put(aggregate_id, aggregate)

    def begin_command(self) -> None:
        self.touched = {}

    def pending_count(self) -> int:
        """Events the current command has triggered and not yet taken."""
        return sum(len(a.pending_events) for a in self.touched.values())

    def take_events(self) -> list[Any]:
        """Move the current command's pending events to the ordered list of events to save."""
        new_events = []
        for aggregate in self.touched.values():
            if aggregate.pending_events:
                new_events.extend(aggregate.collect_events())
        self.events.extend(new_events)
        return new_events

    # -- one command -----------------------------------------------------------------------

    def perform(self, command: Command, actor: str) -> Outcome:
        """Check the actor, the idempotency key, then the command's own rules; then record."""
        self._check_actor(actor, command.role)
        receipt_id = command.receipt_id()
        receipt = self.get(CommandReceipt, receipt_id)
        if receipt is not None:
            if receipt.content_sha256 != command.content_sha256():
                raise ReferenceConflict(command_type=command.type, key=command.key)
            return Outcome(command.type, command.key, DUPLICATE)
        try:
            HANDLERS[type(command)](self, command, actor)
        except LedgerError:
            # Refused by its own rules, on aggregates read after the receipt looked absent:
            # checked again (with every other such refusal, in one query) before it stands.
            self.refused_receipt_ids.append(receipt_id)
            raise
        except Exception as exc:
            # A handler's own assertion (say, a payment already on the award) can only fail when
            # another writer recorded this very command between the reads: then it is retried.
            if recorded_receipt_ids(self.app, [receipt_id]):
                raise RecordedMeanwhile(f"{command.type} {command.key!r} recorded meanwhile") from exc
            raise
        self.add(
            CommandReceipt(
                command_type=command.type,
                key=command.key,
                content=command.content(),
                content_sha256=command.content_sha256(),
                actor=actor,
            )
        )
        return Outcome(command.type, command.key, RECORDED)

    def _check_actor(self, actor: str, role: str) -> None:
        user = self.get(User, User.create_id(actor)) if actor else None
        if user is None:
            raise UnknownActor(variant="acting", name=actor)
        if not user.has_role(role):
            raise Forbidden(variant="command", actor=actor, role=role)

    def check_refusals_still_unrecorded(self) -> None:
        """Raise `RecordedMeanwhile` if a command its rules refused now has a receipt."""
        recorded = recorded_receipt_ids(self.app, self.refused_receipt_ids)
        if recorded:
            raise RecordedMeanwhile(f"{len(recorded)} refused command(s) recorded meanwhile")


def _measures_and_budgets(commands: Sequence[Command]) -> list[UUID]:
    """The measures and budgets these commands name (by their `measure` and `fiscal_year`)."""
    ids: dict[UUID, None] = {}
    for command in commands:
        measure = getattr(command, "measure", None)
        if not isinstance(measure, str):
            continue
        ids[Measure.create_id(measure)] = None
        fiscal_year = getattr(command, "fiscal_year", None)
        if isinstance(fiscal_year, int):
            ids[Budget.create_id(measure, fiscal_year)] = None
    return list(ids)


def _nothing_carried(_aggregate_id: UUID, _events: Sequence[Any]) -> None:
    return None


class AggregateCarry:
    """Aggregates a caller's saved batches left, for its next batch (a bulk import's).

    Its next batch still reads every aggregate's stored events (in its one query, or, for one
    got on its own, a budget, those after the carried version), and applies to a carried
    aggregate only the events stored after it: the state is the state replayed
    from the log, without decoding the events the carried aggregate already holds. An
    aggregate is handed to one unit of work at a time (taken out, kept again only once its
    batch is saved), so a refused, failed or retried batch never leaves one changed but
    unsaved here. At most `max_aggregates` are kept (the least recently saved dropped).
    """

    def __init__(self, max_aggregates: int = 50_000) -> None:
        self.max_aggregates = max_aggregates
        self._aggregates: dict[UUID, Aggregate] = {}

    def __len__(self) -> int:
        return len(self._aggregates)

    def __contains__(self, aggregate_id: object) -> bool:
        return aggregate_id in self._aggregates

    def take(self, aggregate_id: UUID) -> Aggregate | None:
        """The carried aggregate (taken out: the caller applies the events stored after it)."""
        return self._aggregates.pop(aggregate_id, None)

    def take_if_stored(self, aggregate_id: UUID, events: Sequence[Any]) -> Aggregate | None:
        """The carried aggregate, if the stored `events` (in version order) extend it."""
        aggregate = self._aggregates.pop(aggregate_id, None)
        if aggregate is None or not events:
            return None
        if events[-1].originator_version < aggregate.version:  # not what is stored: replay
            return None
        return aggregate

    def keep(self, loaded: Mapping[UUID, Aggregate | None]) -> None:
        for aggregate_id, aggregate in loaded.items():
            if aggregate is not None and not aggregate.pending_events:
                self._aggregates.pop(aggregate_id, None)
                self._aggregates[aggregate_id] = aggregate
        excess = len(self._aggregates) - self.max_aggregates
        if excess > 0:
            for aggregate_id in list(itertools.islice(self._aggregates, excess)):
                del self._aggregates[aggregate_id]


def recorded_receipt_ids(app: SupportLedger, receipt_ids: Sequence[UUID]) -> list[UUID]:
    """Those of these receipts the store holds now (read afresh, past every cache)."""
    if not receipt_ids:
        return []
    if app.select_events_many is not None:
        stored = app.select_events_many(list(dict.fromkeys(receipt_ids)))
        return [i for i in receipt_ids if stored.get(i)]
    return [i for i in receipt_ids if app.recorder.select_events(i, limit=1)]


Result = Outcome | LedgerError


def run_batch(
    app: SupportLedger,
    parsed: Sequence[Command | LedgerError],
    actors: Sequence[str],
    dry_run: bool,
    carry: AggregateCarry | None = None,
) -> list[Result]:
    """Perform parsed commands in one unit of work, redone on concurrent-write conflicts.

    `carry`: the aggregates the caller's previous batches saved (see `AggregateCarry`).
    """
    commands = [command for command in parsed if isinstance(command, Command)]
    for attempt in range(1, app.conflict_attempts + 1):
        uow = UnitOfWork(app, carry=None if dry_run else carry)
        uow.preload_batch(commands, actors)
        try:
            results, produced = _attempt(uow, parsed, actors)
            stored, refused = _stored_events(app, produced)
            while refused:  # redo with those refused
                parsed = [refused.get(i, item) for i, item in enumerate(parsed)]
                uow = UnitOfWork(app)
                uow.preload_batch([c for c in parsed if isinstance(c, Command)])
                results, produced = _attempt(uow, parsed, actors)
                stored, refused = _stored_events(app, produced)
            if dry_run:
                return results
            if not uow.events:  # nothing to record: what it read is what is stored
                uow.cache_saved()
                return results
            # The recorder directly: the events are already collected, in command order, and
            # encoded (once, by `_stored_events`).
            notification_ids = app.recorder.insert_events(stored)
        except (RecordConflictError, RecordedMeanwhile) as exc:
            log.debug("conflict on attempt %d of a batch of %d: %s", attempt, len(parsed), exc)
            time.sleep(random.uniform(0, 0.002 * min(attempt, 20)))
            continue
        if not notification_ids or len(notification_ids) != len(stored):
            raise AssertionError("the recorder returned no position for some events")
        uow.carry_on()
        uow.cache_saved()
        positions = {
            (s.originator_id, s.originator_version): notification_id
            for s, notification_id in zip(stored, notification_ids, strict=True)
        }
        return [
            _with_position(result, events, positions)
            for result, events in zip(results, produced, strict=True)
        ]
    raise RuntimeError(f"gave up after {app.conflict_attempts} concurrent-write conflicts")


def _attempt(
    uow: UnitOfWork, parsed: Sequence[Command | LedgerError], actors: Sequence[str]
) -> tuple[list[Result], list[list[Any]]]:
    """Each command against the state the ones before it left; per command, its result and
    the events it produced."""
    results: list[Result] = []
    produced: list[list[Any]] = []
    for command, actor in zip(parsed, actors, strict=True):
        uow.begin_command()
        before = uow.pending_count()
        try:
            if isinstance(command, LedgerError):
                raise command
            outcome = uow.perform(command, actor)
        except LedgerError as error:
            assert uow.pending_count() == before, "a refused command changed state"
            results.append(error.as_result())
            produced.append([])
        else:
            results.append(outcome)
            produced.append(uow.take_events())
    # A refusal is only as good as the reads behind it: if a command refused by its own
    # rules was recorded by another writer meanwhile, it is a duplicate.
    uow.check_refusals_still_unrecorded()
    return results, produced


def _stored_events(
    app: SupportLedger, produced: Sequence[Sequence[Any]]
) -> tuple[list[Any], dict[int, LedgerError]]:
    """The events as the store will hold them (encoded once, in order), and the commands (by
    index) that would record an event whose log entry is too long."""
    to_stored_event = app.mapper.to_stored_event
    surely_fits = ENTRY_BYTES_LIMIT - _ENTRY_HEAD_BYTES_MAX
    stored: list[Any] = []
    refused: dict[int, LedgerError] = {}
    for i, events in enumerate(produced):
        for event in events:
            stored_event = to_stored_event(event)
            stored.append(stored_event)
            if (
                isinstance(stored_event.originator_id, UUID)
                and len(stored_event.state) + 4 * len(stored_event.topic) < surely_fits
            ):
                continue  # far below the limit (the head is at most 4 bytes a character)
            size = entry_size(2**63 - 1, stored_event.originator_id,
                              stored_event.originator_version, stored_event.topic,
                              stored_event.state)  # fmt: skip
            if size >= ENTRY_BYTES_LIMIT and i not in refused:
                refused[i] = ValidationFailed(
                    variant="entry_too_large", size_bytes=size, limit_bytes=ENTRY_BYTES_LIMIT
                )
    return stored, refused


def _with_position(result: Result, events: Iterable[Any], positions: Mapping[Any, int]) -> Result:
    if not isinstance(result, Outcome) or result.status != RECORDED:
        return result
    position = max(positions[(e.originator_id, e.originator_version)] for e in events)
    return Outcome(result.command_type, result.key, result.status, position)
