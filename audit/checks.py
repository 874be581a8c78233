"""``ledger audit checks``: rules an auditor re-checks over the whole history.

Each check is a pure function from :class:`Facts` (what the events say, gathered once by
:func:`gather`) and :class:`Config` to a list of every :class:`Finding` it makes, never just the
first. They are registered in one place, :data:`CHECKS`, with the ``@check`` decorator;
:func:`run_checks` gathers the facts and runs them all. The ledger's aggregates refuse these
situations when commands arrive, so on an honest ledger every check comes back empty: a finding
means data that bypassed the rules (imports from elsewhere, a bug, a direct database write) or,
for ``payments_pending_too_long``, work that is waiting.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import ledger.domain as domain
from audit.events import as_aware, iter_events
from ledger.domain.events import AGGREGATE_OF

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: Days a disbursement may wait for approval before it is reported (LEDGER_PENDING_DAYS_MAX).
DEFAULT_PENDING_DAYS = 30


@dataclass(frozen=True)
class Finding:
    """One thing a check found: which check, a sentence, and where to look."""

    check: str
    message: str
    position: int | None = None
    references: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["references"] = list(self.references)
        return data


@dataclass
class Disbursement:
    reference: str
    award: str
    amount_fen: int
    voucher_no: str
    recorded_by: str
    recorded_at: datetime
    position: int
    status: str = "pending"
    decided_by: str | None = None
    decided_position: int | None = None


@dataclass
class Award:
    reference: str
    uscc: str
    measure: str
    item: str
    fiscal_year: int
    amount_fen: int
    counts_towards_cap: bool
    position: int
    revoked_fen: int = 0
    revoked_position: int | None = None


@dataclass
class Facts:
    """What the event log says, in the shape the checks need."""

    awards: dict[str, Award] = field(default_factory=dict)
    disbursements: dict[str, Disbursement] = field(default_factory=dict)
    #: (voucher number, what it paid or recovered, position) for every payment and recovery.
    vouchers: list[tuple[str, str, int]] = field(default_factory=list)
    #: (measure, item) → the item's maximum in fen (None: no maximum), as last defined.
    item_max_fen: dict[tuple[str, str], int | None] = field(default_factory=dict)
    #: Disbursements recorded or approved after their award's revocation.
    after_revocation: list[tuple[str, str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Config:
    """Settings of the checks: the annual cap, the pending limit and the present instant."""

    annual_cap_fen: int
    pending_days: int = DEFAULT_PENDING_DAYS
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


Check = Callable[[Facts, Config], list[Finding]]

#: Every check, by name, with a description — the one place checks are registered.
CHECKS: dict[str, tuple[str, Check]] = {}


def check(name: str, description: str) -> Callable[[Check], Check]:
    """Register a check function under a name."""

    def register(function: Check) -> Check:
        CHECKS[name] = (description, function)
        return function

    return register


# -- the checks --------------------------------------------------------------------------------


@check("duplicate_voucher_numbers", "a bank voucher number used by more than one payment")
def duplicate_voucher_numbers(facts: Facts, config: Config) -> list[Finding]:
    uses: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for voucher, what, position in facts.vouchers:
        uses[voucher].append((what, position))
    return [
        Finding(
            "duplicate_voucher_numbers",
            f"voucher {voucher} is used {len(items)} times: {', '.join(w for w, _ in items)}",
            position=items[1][1],
            references=tuple(w for w, _ in items),
        )
        for voucher, items in sorted(uses.items())
        if len(items) > 1
    ]


@check("self_approved_payments", "a payment approved by the officer who recorded it")
def self_approved_payments(facts: Facts, config: Config) -> list[Finding]:
    return [
        Finding(
            "self_approved_payments",
            f"disbursement {d.reference} on award {d.award} was recorded and approved by "
            f"{d.recorded_by}",
            position=d.decided_position,
            references=(d.reference, d.award),
        )
        for d in facts.disbursements.values()
        if d.decided_position is not None
        and d.status in ("approved", "reversed")
        and d.decided_by == d.recorded_by
    ]


@check("payments_after_revocation", "a payment recorded or approved after its award was revoked")
def payments_after_revocation(facts: Facts, config: Config) -> list[Finding]:
    return [
        Finding(
            "payments_after_revocation",
            f"disbursement {reference} was {what} after award {facts.disbursements[reference].award}"
            " was revoked",
            position=position,
            references=(reference, facts.disbursements[reference].award),
        )
        for reference, what, position in facts.after_revocation
    ]


@check("awards_above_item_maximum", "an award above its support item's maximum")
def awards_above_item_maximum(facts: Facts, config: Config) -> list[Finding]:
    out = []
    for award in facts.awards.values():
        max_fen = facts.item_max_fen.get((award.measure, award.item))
        if max_fen is not None and award.amount_fen > max_fen:
            out.append(
                Finding(
                    "awards_above_item_maximum",
                    f"award {award.reference} of {award.amount_fen} fen exceeds the maximum of "
                    f"{award.measure}/{award.item} ({max_fen} fen)",
                    position=award.position,
                    references=(award.reference,),
                )
            )
    return out


@check("enterprises_above_annual_cap", "an enterprise granted more than the annual cap in a year")
def enterprises_above_annual_cap(facts: Facts, config: Config) -> list[Finding]:
    totals: dict[tuple[str, int], int] = defaultdict(int)
    last: dict[tuple[str, int], Award] = {}
    for award in sorted(facts.awards.values(), key=lambda a: a.position):
        if award.counts_towards_cap:
            key = (award.uscc, award.fiscal_year)
            totals[key] += award.amount_fen - award.revoked_fen
            last[key] = award
    return [
        Finding(
            "enterprises_above_annual_cap",
            f"enterprise {uscc} has {total} fen of capped support in {year}, above the annual "
            f"cap of {config.annual_cap_fen} fen",
            position=last[(uscc, year)].position,
            references=(uscc,),
        )
        for (uscc, year), total in sorted(totals.items())
        if total > config.annual_cap_fen
    ]


@check("payments_pending_too_long", "a payment waiting for approval longer than the limit")
def payments_pending_too_long(facts: Facts, config: Config) -> list[Finding]:
    limit = timedelta(days=config.pending_days)
    return [
        Finding(
            "payments_pending_too_long",
            f"disbursement {d.reference} on award {d.award} has waited "
            f"{(config.now - d.recorded_at).days} days for approval (limit {config.pending_days})",
            position=d.position,
            references=(d.reference, d.award),
        )
        for d in facts.disbursements.values()
        if d.status == "pending" and config.now - d.recorded_at > limit
    ]


# -- gathering the facts -----------------------------------------------------------------------


def gather(events: Any) -> Facts:
    """Facts from ``(position, event)`` pairs in log order (pure: no database, no clock)."""
    facts = Facts()
    award_by_id: dict[Any, Award] = {}
    measure_by_id: dict[Any, str] = {}
    for position, e in events:
        match e:
            case domain.Measure.Defined():
                measure_by_id[e.originator_id] = e.code
                items = list(e.items.values() if isinstance(e.items, dict) else e.items)
                for item in items:
                    facts.item_max_fen[(e.code, item["code"])] = item.get("max_fen")
            case domain.Measure.ItemAdded():
                measure = measure_by_id[e.originator_id]
                facts.item_max_fen[(measure, e.item["code"])] = e.item.get("max_fen")
            case domain.Award.Granted():
                award = Award(e.reference, e.uscc, e.measure, e.item, int(e.fiscal_year),
                              e.amount_fen, bool(e.counts_towards_cap), position)  # fmt: skip
                facts.awards[e.reference] = award_by_id[e.originator_id] = award
            case _ if AGGREGATE_OF.get(type(e)) is domain.Award:
                _apply_award_event(facts, award_by_id[e.originator_id], e, position)
    return facts


def _apply_award_event(facts: Facts, award: Award, e: Any, position: int) -> None:
    revoked = award.revoked_position is not None
    match e:
        case domain.Award.DisbursementRecorded():
            facts.disbursements[e.reference] = Disbursement(
                e.reference, award.reference, e.amount_fen, e.voucher_no, e.actor, e.timestamp,
                position,
            )  # fmt: skip
            facts.vouchers.append((e.voucher_no, f"disbursement {e.reference}", position))
            if revoked:
                facts.after_revocation.append((e.reference, "recorded", position))
        case domain.Award.DisbursementApproved() | domain.Award.DisbursementRejected():
            d = facts.disbursements[e.reference]
            d.status = "approved" if isinstance(e, domain.Award.DisbursementApproved) else "rejected"
            d.decided_by, d.decided_position = e.actor, position
            if revoked and d.status == "approved":
                facts.after_revocation.append((e.reference, "approved", position))
        case domain.Award.DisbursementReversed():
            facts.disbursements[e.reference].status = "reversed"
        case domain.Award.Revoked():
            award.revoked_fen, award.revoked_position = e.revoked_fen, position
        case domain.Award.ClawbackRecovered():
            facts.vouchers.append((e.voucher_no, f"recovery {e.reference}", position))


def run_checks(
    app: SupportLedger,
    *,
    now: datetime | str | None = None,
    pending_days: int | None = None,
    names: list[str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Run every registered check (or those named) over the whole log.

    Returns ``{check name: [finding dicts]}`` with an entry, possibly empty, for each check run.
    """
    if pending_days is None:
        pending_days = int(os.environ.get("LEDGER_PENDING_DAYS_MAX", DEFAULT_PENDING_DAYS))
    config = Config(
        annual_cap_fen=app.catalogue.annual_cap_fen,
        pending_days=pending_days,
        now=as_aware(now) if now is not None else datetime.now(UTC),
    )
    facts = gather(iter_events(app))
    selected = names or list(CHECKS)
    unknown = sorted(set(selected) - set(CHECKS))
    if unknown:
        raise ValueError(f"no such check: {', '.join(unknown)}")
    return {name: [f.to_dict() for f in CHECKS[name][1](facts, config)] for name in selected}
