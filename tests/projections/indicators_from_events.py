"""The fiscal indicators recomputed from the event log alone — no projection code, no views —
so that comparing them with `projections.queries.indicators` proves something.

Read in log order through the event store (`audit.events.iter_events`, the application's own
mapper); each rule is written again here from docs/metrics.md ("Fiscal indicators").
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from audit.events import iter_events
from ledger.domain import Award, Budget, Enterprise, Financing, PatentTransfer


class Facts:
    """What the events say about awards, payments, budgets, enterprises, transfers and loans."""

    def __init__(self, app: Any) -> None:
        self.awards: dict[Any, dict[str, Any]] = {}
        self.payments: dict[tuple[Any, str], dict[str, Any]] = {}
        self.budgets: dict[Any, dict[str, Any]] = {}
        self.town: dict[str, str] = {}
        self.uscc_of: dict[Any, str] = {}
        self.transfers: dict[Any, dict[str, Any]] = {}
        self.financings: dict[Any, dict[str, Any]] = {}
        self.seen: dict[str, int] = defaultdict(int)
        for _position, e in iter_events(app):
            self.apply(e, e.originator_id)
        self.pillar = {m.code: m.pillar for m in app.catalogue.measures}

    def apply(self, e: Any, oid: Any) -> None:
        kind = type(e)
        self.seen[kind.__qualname__] += 1
        if kind is Award.Granted:
            self.awards[oid] = {"uscc": e.uscc, "measure": e.measure, "year": int(e.fiscal_year),
                                "granted_on": e.granted_on, "financing": e.financing_reference,
                                "revoked": False, "approved": 0, "reversed": 0, "first_paid": None,
                                "ordered": 0, "recovered": 0}  # fmt: skip
        elif kind is Award.DisbursementRecorded:
            self.payments[(oid, e.reference)] = {"award": oid, "amount": e.amount_fen,
                                                 "paid_on": e.paid_on, "status": "pending"}  # fmt: skip
        elif kind is Award.DisbursementApproved:
            payment, award = self.payments[(oid, e.reference)], self.awards[oid]
            payment["status"] = "approved"
            award["approved"] += payment["amount"]
            if award["first_paid"] is None or payment["paid_on"] < award["first_paid"]:
                award["first_paid"] = payment["paid_on"]
        elif kind is Award.DisbursementRejected:
            self.payments[(oid, e.reference)]["status"] = "rejected"
        elif kind is Award.DisbursementReversed:
            payment = self.payments[(oid, e.reference)]
            payment["status"] = "reversed"
            self.awards[oid]["reversed"] += payment["amount"]
        elif kind is Award.Revoked:
            self.awards[oid]["revoked"] = True
        elif kind is Award.ClawbackOrdered:
            self.awards[oid]["ordered"] += e.amount_fen
        elif kind is Award.ClawbackRecovered:
            self.awards[oid]["recovered"] += e.amount_fen
        elif kind is Budget.Opened:
            self.budgets[oid] = {"measure": e.measure, "year": int(e.fiscal_year), "total": 0,
                                 "committed": 0}  # fmt: skip
        elif kind is Budget.Appropriated:
            self.budgets[oid]["total"] += e.amount_fen
        elif kind is Budget.Adjusted:
            self.budgets[oid]["total"] += e.delta_fen
        elif kind is Budget.Committed:
            self.budgets[oid]["committed"] += e.amount_fen
        elif kind is Budget.Released:
            self.budgets[oid]["committed"] -= e.amount_fen
        elif kind is Enterprise.Registered:
            self.uscc_of[oid] = e.uscc
            self.town[e.uscc] = e.town_code
        elif kind is Enterprise.Updated:
            self.town[self.uscc_of[oid]] = e.town_code
        elif kind is PatentTransfer.Recorded:
            self.transfers[oid] = {"uscc": e.uscc, "signed_on": e.signed_on, "implemented": False}
        elif kind is PatentTransfer.Implemented:
            self.transfers[oid]["implemented"] = True
        elif kind is Financing.Registered:
            self.financings[oid] = {"reference": e.reference, "uscc": e.uscc,
                                    "instrument": e.instrument, "principal": e.principal_fen,
                                    "registered_on": e.registered_on}  # fmt: skip

    def in_scope(self, row: dict[str, Any], scope: str, key: str) -> bool:
        if scope == "district":
            return True
        if scope == "town":
            return self.town.get(row["uscc"]) == key
        if scope == "measure":
            return row.get("measure") == key
        return self.pillar.get(row.get("measure", "")) == key


def _rate(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _median(values: list[int]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    middle = len(values) // 2
    return float(values[middle]) if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _p90(values: list[int]) -> int | None:
    """The smallest value with at least 90 % of the values at or below it."""
    for candidate in sorted(set(values)):
        if sum(1 for v in values if v <= candidate) * 10 >= 9 * len(values):
            return candidate
    return None


def expected(facts: Facts, year: int, scope: str, key: str, on_time_days: int,
             due_by: date) -> dict[str, Any]:  # fmt: skip
    """Every indicator of one scope, as docs/metrics.md defines it."""
    awards = [a for a in facts.awards.values() if a["year"] == year and facts.in_scope(a, scope, key)]
    paid = sum(a["approved"] - a["reversed"] for a in awards)
    out: dict[str, Any] = {"paid_fen": paid, "awards": len(awards)}
    if scope == "town":
        out.update(appropriated_fen=None, execution_rate=None, commitment_rate=None, balance_rate=None)
    else:
        budgets = [b for b in facts.budgets.values() if b["year"] == year
                   and (scope == "district" or facts.in_scope({"measure": b["measure"], "uscc": ""}, scope, key))]  # fmt: skip
        total = sum(b["total"] for b in budgets)
        committed = sum(b["committed"] for b in budgets)
        out.update(appropriated_fen=total, committed_fen=committed, remaining_fen=total - committed,
                   execution_rate=_rate(paid, total), commitment_rate=_rate(committed, total),
                   balance_rate=_rate(total - committed, total))  # fmt: skip
    days = [(a["first_paid"] - a["granted_on"]).days for a in awards if a["first_paid"]]
    late_unpaid = [a for a in awards if not a["first_paid"] and not a["revoked"]
                   and (due_by - a["granted_on"]).days > on_time_days]  # fmt: skip
    on_time = len([d for d in days if d <= on_time_days])
    out.update(awards_paid=len(days), median_days_to_payment=_median(days),
               p90_days_to_payment=_p90(days), awards_due=len(days) + len(late_unpaid),
               awards_paid_on_time=on_time, on_time_rate=_rate(on_time, len(days) + len(late_unpaid)))  # fmt: skip
    ordered = sum(a["ordered"] for a in awards)
    recovered = sum(a["recovered"] for a in awards)
    out.update(clawback_ordered_fen=ordered, clawback_recovered_fen=recovered,
               clawback_recovery_rate=_rate(recovered, ordered))  # fmt: skip
    subsidies = [a for a in awards if a["financing"]]
    subsidy_paid = sum(a["approved"] - a["reversed"] for a in subsidies)
    out.update(interest_subsidy_paid_fen=subsidy_paid, interest_subsidy_share=_rate(subsidy_paid, paid))
    owner_scope = scope in ("district", "town")
    if owner_scope or (scope, key) in (("measure", "M12"), ("pillar", "ip")):
        mine = [t for t in facts.transfers.values() if t["signed_on"].year == year
                and (scope != "town" or facts.in_scope(t, scope, key))]  # fmt: skip
        done = len([t for t in mine if t["implemented"]])
        out.update(transfers_recorded=len(mine), transfers_implemented=done,
                   conversion_rate=_rate(done, len(mine)))  # fmt: skip
    else:
        out.update(transfers_recorded=None, conversion_rate=None)
    if owner_scope or (scope, key) in (("measure", "M11"), ("pillar", "ip")):
        pledges = [f for f in facts.financings.values() if f["instrument"] == "pledge_loan"]
        principal = sum(f["principal"] for f in pledges if f["registered_on"].year == year
                        and (scope != "town" or facts.in_scope(f, scope, key)))  # fmt: skip
        pledge_refs = {f["reference"] for f in pledges}
        pledge_paid = sum(a["approved"] - a["reversed"] for a in subsidies if a["financing"] in pledge_refs)
        out.update(pledge_principal_fen=principal, pledge_subsidy_paid_fen=pledge_paid,
                   leverage=_rate(principal, pledge_paid))  # fmt: skip
    else:
        out.update(pledge_principal_fen=None, leverage=None)
    return out


def expected_months(facts: Facts, year: int, scope: str, key: str) -> tuple[list[int], int]:
    """Net paid per month 1..12 of `year` (earlier dates in January) and after the year, of the
    approved, unreversed payments on the scope's awards of that fiscal year."""
    months, after = [0] * 12, 0
    for p in facts.payments.values():
        award = facts.awards[p["award"]]
        if p["status"] != "approved" or award["year"] != year or not facts.in_scope(award, scope, key):
            continue
        if p["paid_on"].year > year:
            after += p["amount"]
        else:
            months[p["paid_on"].month - 1 if p["paid_on"].year == year else 0] += p["amount"]
    return months, after
