"""SupportLedger: the write side. One method per command; many commands per transaction.

Every command runs in a unit of work: it loads what it names, checks every rule in the order
DESIGN §4 gives, and only then triggers events. The events of a command (or of a batch of
commands) are saved in one atomic `save(...)`, together with the command's receipt, so either
all of them land or none do. A concurrent writer that saved first makes `save` fail with a
conflict; the work is then reloaded and redone, which is why retries are harmless.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Transcoding

from ledger.catalogue import Catalogue, load_catalogue
from ledger.commands import Command, parse_command
from ledger.container import Extensions
from ledger.domain import (
    Award,
    Budget,
    CommandReceipt,
    Enterprise,
    Financing,
    Measure,
    PatentTransfer,
    User,
)
from ledger.errors import (
    AboveItemMaximum,
    Forbidden,
    LedgerError,
    NoBudget,
    ReferenceConflict,
    UnknownActor,
    UnknownAward,
    UnknownDisbursement,
    UnknownEnterprise,
    UnknownFinancing,
    UnknownMeasure,
    UnknownTransfer,
)
from ledger.users import DEFAULT_TOKEN_DAYS, SYSTEM_ACTOR, Users

if TYPE_CHECKING:
    from ledger.storage import Store

#: The store's query for the stored events of many aggregates: (recorder, ids) → {id: events}.
EventsLoader = Callable[[Any, list[UUID]], dict[UUID, list[Any]]]

log = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)

RECORDED = "recorded"
DUPLICATE = "duplicate"


class DateAsISO(Transcoding):
    """Business dates (`paid_on`, `granted_on`, …) stored as ISO `YYYY-MM-DD` text."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


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

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate with this id as this unit of work sees it, or None."""
        if aggregate_id not in self.loaded:
            try:
                self.loaded[aggregate_id] = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                self.loaded[aggregate_id] = None
        aggregate = self.loaded[aggregate_id]
        assert aggregate is None or isinstance(aggregate, cls), (aggregate_id, cls)
        if aggregate is not None:
            self.touched[aggregate_id] = aggregate
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
        for aggregate_id in wanted:
            aggregate = None
            for stored_event in stored.get(aggregate_id, ()):
                aggregate = to_domain_event(stored_event).mutate(aggregate)
            self.loaded[aggregate_id] = aggregate

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


Handler = Callable[["SupportLedger", UnitOfWork, Command, str], None]
_HANDLERS: dict[str, Handler] = {}


def handles(command_type: str) -> Callable[[Handler], Handler]:
    def register(method: Handler) -> Handler:
        _HANDLERS[command_type] = method
        return method

    return register


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
    ) -> None:
        """`store`: where the events are (given by `ledger.storage.open_ledger`, which
        composes the application); `load_events_many(recorder, ids)`: the store's query for
        the stored events of many aggregates at once (without it, one query per aggregate)."""
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
        self.select_events_many: Callable[[list[UUID]], dict[UUID, list[Any]]] | None = (
            None if load_events_many is None else partial(load_events_many, self.recorder)
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

    def execute(self, command: Mapping[str, Any], actor: str) -> Outcome:
        """Perform one command as `actor`; raise the `LedgerError` of its first broken rule."""
        (result,) = self.execute_many([(command, actor)])
        if isinstance(result, LedgerError):
            raise result
        return result

    def execute_many(
        self,
        commands: Sequence[tuple[Mapping[str, Any], str]],
        *,
        dry_run: bool = False,
    ) -> list[Outcome | LedgerError]:
        """Perform many commands, each independently, and save the accepted ones together.

        Each command is checked against the state the commands before it left, so a batch
        records what the same commands sent one by one would. Returns, per command, its
        `Outcome` or the `LedgerError` that refused it. With `dry_run`, nothing is saved.
        """
        parsed: list[Command | LedgerError] = []
        for data, _actor in commands:
            try:
                parsed.append(parse_command(data))
            except LedgerError as error:
                parsed.append(error)
        for attempt in range(1, self.conflict_attempts + 1):
            uow = UnitOfWork(self)
            self._preload(uow, parsed)
            results: list[Outcome | LedgerError] = []
            produced: list[list[Any]] = []
            try:
                for command, (_data, actor) in zip(parsed, commands, strict=True):
                    uow.begin_command()
                    before = uow.pending_count()
                    try:
                        if isinstance(command, LedgerError):
                            raise command
                        outcome = self._perform(uow, command, actor)
                    except LedgerError as error:
                        assert uow.pending_count() == before, "a refused command changed state"
                        results.append(error)
                        produced.append([])
                    else:
                        results.append(outcome)
                        produced.append(uow.take_events())
                # A refusal is only as good as the reads behind it: if a command refused by its
                # own rules was recorded by another writer meanwhile, it is a duplicate.
                self._check_refusals_still_unrecorded(uow)
                if dry_run or not uow.events:
                    return results
                # The event store directly: the events are already collected, in command order.
                recordings = self.events.put(uow.events)
            except (RecordConflictError, _RecordedMeanwhile) as exc:
                log.debug("conflict on attempt %d of a batch of %d: %s", attempt, len(commands), exc)
                time.sleep(random.uniform(0, 0.002 * min(attempt, 20)))
                continue
            positions = {
                (r.domain_event.originator_id, r.domain_event.originator_version):
                r.notification.id
                for r in recordings
            }  # fmt: skip
            return [
                _with_position(result, events, positions)
                for result, events in zip(results, produced, strict=True)
            ]
        raise RuntimeError(f"gave up after {self.conflict_attempts} concurrent-write conflicts")

    def _preload(self, uow: UnitOfWork, parsed: Sequence[Command | LedgerError]) -> None:
        """Load what a batch's commands name in two queries, instead of one query each.

        First the commands' receipts and the enterprises, awards, transfers and financings
        they name; then the awards that the named disbursements and clawbacks belong to.
        Budgets, measures and users are few and hot: they come through the repository's cache.
        """
        if self.select_events_many is None or len(parsed) < 2:
            return
        commands = [c for c in parsed if isinstance(c, Command)]
        first: list[UUID] = []
        for command in commands:
            first.append(CommandReceipt.create_id(command.type, command.key))
            first.extend(_named_ids(command))
        uow.preload(first)
        second = []
        for command in commands:
            parent = _PARENT_RECEIPT.get(command.type)
            if parent is not None:
                receipt = uow.loaded.get(CommandReceipt.create_id(parent[0], command[parent[1]]))
                if receipt is not None:
                    second.append(Award.create_id(receipt.content["award_reference"]))
        uow.preload(second)

    def _perform(self, uow: UnitOfWork, command: Command, actor: str) -> Outcome:
        """Check the actor, the idempotency key, then the command's own rules; then record."""
        self._check_actor(uow, actor, command.role)
        receipt_id = CommandReceipt.create_id(command.type, command.key)
        receipt = uow.get(CommandReceipt, receipt_id)
        if receipt is not None:
            if receipt.content_sha256 != command.content_sha256():
                raise ReferenceConflict(
                    f"{command.type} {command.key!r} was already recorded with other content",
                    message_zh=f"{command.type} 编号 {command.key!r} 已用于内容不同的命令",
                    key=command.key,
                )
            return Outcome(command.type, command.key, DUPLICATE)
        try:
            _HANDLERS[command.type](self, uow, command, actor)
        except LedgerError:
            # Refused by its own rules, on aggregates read after the receipt looked absent:
            # checked again (with every other such refusal, in one query) before it stands.
            uow.refused_receipt_ids.append(receipt_id)
            raise
        except Exception as exc:
            # A handler's own assertion (say, a payment already on the award) can only fail when
            # another writer recorded this very command between the reads: then it is retried.
            if self._recorded_receipt_ids([receipt_id]):
                raise _RecordedMeanwhile(f"{command.type} {command.key!r} recorded meanwhile") from exc
            raise
        uow.add(
            CommandReceipt(
                command_type=command.type,
                key=command.key,
                content=command.content(),
                content_sha256=command.content_sha256(),
                actor=actor,
            )
        )
        return Outcome(command.type, command.key, RECORDED)

    def _check_refusals_still_unrecorded(self, uow: UnitOfWork) -> None:
        """Raise `_RecordedMeanwhile` if a command its rules refused now has a receipt."""
        recorded = self._recorded_receipt_ids(uow.refused_receipt_ids)
        if recorded:
            raise _RecordedMeanwhile(f"{len(recorded)} refused command(s) recorded meanwhile")

    def _recorded_receipt_ids(self, receipt_ids: Sequence[UUID]) -> list[UUID]:
        """Those of these receipts the store holds now (read afresh, past every cache)."""
        if not receipt_ids:
            return []
        if self.select_events_many is not None:
            stored = self.select_events_many(list(dict.fromkeys(receipt_ids)))
            return [i for i in receipt_ids if stored.get(i)]
        return [i for i in receipt_ids if self.recorder.select_events(i, limit=1)]

    def _check_actor(self, uow: UnitOfWork, actor: str, role: str) -> None:
        user = uow.get(User, User.create_id(actor)) if actor else None
        if user is None:
            raise UnknownActor(
                f"no user is called {actor!r}; pick one with --as or LEDGER_ACTOR",
                message_zh=f"没有名为 {actor!r} 的用户",
            )
        if not user.has_role(role):
            raise Forbidden(
                f"{actor} does not hold the role {role} this command needs",
                message_zh=f"{actor} 没有此命令所需的 {role} 角色",
                role=role,
            )

    # -- lookups that raise the ledger's own errors ------------------------------------------

    @staticmethod
    def _enterprise(uow: UnitOfWork, uscc: str) -> Enterprise:
        enterprise = uow.get(Enterprise, Enterprise.create_id(uscc))
        if enterprise is None:
            raise UnknownEnterprise(
                f"no enterprise is registered with credit code {uscc}",
                message_zh=f"未登记统一社会信用代码为 {uscc} 的企业",
            )
        return enterprise

    @staticmethod
    def _measure(uow: UnitOfWork, code: str) -> Measure:
        measure = uow.get(Measure, Measure.create_id(code))
        if measure is None:
            raise UnknownMeasure(
                f"measure {code} is not defined; run `ledger init`",
                message_zh=f"措施 {code} 尚未定义",
            )
        return measure

    @staticmethod
    def _award(uow: UnitOfWork, reference: str) -> Award:
        award = uow.get(Award, Award.create_id(reference))
        if award is None:
            raise UnknownAward(f"no award has reference {reference!r}", message_zh=f"没有编号为 {reference!r} 的奖补")
        return award

    @staticmethod
    def _receipt_content(uow: UnitOfWork, command_type: str, key: str) -> dict[str, Any] | None:
        receipt = uow.get(CommandReceipt, CommandReceipt.create_id(command_type, key))
        return None if receipt is None else receipt.content

    def _disbursement_award(self, uow: UnitOfWork, reference: str) -> Award:
        content = self._receipt_content(uow, "record_disbursement", reference)
        if content is None:
            raise UnknownDisbursement(
                f"no disbursement has reference {reference!r}",
                message_zh=f"没有编号为 {reference!r} 的拨付",
            )
        return self._award(uow, content["award_reference"])

    @staticmethod
    def _transfer(uow: UnitOfWork, reference: str) -> PatentTransfer:
        transfer = uow.get(PatentTransfer, PatentTransfer.create_id(reference))
        if transfer is None:
            raise UnknownTransfer(
                f"no patent transfer has reference {reference!r}",
                message_zh=f"没有编号为 {reference!r} 的专利转化",
            )
        return transfer

    @staticmethod
    def _financing(uow: UnitOfWork, reference: str) -> Financing:
        financing = uow.get(Financing, Financing.create_id(reference))
        if financing is None:
            raise UnknownFinancing(
                f"no financing has reference {reference!r}",
                message_zh=f"没有编号为 {reference!r} 的融资",
            )
        return financing

    # -- handlers: check everything, then record ---------------------------------------------

    @handles("register_enterprise")
    def register_enterprise(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        uow.add(Enterprise(**cmd.fields, actor=actor))

    @handles("update_enterprise")
    def update_enterprise(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        enterprise = self._enterprise(uow, cmd["uscc"])
        enterprise.update(
            reference=cmd["reference"],
            name=cmd["name"],
            town_code=cmd["town_code"],
            industry=cmd["industry"],
            actor=actor,
        )

    @handles("appropriate_budget")
    def appropriate_budget(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        self._measure(uow, cmd["measure"])
        budget_id = Budget.create_id(cmd["measure"], cmd["fiscal_year"])
        budget = uow.get(Budget, budget_id)
        if budget is None:
            budget = Budget(measure=cmd["measure"], fiscal_year=cmd["fiscal_year"], actor=actor)
            uow.add(budget)
        budget.appropriate(cmd["reference"], cmd["amount_fen"], cmd["decision_ref"], actor=actor)

    def _budget(self, uow: UnitOfWork, measure: str, fiscal_year: int) -> Budget:
        self._measure(uow, measure)
        budget = uow.get(Budget, Budget.create_id(measure, fiscal_year))
        if budget is None:
            raise NoBudget(
                f"nothing was appropriated for {measure} in {fiscal_year}",
                message_zh=f"{measure} 措施 {fiscal_year} 年度尚无预算",
            )
        return budget

    @handles("adjust_budget")
    def adjust_budget(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        budget = self._budget(uow, cmd["measure"], cmd["fiscal_year"])
        budget.adjust(
            cmd["reference"], cmd["delta_fen"], cmd["decision_ref"], cmd["reason"], actor=actor
        )

    @handles("grant_award")
    def grant_award(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        enterprise = self._enterprise(uow, cmd["uscc"])
        item = self._measure(uow, cmd["measure"]).item(cmd["item"])
        if cmd["financing_reference"] is not None:
            self._financing(uow, cmd["financing_reference"])
        budget = self._budget(uow, cmd["measure"], cmd["fiscal_year"])
        amount_fen = cmd["amount_fen"]
        if item["max_fen"] is not None and amount_fen > item["max_fen"]:
            raise AboveItemMaximum(
                f"{amount_fen} fen is above the maximum of {cmd['measure']}/{cmd['item']} "
                f"({item['max_fen']} fen)",
                message_zh=f"金额 {amount_fen} 分超过 {cmd['measure']}/{cmd['item']} 最高额 {item['max_fen']} 分",
                max_fen=item["max_fen"],
            )
        counts = bool(item["counts_towards_cap"])
        cap_fen = self.catalogue.annual_cap_fen
        if counts:
            enterprise.check_cap(cmd["fiscal_year"], amount_fen, cap_fen)
        budget.check_commit(amount_fen)
        # Every rule holds: record.
        uow.add(Award(**cmd.fields, counts_towards_cap=counts, actor=actor))
        if counts:
            enterprise.commit_support(
                cmd["reference"], cmd["fiscal_year"], amount_fen, cap_fen, actor=actor
            )
        budget.commit(cmd["reference"], amount_fen, actor=actor)

    @handles("record_disbursement")
    def record_disbursement(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        award = self._award(uow, cmd["award_reference"])
        award.record_disbursement(
            cmd["reference"], cmd["amount_fen"], cmd["voucher_no"], cmd["paid_on"], actor=actor
        )

    @handles("approve_disbursement")
    def approve_disbursement(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        award = self._disbursement_award(uow, cmd["reference"])
        award.approve_disbursement(cmd["reference"], actor=actor)

    @handles("reject_disbursement")
    def reject_disbursement(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        award = self._disbursement_award(uow, cmd["reference"])
        award.reject_disbursement(cmd["reference"], cmd["reason"], actor=actor)

    @handles("reverse_disbursement")
    def reverse_disbursement(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        award = self._disbursement_award(uow, cmd["reference"])
        award.reverse_disbursement(cmd["reference"], cmd["reason"], actor=actor)

    @handles("revoke_award")
    def revoke_award(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        award = self._award(uow, cmd["award_reference"])
        award.check_revocation()
        budget = self._budget(uow, award.measure, award.fiscal_year)
        enterprise = self._enterprise(uow, award.uscc)
        released_fen = award.revoke(cmd["decision_ref"], cmd["reason"], actor=actor)
        if released_fen:
            budget.release(award.reference, released_fen, actor=actor)
            if award.counts_towards_cap:
                enterprise.release_support(
                    award.reference, award.fiscal_year, released_fen, actor=actor
                )

    @handles("order_clawback")
    def order_clawback(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        award = self._award(uow, cmd["award_reference"])
        award.order_clawback(
            cmd["reference"], cmd["amount_fen"], cmd["decision_ref"], cmd["reason"], actor=actor
        )

    @handles("record_clawback_recovery")
    def record_clawback_recovery(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        content = self._receipt_content(uow, "order_clawback", cmd["clawback_reference"])
        if content is None:
            raise UnknownAward(
                f"no clawback has reference {cmd['clawback_reference']!r}",
                message_zh=f"没有编号为 {cmd['clawback_reference']!r} 的追回令",
                field="clawback_reference",
            )
        award = self._award(uow, content["award_reference"])
        award.record_recovery(
            cmd["reference"],
            cmd["clawback_reference"],
            cmd["amount_fen"],
            cmd["voucher_no"],
            cmd["recovered_on"],
            actor=actor,
        )

    @handles("record_patent_transfer")
    def record_patent_transfer(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        self._enterprise(uow, cmd["uscc"])
        uow.add(PatentTransfer(**cmd.fields, actor=actor))

    @handles("record_transfer_outcome")
    def record_transfer_outcome(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        transfer = self._transfer(uow, cmd["reference"])
        transfer.record_outcome(cmd["outcome"], cmd["on"], cmd["amount_fen"], actor=actor)

    @handles("register_financing")
    def register_financing(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        self._enterprise(uow, cmd["uscc"])
        uow.add(Financing(**cmd.fields, actor=actor))

    @handles("record_financing_event")
    def record_financing_event(self, uow: UnitOfWork, cmd: Command, actor: str) -> None:
        financing = self._financing(uow, cmd["reference"])
        financing.record_event(cmd["event"], cmd["on"], cmd["amount_fen"], actor=actor)

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


class _RecordedMeanwhile(Exception):
    """A command decided on reads that another writer's recording of it overtook: redo the batch."""


#: For commands that name a disbursement or clawback: (the command type that made it, the field).
_PARENT_RECEIPT = {
    "approve_disbursement": ("record_disbursement", "reference"),
    "reject_disbursement": ("record_disbursement", "reference"),
    "reverse_disbursement": ("record_disbursement", "reference"),
    "record_clawback_recovery": ("order_clawback", "clawback_reference"),
}


def _named_ids(command: Command) -> list[UUID]:
    """The ids of the enterprises, awards, transfers and financings a command names."""
    fields = command.fields
    ids = []
    if "uscc" in fields:
        ids.append(Enterprise.create_id(fields["uscc"]))
    if "award_reference" in fields:
        ids.append(Award.create_id(fields["award_reference"]))
    if fields.get("financing_reference"):
        ids.append(Financing.create_id(fields["financing_reference"]))
    if command.type == "record_transfer_outcome":
        ids.append(PatentTransfer.create_id(fields["reference"]))
    if command.type == "record_financing_event":
        ids.append(Financing.create_id(fields["reference"]))
    return ids


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


def topic_of(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _with_position(
    result: Outcome | LedgerError, events: Iterable[Any], positions: Mapping[Any, int]
) -> Outcome | LedgerError:
    if not isinstance(result, Outcome) or result.status != RECORDED:
        return result
    position = max(positions[(e.originator_id, e.originator_version)] for e in events)
    return Outcome(result.command_type, result.key, result.status, position)
