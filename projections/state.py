"""The views' state in memory, and how each kind of event changes it.

The runner is the only writer of the view tables. It holds some of their state rows
(`projections.row_cache`: at most so many per table, a batch's others read ahead from the
views), applies a batch of events to them here, and writes back only the rows the batch
changed, together with the trail rows and the new position, in one transaction. If that
transaction fails or finds that someone else moved the position, the runner throws this state
away and starts again from what the views hold.

Balances keep money as the ledger's own events state it: paid = approved − reversed;
pending = recorded − approved − rejected; revoked is the unpaid part a revocation released.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import date
from typing import Any

from ledger.domain import Award, Budget, CommandReceipt, Enterprise, Financing, PatentTransfer
from ledger.domain.events import dispatcher
from projections import tables as t
from projections.row_cache import RowCache, RowSource
from projections.trail import receipt_trail_row, recorded_us, trail_row

Row = dict[str, Any]
Key = tuple[Any, ...]

#: The award amounts each balance row (enterprise × year, measure × year) adds up.
AWARD_SUMS = (
    "granted_fen",
    "revoked_fen",
    "pending_fen",
    "approved_fen",
    "reversed_fen",
    "clawback_ordered_fen",
    "clawback_recovered_fen",
)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class ViewState:
    """The state rows of every view, by table and key, and which of them changed.

    With a `source` (the view tables) it holds at most `capacity` rows per table and reads the
    others back when a batch needs them (`projections.row_cache`); without one it holds the
    `rows` it is given, which are then all there are.
    """

    def __init__(
        self,
        rows: dict[str, list[Row]] | None = None,
        *,
        source: RowSource | None = None,
        capacity: int | None = None,
        empty: bool = False,
    ) -> None:
        self.cache = RowCache(source, capacity, empty=empty)
        self.rows: dict[str, dict[Key, Row]] = self.cache.rows
        self.dirty: dict[str, set[Key]] = {table.name: set() for table in t.STATE_TABLES}
        for table in t.STATE_TABLES:
            for row in (rows or {}).get(table.name, []):
                self.cache.remember(table, dict(row))

    # -- rows ---------------------------------------------------------------------------------

    def get(self, table: t.Table, key: Key | None) -> Row | None:
        """The row with this key, or None if there is none (nothing is marked as changed)."""
        return None if key is None else self.cache.lookup(table, key)

    def row(self, table: t.Table, key: Key) -> Row:
        """The row with this key, created empty if there is none; marked as changed."""
        name = table.name
        rows = self.rows[name]
        row = rows.get(key)
        if row is None:
            row = self.cache.lookup(table, key)
            if row is None:
                row = rows[key] = {**_EMPTY[name], **dict(zip(table.key, key, strict=True))}
        else:
            self.cache.touch(table, key)
        self.dirty[name].add(key)
        return row

    def key_of(self, table: t.Table, oid: str) -> Key:
        """The key of the row the entity with this id has (KeyError if it has none)."""
        key = self.cache.key_by_id(table, oid)
        if key is None:
            raise KeyError(oid)
        return key

    def take_changed(self) -> dict[t.Table, list[tuple[Any, ...]]]:
        """The changed rows of each table as tuples in column order (a snapshot, safe to hand
        to another thread), and forget that they changed (the cache holds them until the
        runner says they are committed)."""
        out = {}
        for table in t.STATE_TABLES:
            keys = self.dirty[table.name]
            if keys:
                rows = self.rows[table.name]
                values = _VALUES[table.name]  # the row's values in column order, in C
                out[table] = [values(rows[key]) for key in keys]
        self.cache.changed(self.dirty)
        self.dirty = {table.name: set() for table in t.STATE_TABLES}
        return out

    def award(self, oid: str) -> Row:
        """The award row an award event belongs to (by its originator id), marked as changed."""
        return self.row(t.AWARDS, self.key_of(t.AWARDS, oid))

    def _add_to_balances(self, award: Row, column: str, amount_fen: int) -> None:
        """Add an amount to an award and to its enterprise × year and measure × year rows."""
        award[column] += amount_fen
        year = award["fiscal_year"]
        self.row(t.ENTERPRISE_BALANCES, (award["uscc"], year))[column] += amount_fen
        self.row(t.MEASURE_BALANCES, (award["measure"], year))[column] += amount_fen

    def _move_in_balances(self, award: Row, source: str, target: str, amount_fen: int) -> None:
        """Move an amount from one column to another in an award and its balance rows."""
        year = award["fiscal_year"]
        for row in (
            award,
            self.row(t.ENTERPRISE_BALANCES, (award["uscc"], year)),
            self.row(t.MEASURE_BALANCES, (award["measure"], year)),
        ):
            row[source] -= amount_fen
            row[target] += amount_fen

    # -- applying events ----------------------------------------------------------------------

    def apply(self, event: Any, position: int) -> tuple[Any, ...]:
        """Apply one event to the state and return its trail row (a tuple in column order)."""
        event_class = type(event)
        handler = _HANDLERS.get(event_class)
        if handler is None:
            if event_class is _RECEIPT:  # the commonest event: nothing but a trail row
                return receipt_trail_row(self, event, position)
            return trail_row(self, event, position, str(event.originator_id))
        oid = str(event.originator_id)
        handler(self, event, oid)
        return trail_row(self, event, position, oid)


#: Per table: its values in column order as a tuple (C speed), and an empty row.
_VALUES = {table.name: operator.itemgetter(*table.column_names) for table in t.STATE_TABLES}
_EMPTY = {table.name: table.empty_row((None,) * len(table.key)) for table in t.STATE_TABLES}

Handler = Callable[[ViewState, Any, str], None]
#: Event class → how it changes the state (events not listed only add a trail row).
_HANDLERS: dict[type, Handler] = {}
_on = dispatcher(_HANDLERS)
_RECEIPT = CommandReceipt.Accepted


# -- awards ------------------------------------------------------------------------------------


@_on(Award.Granted)
def _granted(state: ViewState, e: Any, oid: str) -> None:
    award = state.row(t.AWARDS, (e.reference,))
    award.update(
        award_id=oid,
        uscc=e.uscc,
        measure=e.measure,
        item=e.item,
        fiscal_year=e.fiscal_year,
        decision_ref=e.decision_ref,
        granted_on=_iso(e.granted_on),
        financing_reference=e.financing_reference,
    )
    state.cache.set_id(t.AWARDS, oid, (e.reference,))
    state._add_to_balances(award, "granted_fen", e.amount_fen)
    state.row(t.ENTERPRISE_BALANCES, (e.uscc, e.fiscal_year))["awards"] += 1
    state.row(t.MEASURE_BALANCES, (e.measure, e.fiscal_year))["awards"] += 1


@_on(Award.DisbursementRecorded)
def _disbursement_recorded(state: ViewState, e: Any, oid: str) -> None:
    award = state.award(oid)
    state.row(t.DISBURSEMENTS, (e.reference,)).update(
        award_reference=award["reference"],
        amount_fen=e.amount_fen,
        paid_on=_iso(e.paid_on),
        voucher_no=e.voucher_no,
        status="pending",
        recorded_by=e.actor,
        recorded_at=recorded_us(e.timestamp),
    )
    state._add_to_balances(award, "pending_fen", e.amount_fen)


def _decide(state: ViewState, e: Any, oid: str, status: str) -> tuple[Row, Row]:
    award = state.award(oid)
    disbursement = state.row(t.DISBURSEMENTS, (e.reference,))
    disbursement.update(status=status, decided_by=e.actor, decided_at=recorded_us(e.timestamp))
    return award, disbursement


@_on(Award.DisbursementApproved)
def _approved(state: ViewState, e: Any, oid: str) -> None:
    award, disbursement = _decide(state, e, oid, "approved")
    state._move_in_balances(award, "pending_fen", "approved_fen", disbursement["amount_fen"])
    paid_on = disbursement["paid_on"]
    if award["first_paid_on"] is None or paid_on < award["first_paid_on"]:
        award["first_paid_on"] = paid_on


@_on(Award.DisbursementRejected)
def _rejected(state: ViewState, e: Any, oid: str) -> None:
    award, disbursement = _decide(state, e, oid, "rejected")
    amount_fen = disbursement["amount_fen"]
    state._add_to_balances(award, "pending_fen", -amount_fen)
    award["rejected_fen"] += amount_fen


@_on(Award.DisbursementReversed)
def _reversed(state: ViewState, e: Any, oid: str) -> None:
    award, disbursement = _decide(state, e, oid, "reversed")
    state._add_to_balances(award, "reversed_fen", disbursement["amount_fen"])


@_on(Award.Revoked)
def _revoked(state: ViewState, e: Any, oid: str) -> None:
    award = state.award(oid)
    award["is_revoked"] = 1
    state._add_to_balances(award, "revoked_fen", e.revoked_fen)


@_on(Award.ClawbackOrdered)
def _clawback_ordered(state: ViewState, e: Any, oid: str) -> None:
    state._add_to_balances(state.award(oid), "clawback_ordered_fen", e.amount_fen)


@_on(Award.ClawbackRecovered)
def _clawback_recovered(state: ViewState, e: Any, oid: str) -> None:
    state._add_to_balances(state.award(oid), "clawback_recovered_fen", e.amount_fen)


# -- budgets -----------------------------------------------------------------------------------


@_on(Budget.Opened)
def _budget_opened(state: ViewState, e: Any, oid: str) -> None:
    key = (e.measure, e.fiscal_year)
    state.row(t.MEASURE_BALANCES, key)["budget_id"] = oid
    state.cache.set_id(t.MEASURE_BALANCES, oid, key)


def _budget(state: ViewState, e: Any, oid: str) -> Row:
    return state.row(t.MEASURE_BALANCES, state.key_of(t.MEASURE_BALANCES, oid))


@_on(Budget.Appropriated)
def _appropriated(state: ViewState, e: Any, oid: str) -> None:
    _budget(state, e, oid)["appropriated_fen"] += e.amount_fen


@_on(Budget.Adjusted)
def _adjusted(state: ViewState, e: Any, oid: str) -> None:
    _budget(state, e, oid)["adjusted_fen"] += e.delta_fen


@_on(Budget.Committed)
def _committed(state: ViewState, e: Any, oid: str) -> None:
    _budget(state, e, oid)["committed_fen"] += e.amount_fen


@_on(Budget.Released)
def _released(state: ViewState, e: Any, oid: str) -> None:
    _budget(state, e, oid)["released_fen"] += e.amount_fen


# -- enterprises -------------------------------------------------------------------------------


@_on(Enterprise.Registered, Enterprise.Updated)
def _enterprise(state: ViewState, e: Any, oid: str) -> None:
    uscc = getattr(e, "uscc", None) or state.key_of(t.ENTERPRISES, oid)[0]
    state.row(t.ENTERPRISES, (uscc,)).update(
        enterprise_id=oid, name=e.name, town_code=e.town_code, industry=e.industry
    )
    state.cache.set_id(t.ENTERPRISES, oid, (uscc,))


# -- patent transfers --------------------------------------------------------------------------


@_on(PatentTransfer.Recorded)
def _transfer_recorded(state: ViewState, e: Any, oid: str) -> None:
    state.row(t.TRANSFERS, (e.reference,)).update(
        transfer_id=oid,
        uscc=e.uscc,
        patent_no=e.patent_no,
        transferor_kind=e.transferor_kind,
        mode=e.mode,
        contract_value_fen=e.contract_value_fen,
        signed_on=_iso(e.signed_on),
    )
    state.cache.set_id(t.TRANSFERS, oid, (e.reference,))


def _transfer(state: ViewState, e: Any, oid: str) -> Row:
    return state.row(t.TRANSFERS, state.key_of(t.TRANSFERS, oid))


def _first_date(column: str) -> Handler:
    def handler(state: ViewState, e: Any, oid: str) -> None:
        row = _transfer(state, e, oid)
        if row[column] is None:
            row[column] = _iso(e.on)

    return handler


_on(PatentTransfer.RecordalCompleted)(_first_date("recordal_completed_on"))
_on(PatentTransfer.Implemented)(_first_date("implemented_on"))
_on(PatentTransfer.PatentIntensiveProductRecognised)(_first_date("recognised_on"))
_on(PatentTransfer.Terminated)(_first_date("terminated_on"))


@_on(PatentTransfer.RevenueReported)
def _revenue(state: ViewState, e: Any, oid: str) -> None:
    _transfer(state, e, oid)["revenue_fen"] += e.amount_fen


# -- financing ---------------------------------------------------------------------------------


@_on(Financing.Registered)
def _financing_registered(state: ViewState, e: Any, oid: str) -> None:
    state.row(t.FINANCINGS, (e.reference,)).update(
        financing_id=oid,
        uscc=e.uscc,
        instrument=e.instrument,
        lender=e.lender,
        principal_fen=e.principal_fen,
        registered_on=_iso(e.registered_on),
    )
    state.cache.set_id(t.FINANCINGS, oid, (e.reference,))


def _financing(state: ViewState, e: Any, oid: str) -> Row:
    return state.row(t.FINANCINGS, state.key_of(t.FINANCINGS, oid))


@_on(Financing.Drawn)
def _drawn(state: ViewState, e: Any, oid: str) -> None:
    _financing(state, e, oid)["drawn_fen"] += e.amount_fen


@_on(Financing.Repaid)
def _repaid(state: ViewState, e: Any, oid: str) -> None:
    _financing(state, e, oid)["repaid_fen"] += e.amount_fen


@_on(Financing.Defaulted)
def _defaulted(state: ViewState, e: Any, oid: str) -> None:
    row = _financing(state, e, oid)
    if row["defaulted_on"] is None:
        row["defaulted_on"] = _iso(e.on)
