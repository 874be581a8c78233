"""The rows a batch of events will need, read from the views in a few statements before it is
applied (`projections.row_cache`): one statement per table and column for the whole batch,
instead of one per award or payment the cache no longer holds.

What each event needs mirrors its handler in `projections.state` and its trail row in
`projections.trail`. This is only a reading ahead: a row it forgets to ask for is read alone
when the handler asks for it (`RowCache.single_reads` counts those), so it can make a batch
slower but never wrong.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ledger.domain import Award, Budget, CommandReceipt, Enterprise, Financing, PatentTransfer
from ledger.domain.events import AGGREGATE_OF
from projections import tables as t
from projections.row_cache import ID_COLUMNS, RowCache

#: The table each aggregate's events change, found by the aggregate's id.
_TABLE_OF = {
    Award: t.AWARDS,
    Budget: t.MEASURE_BALANCES,
    Enterprise: t.ENTERPRISES,
    PatentTransfer: t.TRANSFERS,
    Financing: t.FINANCINGS,
}
#: Events that name their own row by its reference (they create it).
_CREATES = {Award.Granted: t.AWARDS, PatentTransfer.Recorded: t.TRANSFERS,
            Financing.Registered: t.FINANCINGS}  # fmt: skip
_PAYMENT_EVENTS = frozenset((
    Award.DisbursementRecorded, Award.DisbursementApproved, Award.DisbursementRejected,
    Award.DisbursementReversed,
))  # fmt: skip
_DECISIONS = frozenset(("approve_disbursement", "reject_disbursement", "reverse_disbursement"))

Wanted = dict[tuple[str, str], set[Any]]


def prefetch(cache: RowCache, events: Sequence[Any]) -> None:
    """Read the rows these events will change or name, in two rounds: first what the events
    name themselves, then the balance rows and awards that the rows found name."""
    if cache.source is None:
        return
    wanted: Wanted = defaultdict(set)
    award_ids: list[str] = []
    decided: list[Any] = []
    for e in events:
        aggregate = AGGREGATE_OF.get(type(e))
        if aggregate is CommandReceipt:
            _receipt(wanted, e, decided)
            continue
        table = _TABLE_OF.get(aggregate)  # type: ignore[arg-type]
        if table is None:
            continue
        oid = str(e.originator_id)
        wanted[(table.name, ID_COLUMNS[table.name])].add(oid)
        g = e.__dict__.get
        created = _CREATES.get(type(e))
        if created is not None:
            wanted[(created.name, "reference")].add(g("reference"))
        if aggregate is Award:
            award_ids.append(oid)
            if type(e) is Award.Granted:
                _balances(cache, wanted, g("uscc"), g("measure"), g("fiscal_year"))
            elif type(e) in _PAYMENT_EVENTS:
                wanted[(t.DISBURSEMENTS.name, "reference")].add(g("reference"))
        elif type(e) is Budget.Opened and (g("measure"), g("fiscal_year")) not in cache.rows[
            t.MEASURE_BALANCES.name
        ]:
            wanted[(t.MEASURE_BALANCES.name, "measure")].add(g("measure"))
        elif type(e) is Enterprise.Registered:
            wanted[(t.ENTERPRISES.name, "uscc")].add(g("uscc"))
    _read(cache, wanted)
    # The second round: what the rows just read name.
    wanted = defaultdict(set)
    for reference in decided:
        payment = cache.rows[t.DISBURSEMENTS.name].get((reference,))
        if payment is not None:
            wanted[(t.AWARDS.name, "reference")].add(payment["award_reference"])
    _read(cache, wanted)
    wanted = defaultdict(set)
    awards = cache.rows[t.AWARDS.name]
    for oid in award_ids:
        key = cache.ids[t.AWARDS.name].get(oid)
        award = awards.get(key) if key is not None else None
        if award is not None:
            _balances(cache, wanted, award["uscc"], award["measure"], award["fiscal_year"])
    _read(cache, wanted)


def _balances(cache: RowCache, wanted: Wanted, uscc: Any, measure: Any, year: Any) -> None:
    """An award's enterprise × year and measure × year rows, unless they are held (they are
    read by enterprise and by measure, every year at once)."""
    if (uscc, year) not in cache.rows[t.ENTERPRISE_BALANCES.name]:
        wanted[(t.ENTERPRISE_BALANCES.name, "uscc")].add(uscc)
    if (measure, year) not in cache.rows[t.MEASURE_BALANCES.name]:
        wanted[(t.MEASURE_BALANCES.name, "measure")].add(measure)


def _receipt(wanted: Wanted, e: Any, decided: list[Any]) -> None:
    """What a command receipt's trail row looks up (`trail.receipt_trail_row`)."""
    g = e.__dict__.get
    content = g("content") or {}
    if g("command_type") in _DECISIONS:
        reference = content.get("reference")
        wanted[(t.DISBURSEMENTS.name, "reference")].add(reference)
        decided.append(reference)
    elif content.get("award_reference") is not None and content.get("uscc") is None:
        wanted[(t.AWARDS.name, "reference")].add(content["award_reference"])


def _read(cache: RowCache, wanted: Wanted) -> None:
    by_name = {table.name: table for table in t.STATE_TABLES}
    for (name, column), values in wanted.items():
        cache.fetch(by_name[name], column, values)
