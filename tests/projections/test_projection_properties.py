"""Views after catch-up = views after a rebuild = a recomputation from the commands alone.

Hypothesis draws short sequences of commands (many of them refused by the ledger, which is
fine: only accepted commands count) and interleaves catch-ups with a tiny batch size, so the
batches split commands at arbitrary points. The expected balances are recomputed here from
the accepted commands, without the projection code.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from factories import USCC_A, USCC_B, USCC_C
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from projection_helpers import fresh_ledger, snapshot

from ledger.application import RECORDED, Outcome
from projections import queries
from projections.runner import Runner

YEAR = 2025
USCCS = (USCC_A, USCC_B, USCC_C)
TOWNS = ("310117001", "310117101", "310117001")
GRANTS = (("M10", "high_value_patent_cultivation"), ("M12", "patent_transfer_subsidy"))
AMOUNTS = (100_000, 2_500_000, 7_000_000)
PAYMENTS = (50_000, 80_000, 1_000_000)

small = st.integers(0, 7)
#: The prefix of what each referring operation names (by index in its first argument).
REFERS = {
    "record": "A",
    "approve": "D",
    "reject": "D",
    "reverse": "D",
    "revoke": "A",
    "clawback": "A",
    "recover": "C",
    "outcome": "T",
    "financing_event": "F",
}
_grant = st.tuples(st.just("grant"), st.integers(0, 2), st.integers(0, 1), st.sampled_from(AMOUNTS))
_record = st.tuples(st.just("record"), small, st.sampled_from(PAYMENTS))
_approve = st.tuples(st.just("approve"), small, st.sampled_from(("ada", "ada", "ada", "olga")))
operation = st.one_of(
    _grant,
    _grant,
    _record,
    _record,
    _record,
    _approve,
    _approve,
    _approve,
    st.tuples(st.just("grant"), st.integers(0, 2), st.integers(0, 1), st.sampled_from(AMOUNTS)),
    st.tuples(st.just("approve"), small, st.sampled_from(("ada", "ada", "ada", "olga"))),
    st.tuples(st.just("reject"), small),
    st.tuples(st.just("reverse"), small),
    st.tuples(st.just("revoke"), small),
    st.tuples(st.just("clawback"), small, st.sampled_from((20_000, 50_000))),
    st.tuples(st.just("recover"), small, st.sampled_from((10_000, 20_000))),
    st.tuples(st.just("adjust"), st.integers(0, 1), st.sampled_from((-3_000_000, 4_000_000))),
    st.tuples(st.just("transfer"), st.integers(0, 2), st.sampled_from(("university", "hospital"))),
    st.tuples(
        st.just("outcome"),
        small,
        st.sampled_from(("implemented", "revenue_reported", "terminated")),
    ),
    st.tuples(st.just("financing"), st.integers(0, 2)),
    st.tuples(st.just("financing_event"), small, st.sampled_from(("drawn", "repaid", "defaulted"))),
    st.tuples(st.just("catch_up")),
)


#: The reference prefix of what each creating operation creates.
CREATES = {"grant": "A", "record": "D", "clawback": "C", "transfer": "T", "financing": "F"}


def command_for(
    op: tuple[Any, ...], n: int, created: dict[str, int]
) -> tuple[dict[str, Any], str] | None:
    """The command an operation stands for, and its actor. Operations that name something
    pick it by index among those created so far (`created` counts them by prefix)."""
    kind = op[0]
    op = tuple(
        f"{prefix}{value % max(created.get(prefix, 0), 1)}" if i == 1 and prefix else value
        for i, value in enumerate(op)
        for prefix in [REFERS.get(kind)]
    )
    if kind == "grant":
        measure, item = GRANTS[op[2]]
        return ({"type": "grant_award", "reference": f"A{created.get('A', 0)}", "uscc": USCCS[op[1]],
                 "measure": measure, "item": item, "fiscal_year": YEAR, "amount_fen": op[3],
                 "decision_ref": "松市监〔2025〕1号", "granted_on": f"2025-03-{1 + n % 28:02d}"},
                "olga")  # fmt: skip
    if kind == "record":
        return ({"type": "record_disbursement", "reference": f"D{created.get('D', 0)}", "award_reference": op[1],
                 "amount_fen": op[2], "voucher_no": f"V{n}", "paid_on": f"2025-05-{1 + n % 28:02d}"},
                "olga")  # fmt: skip
    if kind == "approve":
        return {"type": "approve_disbursement", "reference": op[1]}, op[2]
    if kind == "reject":
        return {"type": "reject_disbursement", "reference": op[1], "reason": "wrong"}, "ada"
    if kind == "reverse":
        return {"type": "reverse_disbursement", "reference": op[1], "reason": "bank"}, "oscar"
    if kind == "revoke":
        return ({"type": "revoke_award", "award_reference": op[1], "decision_ref": "撤1",
                 "reason": "fraud"}, "olga")  # fmt: skip
    if kind == "clawback":
        return ({"type": "order_clawback", "reference": f"C{created.get('C', 0)}", "award_reference": op[1],
                 "amount_fen": op[2], "decision_ref": "追1", "reason": "fraud"}, "olga")  # fmt: skip
    if kind == "recover":
        return ({"type": "record_clawback_recovery", "reference": f"R{n}",
                 "clawback_reference": op[1], "amount_fen": op[2], "voucher_no": f"RV{n}",
                 "recovered_on": "2025-09-01"}, "olga")  # fmt: skip
    if kind == "adjust":
        return ({"type": "adjust_budget", "reference": f"ADJ{n}", "measure": GRANTS[op[1]][0],
                 "fiscal_year": YEAR, "delta_fen": op[2], "decision_ref": "调1", "reason": "r"},
                "olga")  # fmt: skip
    if kind == "transfer":
        return ({"type": "record_patent_transfer", "reference": f"T{created.get('T', 0)}", "patent_no": "201710601862.3",
                 "transferor_name": "东华大学", "transferor_kind": op[2], "uscc": USCCS[op[1]],
                 "mode": "assignment", "contract_value_fen": 1_000_000 + n,
                 "signed_on": "2025-02-01"}, "olga")  # fmt: skip
    if kind == "outcome":
        return ({"type": "record_transfer_outcome", "reference": op[1], "outcome": op[2],
                 "on": "2025-06-01", "amount_fen": 300_000 if op[2] == "revenue_reported" else None},
                "olga")  # fmt: skip
    if kind == "financing":
        return ({"type": "register_financing", "reference": f"F{created.get('F', 0)}", "uscc": USCCS[op[1]],
                 "instrument": "pledge_loan", "lender": "农商行", "principal_fen": 9_000_000,
                 "annual_rate_bp": 350, "term_months": 12, "collateral": ["ZL201310699744.2"],
                 "registered_on": "2025-02-01"}, "olga")  # fmt: skip
    if kind == "financing_event":
        return ({"type": "record_financing_event", "reference": op[1], "event": op[2],
                 "on": "2025-07-01", "amount_fen": 1_000_000}, "olga")  # fmt: skip
    return None


class Model:
    """Balances recomputed from accepted commands only."""

    def __init__(self) -> None:
        self.awards: dict[str, dict[str, Any]] = {}
        self.disbursements: dict[str, tuple[str, int]] = {}
        self.clawbacks: dict[str, str] = {}
        self.budgets: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.transfers: dict[str, dict[str, Any]] = {}
        self.financings: dict[str, dict[str, Any]] = {}

    def accept(self, cmd: dict[str, Any]) -> None:
        kind = cmd["type"]
        if kind == "appropriate_budget":
            self.budgets[cmd["measure"]]["appropriated"] += cmd["amount_fen"]
        elif kind == "adjust_budget":
            self.budgets[cmd["measure"]]["adjusted"] += cmd["delta_fen"]
        elif kind == "grant_award":
            self.awards[cmd["reference"]] = {
                "uscc": cmd["uscc"], "measure": cmd["measure"], "granted": cmd["amount_fen"],
                "revoked": 0, "approved": 0, "reversed": 0, "pending": 0, "ordered": 0,
                "recovered": 0,
            }  # fmt: skip
            self.budgets[cmd["measure"]]["committed"] += cmd["amount_fen"]
        elif kind == "record_disbursement":
            self.disbursements[cmd["reference"]] = (cmd["award_reference"], cmd["amount_fen"])
            self.awards[cmd["award_reference"]]["pending"] += cmd["amount_fen"]
        elif kind in ("approve_disbursement", "reject_disbursement", "reverse_disbursement"):
            award_ref, amount = self.disbursements[cmd["reference"]]
            award = self.awards[award_ref]
            if kind == "reverse_disbursement":
                award["reversed"] += amount
            else:
                award["pending"] -= amount
                award["approved"] += amount if kind == "approve_disbursement" else 0
        elif kind == "revoke_award":
            award = self.awards[cmd["award_reference"]]
            award["revoked"] = award["granted"] - (award["approved"] - award["reversed"])
            self.budgets[award["measure"]]["released"] += award["revoked"]
        elif kind == "order_clawback":
            self.clawbacks[cmd["reference"]] = cmd["award_reference"]
            self.awards[cmd["award_reference"]]["ordered"] += cmd["amount_fen"]
        elif kind == "record_clawback_recovery":
            self.awards[self.clawbacks[cmd["clawback_reference"]]]["recovered"] += cmd["amount_fen"]
        elif kind == "record_patent_transfer":
            self.transfers[cmd["reference"]] = {"implemented": False, "revenue": 0}
        elif kind == "record_transfer_outcome":
            transfer = self.transfers[cmd["reference"]]
            transfer["implemented"] |= cmd["outcome"] == "implemented"
            transfer["revenue"] += cmd["amount_fen"] or 0
        elif kind == "register_financing":
            self.financings[cmd["reference"]] = {
                "principal": cmd["principal_fen"],
                "defaulted": False,
            }
        elif kind == "record_financing_event":
            self.financings[cmd["reference"]]["defaulted"] |= cmd["event"] == "defaulted"

    def enterprise(self, uscc: str) -> dict[str, int] | None:
        mine = [a for a in self.awards.values() if a["uscc"] == uscc]
        if not mine:
            return None
        total = {k: sum(a[k] for a in mine) for k in mine[0] if k not in ("uscc", "measure")}
        paid = total["approved"] - total["reversed"]
        return {
            "granted_fen": total["granted"], "revoked_fen": total["revoked"], "paid_fen": paid,
            "pending_fen": total["pending"], "reversed_fen": total["reversed"],
            "clawback_ordered_fen": total["ordered"], "clawback_recovered_fen": total["recovered"],
            "outstanding_fen": total["granted"] - total["revoked"] - paid, "awards": len(mine),
        }  # fmt: skip

    def measure(self, code: str) -> dict[str, int]:
        b = self.budgets[code]
        mine = [a for a in self.awards.values() if a["measure"] == code]
        total = b["appropriated"] + b["adjusted"]
        return {
            "appropriated_fen": total, "adjusted_fen": b["adjusted"],
            "committed_fen": b["committed"], "released_fen": b["released"],
            "paid_fen": sum(a["approved"] - a["reversed"] for a in mine),
            "remaining_fen": total - b["committed"] + b["released"], "awards": len(mine),
        }  # fmt: skip


def setup_commands() -> list[tuple[dict[str, Any], str]]:
    out = []
    for uscc, town in zip(USCCS, TOWNS, strict=True):
        out.append(({"type": "register_enterprise", "uscc": uscc, "name": f"企业{uscc[-4:]}",
                     "town_code": town, "industry": "制造"}, "olga"))  # fmt: skip
    for measure, _ in GRANTS:
        out.append(({"type": "appropriate_budget", "reference": f"B-{measure}", "measure": measure,
                     "fiscal_year": YEAR, "amount_fen": 40_000_000, "decision_ref": "松财1"}, "olga"))  # fmt: skip
    return out


def run_and_check(backend: str, directory: Any, ops: list[tuple[Any, ...]]) -> list[str]:
    """Perform the operations, then check catch-up = model and catch-up = rebuild; returns
    the types of the accepted commands."""
    model = Model()
    accepted: list[str] = []
    created: dict[str, int] = {}
    with fresh_ledger(backend, directory) as app:
        runner = Runner(app, batch_size=3)
        for cmd, actor in setup_commands():
            app.execute(cmd, actor)
            model.accept(cmd)
        for n, op in enumerate(ops):
            command = command_for(op, n, created)
            if command is None:
                runner.catch_up()
                continue
            (result,) = app.execute_many([command])
            if isinstance(result, Outcome) and result.status == RECORDED:
                model.accept(command[0])
                accepted.append(command[0]["type"])
                if op[0] in CREATES:
                    created[CREATES[op[0]]] = created.get(CREATES[op[0]], 0) + 1
        runner.catch_up()
        caught_up = snapshot(app)
        assert caught_up["position"][0]["position"] == app.log_position()
        assert [r["position"] for r in caught_up["pv_trail"]] == [
            n.id for n in app.recorder.select_notifications(start=None, limit=100_000)
        ]

        for uscc in USCCS:
            expected = model.enterprise(uscc)
            got = queries.enterprise_balances(app, uscc, YEAR)
            assert (got[0].to_dict() if got else None) == (
                None if expected is None else {"uscc": uscc, "fiscal_year": YEAR, **expected}
            )
        for measure, _ in GRANTS:
            (got_measure,) = queries.measure_balances(app, measure, YEAR)
            got_dict = got_measure.to_dict()
            got_dict.pop("utilisation")
            assert got_dict == {"measure": measure, "fiscal_year": YEAR, **model.measure(measure)}
        m = queries.metrics(app, YEAR)
        assert m.transfers_recorded == len(model.transfers)
        assert m.transfers_implemented == sum(t["implemented"] for t in model.transfers.values())
        assert m.revenue_reported_fen == sum(t["revenue"] for t in model.transfers.values())
        assert m.financing_principal_fen == sum(f["principal"] for f in model.financings.values())
        assert m.financings_defaulted == sum(f["defaulted"] for f in model.financings.values())
        towns = {t.town_code: t.granted_fen for t in queries.town_balances(app, fiscal_year=YEAR)}
        for town in set(TOWNS):
            expected_town = [
                model.enterprise(u) for u, t in zip(USCCS, TOWNS, strict=True) if t == town
            ]
            granted = sum(e["granted_fen"] for e in expected_town if e)
            assert towns.get(town, 0) == granted

        Runner(app, batch_size=1000).rebuild()
        assert snapshot(app) == caught_up
    return accepted


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=15, max_size=40))
def test_catch_up_equals_rebuild_equals_an_independent_recomputation(
    backend: str, tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[Any, ...]]
) -> None:
    accepted = run_and_check(backend, tmp_path_factory.mktemp("prop"), ops)
    event(f"accepted {min(len(accepted) // 5 * 5, 15)}+ commands")
    for kind in set(accepted):
        event(f"accepted {kind}")


#: Every kind of command, accepted, with catch-ups between them.
SCENARIO = [
    ("grant", 0, 0, 2_500_000),
    ("grant", 1, 1, 2_500_000),
    ("grant", 2, 0, 100_000),
    ("record", 0, 1_000_000),
    ("record", 0, 50_000),
    ("catch_up",),
    ("approve", 0, "ada"),
    ("approve", 1, "ada"),
    ("record", 1, 80_000),
    ("reject", 2),
    ("reverse", 1),
    ("clawback", 0, 50_000),
    ("recover", 0, 20_000),
    ("catch_up",),
    ("revoke", 1),
    ("adjust", 0, 4_000_000),
    ("transfer", 0, "university"),
    ("transfer", 1, "hospital"),
    ("outcome", 0, "implemented"),
    ("outcome", 0, "revenue_reported"),
    ("financing", 2),
    ("financing_event", 0, "drawn"),
    ("financing_event", 0, "defaulted"),
]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_scenario_with_every_kind_of_command_projects_as_recomputed(
    backend: str, tmp_path: Any
) -> None:
    accepted = run_and_check(backend, tmp_path, SCENARIO)
    assert len(accepted) == len(SCENARIO) - 2, accepted
