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
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from audit.events import as_aware, iter_events, kind_of, topics_of

if TYPE_CHECKING:
    from ledger.application import SupportLedger

AWARD_KINDS = (
    "Award.Granted",
    "Award.DisbursementRecorded",
    "Award.DisbursementApproved",
    "Award.DisbursementRejected",
    "Award.DisbursementReversed",
    "Award.Revoked",
    "Award.ClawbackOrdered",
    "Award.ClawbackRecovered",
)
BUDGET_KINDS = ("Budget.Opened", "Budget.Appropriated", "Budget.Adjusted", "Budget.Committed",
                "Budget.Released")  # fmt: skip

AWARD_SUMS = (
    "granted_fen", "revoked_fen", "pending_fen", "approved_fen", "reversed_fen",
    "clawback_ordered_fen", "clawback_recovered_fen", "awards",
)  # fmt: skip
BUDGET_SUMS = ("appropriated_fen", "adjusted_fen", "committed_fen", "released_fen")


class _Books:
    """The running recomputation (award facts and the sums keyed by enterprise and measure)."""

    def __init__(self) -> None:
        self.awards: dict[Any, dict[str, Any]] = {}  # award id → uscc, measure, year
        self.disbursements: dict[tuple[Any, str], int] = {}  # (award id, ref) → amount
        self.budgets: dict[Any, tuple[str, int]] = {}
        self.enterprise: dict[tuple[str, int], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(AWARD_SUMS, 0)
        )
        self.measure: dict[tuple[str, int], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(AWARD_SUMS + BUDGET_SUMS, 0)
        )

    def _award_add(self, award_id: Any, column: str, amount: int) -> None:
        award = self.awards[award_id]
        self.enterprise[(award["uscc"], award["fiscal_year"])][column] += amount
        self.measure[(award["measure"], award["fiscal_year"])][column] += amount

    def apply(self, event: Any) -> None:
        kind = kind_of(event)
        oid = event.originator_id
        if kind == "Award.Granted":
            self.awards[oid] = {"uscc": event.uscc, "measure": event.measure,
                                "fiscal_year": int(event.fiscal_year)}  # fmt: skip
            self._award_add(oid, "granted_fen", event.amount_fen)
            self._award_add(oid, "awards", 1)
        elif kind == "Award.DisbursementRecorded":
            self.disbursements[(oid, event.reference)] = event.amount_fen
            self._award_add(oid, "pending_fen", event.amount_fen)
        elif kind in ("Award.DisbursementApproved", "Award.DisbursementRejected"):
            amount = self.disbursements[(oid, event.reference)]
            self._award_add(oid, "pending_fen", -amount)
            if kind == "Award.DisbursementApproved":
                self._award_add(oid, "approved_fen", amount)
        elif kind == "Award.DisbursementReversed":
            self._award_add(oid, "reversed_fen", self.disbursements[(oid, event.reference)])
        elif kind == "Award.Revoked":
            self._award_add(oid, "revoked_fen", event.revoked_fen)
        elif kind == "Award.ClawbackOrdered":
            self._award_add(oid, "clawback_ordered_fen", event.amount_fen)
        elif kind == "Award.ClawbackRecovered":
            self._award_add(oid, "clawback_recovered_fen", event.amount_fen)
        elif kind == "Budget.Opened":
            self.budgets[oid] = (event.measure, int(event.fiscal_year))
            _ = self.measure[self.budgets[oid]]  # a budget shows even when still empty
        elif kind == "Budget.Appropriated":
            self.measure[self.budgets[oid]]["appropriated_fen"] += event.amount_fen
        elif kind == "Budget.Adjusted":
            self.measure[self.budgets[oid]]["adjusted_fen"] += event.delta_fen
        elif kind == "Budget.Committed":
            self.measure[self.budgets[oid]]["committed_fen"] += event.amount_fen
        elif kind == "Budget.Released":
            self.measure[self.budgets[oid]]["released_fen"] += event.amount_fen


def _with_derived(row: dict[str, int]) -> dict[str, int]:
    row = dict(row)
    row["paid_fen"] = row["approved_fen"] - row["reversed_fen"]
    row["outstanding_fen"] = row["granted_fen"] - row["revoked_fen"] - row["paid_fen"]
    if "appropriated_fen" in row:
        net_committed = row["committed_fen"] - row["released_fen"]
        row["remaining_fen"] = row["appropriated_fen"] + row["adjusted_fen"] - net_committed
    for name, value in row.items():
        assert isinstance(value, int), (name, value)  # money stays integer fen
    return row


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
    books = _Books()
    last_position = 0
    count = 0
    topics = topics_of(app, AWARD_KINDS + BUDGET_KINDS)
    for pos, event in iter_events(app, stop_position=position, topics=topics):
        if instant is not None and event.timestamp > instant:
            continue
        books.apply(event)
        last_position = pos
        count += 1
    if position is not None:
        last_position = position
    enterprises = [
        {"uscc": uscc, "fiscal_year": year, **_with_derived(row)}
        for (uscc, year), row in sorted(books.enterprise.items())
    ]
    measures = [
        {"measure": code, "fiscal_year": year, **_with_derived(row)}
        for (code, year), row in sorted(books.measure.items())
    ]
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
