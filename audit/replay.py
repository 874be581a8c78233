"""``ledger audit replay``: balances as the ledger knew them at a past instant or position.

The balances are recomputed here from the Award and Budget events alone, without any projection
code, so that comparing them with the views (:func:`reconcile`) proves something. Definitions
(all amounts integer fen):

* per enterprise × fiscal year (of the award): ``granted_fen``, ``revoked_fen`` (the unpaid part
  released by a revocation), ``pending_fen`` (recorded, not yet decided), ``approved_fen``
  (everything ever approved), ``reversed_fen``, ``paid_fen`` = approved − reversed,
  ``clawback_ordered_fen``, ``clawback_recovered_fen``, ``outstanding_fen`` = granted − revoked −
  paid, and ``awards`` (how many);
* per measure × fiscal year: the budget's ``appropriated_fen``, ``adjusted_fen``,
  ``committed_fen``, ``released_fen``, ``remaining_fen`` = appropriated + adjusted − (committed −
  released), and the same award sums as above.

``as_of`` selects the events recorded at or before an instant (their ``timestamp``, UTC);
``position`` the events at or before a log position. Both give the state known then.

A replay starts from the newest signed snapshot of this state that is usable for its target and
checks out against the log (:mod:`audit.replay_snapshots`), else from the start of the log;
the result is the same either way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from itertools import repeat
from typing import TYPE_CHECKING, Any

from audit.events import as_aware
from audit.replay_snapshots import base_for, money_fields, ranges_after
from ledger.domain import Award, Budget
from ledger.domain.events import topic_of

if TYPE_CHECKING:
    from ledger.application import SupportLedger

AWARD_SUMS = (
    "granted_fen", "revoked_fen", "pending_fen", "approved_fen", "reversed_fen",
    "clawback_ordered_fen", "clawback_recovered_fen", "awards",
)  # fmt: skip
BUDGET_SUMS = ("appropriated_fen", "adjusted_fen", "committed_fen", "released_fen")


class _Books:
    """The running recomputation (award facts and the sums keyed by enterprise and measure)."""

    def __init__(self) -> None:
        # ids are the aggregates' UUIDs as canonical text (``str(uuid)``), as the snapshots
        # store them: a restored state needs no conversion
        self.awards: dict[str, tuple[str, str, int]] = {}  # award id → uscc, measure, year
        self.disbursements: dict[tuple[str, str], int] = {}  # (award id, ref) → amount
        self.budgets: dict[str, tuple[str, int]] = {}
        self.enterprise: dict[tuple[str, int], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(AWARD_SUMS, 0)
        )
        self.measure: dict[tuple[str, int], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(AWARD_SUMS + BUDGET_SUMS, 0)
        )

    def _award_add(self, award_id: str, column: str, amount: int) -> None:
        uscc, measure, year = self.awards[award_id]
        self.enterprise[(uscc, year)][column] += amount
        self.measure[(measure, year)][column] += amount

    def apply(self, event: Any) -> None:
        """Apply a domain event."""
        handler = _APPLY.get(type(event))  # the other events change no balance
        if handler is not None:
            handler(self, vars(event), str(event.originator_id))

    def apply_fields(self, cls: type, originator_id: str, fields: dict[str, Any]) -> None:
        """Apply an event given as its class, its aggregate's id and its fields (the domain
        event's ``__dict__``, as :func:`audit.money_rows.money_rows` decodes them)."""
        handler = _APPLY.get(cls)
        if handler is not None:
            handler(self, fields, originator_id)

    # -- awards -------------------------------------------------------------------------------

    def _granted(self, e: dict[str, Any], oid: str) -> None:
        self.awards[oid] = (e["uscc"], e["measure"], int(e["fiscal_year"]))
        self._award_add(oid, "granted_fen", e["amount_fen"])
        self._award_add(oid, "awards", 1)

    def _recorded(self, e: dict[str, Any], oid: str) -> None:
        self.disbursements[(oid, e["reference"])] = e["amount_fen"]
        self._award_add(oid, "pending_fen", e["amount_fen"])

    def _approved(self, e: dict[str, Any], oid: str) -> None:
        amount = self.disbursements[(oid, e["reference"])]
        self._award_add(oid, "pending_fen", -amount)
        self._award_add(oid, "approved_fen", amount)

    def _rejected(self, e: dict[str, Any], oid: str) -> None:
        self._award_add(oid, "pending_fen", -self.disbursements[(oid, e["reference"])])

    def _reversed(self, e: dict[str, Any], oid: str) -> None:
        self._award_add(oid, "reversed_fen", self.disbursements[(oid, e["reference"])])

    def _revoked(self, e: dict[str, Any], oid: str) -> None:
        self._award_add(oid, "revoked_fen", e["revoked_fen"])

    def _clawback_ordered(self, e: dict[str, Any], oid: str) -> None:
        self._award_add(oid, "clawback_ordered_fen", e["amount_fen"])

    def _clawback_recovered(self, e: dict[str, Any], oid: str) -> None:
        self._award_add(oid, "clawback_recovered_fen", e["amount_fen"])

    # -- budgets ------------------------------------------------------------------------------

    def _opened(self, e: dict[str, Any], oid: str) -> None:
        self.budgets[oid] = (e["measure"], int(e["fiscal_year"]))
        _ = self.measure[self.budgets[oid]]  # a budget shows even when still empty

    def _budget_add(self, oid: str, column: str, amount: int) -> None:
        self.measure[self.budgets[oid]][column] += amount

    def _appropriated(self, e: dict[str, Any], oid: str) -> None:
        self._budget_add(oid, "appropriated_fen", e["amount_fen"])

    def _adjusted(self, e: dict[str, Any], oid: str) -> None:
        self._budget_add(oid, "adjusted_fen", e["delta_fen"])

    def _committed(self, e: dict[str, Any], oid: str) -> None:
        self._budget_add(oid, "committed_fen", e["amount_fen"])

    def _released(self, e: dict[str, Any], oid: str) -> None:
        self._budget_add(oid, "released_fen", e["amount_fen"])


#: The events a replay reads (nothing else changes a balance), and what each one does.
_APPLY: dict[type, Callable[[_Books, dict[str, Any], str], None]] = {
    Award.Granted: _Books._granted,
    Award.DisbursementRecorded: _Books._recorded,
    Award.DisbursementApproved: _Books._approved,
    Award.DisbursementRejected: _Books._rejected,
    Award.DisbursementReversed: _Books._reversed,
    Award.Revoked: _Books._revoked,
    Award.ClawbackOrdered: _Books._clawback_ordered,
    Award.ClawbackRecovered: _Books._clawback_recovered,
    Budget.Opened: _Books._opened,
    Budget.Appropriated: _Books._appropriated,
    Budget.Adjusted: _Books._adjusted,
    Budget.Committed: _Books._committed,
    Budget.Released: _Books._released,
}
#: Their stored topics: the log is read filtered by these.
REPLAYED_TOPICS = tuple(topic_of(cls) for cls in _APPLY)


def balance_rows(books: _Books) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of a state, sorted by key, each with its derived sums: ``paid_fen`` = approved
    − reversed, ``outstanding_fen`` = granted − revoked − paid, and for a measure
    ``remaining_fen`` = appropriated + adjusted − (committed − released)."""
    enterprises = []
    for (uscc, year), row in sorted(books.enterprise.items()):
        _integer_fen(row)
        paid = row["approved_fen"] - row["reversed_fen"]
        outstanding = row["granted_fen"] - row["revoked_fen"] - paid
        enterprises.append({"uscc": uscc, "fiscal_year": year, **row, "paid_fen": paid,
                            "outstanding_fen": outstanding})  # fmt: skip
    measures = []
    for (code, year), row in sorted(books.measure.items()):
        _integer_fen(row)
        paid = row["approved_fen"] - row["reversed_fen"]
        outstanding = row["granted_fen"] - row["revoked_fen"] - paid
        net_committed = row["committed_fen"] - row["released_fen"]
        remaining = row["appropriated_fen"] + row["adjusted_fen"] - net_committed
        measures.append({"measure": code, "fiscal_year": year, **row, "paid_fen": paid,
                         "outstanding_fen": outstanding, "remaining_fen": remaining})  # fmt: skip
    return enterprises, measures


def _integer_fen(row: dict[str, int]) -> None:
    """Money stays integer fen (the derived sums of integers are integers too)."""
    if not all(map(isinstance, row.values(), repeat(int))):
        name, value = next((k, v) for k, v in row.items() if not isinstance(v, int))
        raise AssertionError((name, value))


def replay(
    app: SupportLedger, as_of: datetime | str | None = None, position: int | None = None
) -> dict[str, Any]:
    """Recompute per-enterprise and per-measure balances as of an instant or a position.

    Give at most one of ``as_of`` and ``position``; with neither, the whole log is replayed.
    Returns ``{"as_of", "position", "events", "enterprises": [...], "measures": [...]}``, where
    ``position`` is the last log position taken into account and rows are sorted by key.
    """
    if as_of is not None and position is not None:
        raise ValueError("replay as of an instant or a position, not both")
    instant = as_aware(as_of) if as_of is not None else None
    base, restored, later = base_for(app, position=position, instant=instant)
    start = 0 if base is None else base.position
    if base is None or restored is None:
        books, last_position, count = _Books(), 0, 0
    else:
        books, last_position, count = restored, base.last_replayed, base.events
    if instant is None:
        ranges: list[tuple[int, int | None]] = [(start, position)]
    else:
        ranges = ranges_after(app, start, later, instant)
    for after, stop in ranges:
        for pos, cls, originator_id, fields in money_fields(app, after, stop):
            if instant is not None and fields["timestamp"] > instant:
                continue
            books.apply_fields(cls, originator_id, fields)
            last_position = pos
            count += 1
    if position is not None:
        last_position = position
    enterprises, measures = balance_rows(books)
    return {
        "as_of": instant.isoformat() if instant is not None else None,
        "position": last_position,
        "events": count,
        "enterprises": enterprises,
        "measures": measures,
    }


# -- reconciliation with the views ----------------------------------------------------------

#: (view table, key columns, the replay rows' name) compared by :func:`reconcile`.
VIEWS = (
    ("pv_enterprise_balances", ("uscc", "fiscal_year"), "enterprises"),
    ("pv_measure_balances", ("measure", "fiscal_year"), "measures"),
)


def reconcile(app: SupportLedger) -> dict[str, Any]:
    """Compare a replay at the views' position with the views' balance tables.

    Reads the projections' tables (never their code) and returns ``{"position",
    "differences": [{"view", "key", "column", "replay", "views"}, ...]}``; a row missing on one
    side counts as zeros there. Raises RuntimeError if the projections are not installed.
    """
    try:
        from projections.queries import views_position
    except ImportError as exc:  # the read side is optional for the audit
        raise RuntimeError(f"the projections are not available: {exc}") from None
    from audit.db import audit_db

    position = views_position(app).position
    replayed = replay(app, position=position)
    db = audit_db(app)
    differences: list[dict[str, Any]] = []
    with db.read() as cur:
        for table, key, name in VIEWS:
            cur.execute(db.sql(f"SELECT * FROM {{t}}{table}"))
            columns = [d[0] for d in cur.description]
            view_rows = {}
            for row in cur.fetchall():
                record = dict(zip(columns, row, strict=True))
                view_rows[tuple(record[k] for k in key)] = record
            replay_rows = {tuple(r[k] for k in key): r for r in replayed[name]}
            compared = [c for c in columns if c.endswith("_fen") or c == "awards"]
            for k in sorted(set(view_rows) | set(replay_rows), key=str):
                mine, theirs = replay_rows.get(k, {}), view_rows.get(k, {})
                for column in compared:
                    a, b = int(mine.get(column) or 0), int(theirs.get(column) or 0)
                    if a != b:
                        differences.append({"view": table, "key": dict(zip(key, k, strict=True)),
                                            "column": column, "replay": a, "views": b})  # fmt: skip
    return {"position": position, "differences": differences}
