"""Replay as of a past instant, reconciliation with the views, the trail, and the checks."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import eventsourcing.domain
import pytest

from audit.checks import CHECKS, Award, Config, Disbursement, Facts, run_checks
from audit.replay import reconcile, replay
from audit.trail import trail
from ledger.domain import Award as AwardAggregate
from tests import factories as f

T0 = datetime(2025, 6, 1, 1, 0, tzinfo=UTC)


class Clock:
    """A controlled clock for the events' recorded time."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = T0
        monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", lambda: self.now)

    def set(self, instant: datetime) -> None:
        self.now = instant


def enterprise_row(result: dict, uscc: str = f.USCC_A) -> dict:
    (row,) = [r for r in result["enterprises"] if r["uscc"] == uscc]
    return row


def test_replay_between_two_events_gives_the_state_known_then(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(monkeypatch)
    app.execute(f.budget(), "olga")
    app.execute(f.enterprise(), "olga")
    app.execute(f.award(amount_fen=10_000_000), "olga")
    clock.set(T0 + timedelta(hours=2))
    app.execute(f.disbursement(amount_fen=4_000_000), "olga")
    clock.set(T0 + timedelta(hours=4))
    app.execute(f.approve(), "ada")

    award_id = AwardAggregate.create_id("A-1")
    before_payment = replay(app, as_of=T0 + timedelta(hours=1))
    row = enterprise_row(before_payment)
    then = app.repository.get(award_id, version=1)
    assert (row["granted_fen"], row["pending_fen"], row["paid_fen"]) == (then.granted_fen, 0, 0)
    (measure,) = [m for m in before_payment["measures"] if m["measure"] == "M10"]
    assert measure["committed_fen"] == 10_000_000
    assert measure["remaining_fen"] == 500_000_000 - 10_000_000

    recorded = enterprise_row(replay(app, as_of=(T0 + timedelta(hours=3)).isoformat()))
    assert (recorded["pending_fen"], recorded["paid_fen"]) == (4_000_000, 0)

    now = enterprise_row(replay(app))
    latest = app.repository.get(award_id)
    assert (now["pending_fen"], now["paid_fen"]) == (0, latest.paid_fen) == (0, 4_000_000)
    assert now["outstanding_fen"] == 6_000_000
    assert replay(app, as_of=T0 - timedelta(days=1))["enterprises"] == []


def test_replay_at_a_position_stops_there(ledger) -> None:  # type: ignore[no-untyped-def]
    outcome = ledger.execute(f.award("A-9", amount_fen=1_000_000), "olga")
    before = replay(ledger, position=outcome.position - 5)
    after = replay(ledger, position=outcome.position)
    assert enterprise_row(after)["granted_fen"] - enterprise_row(before)["granted_fen"] == 1_000_000


@pytest.mark.slow
def test_reconcile_finds_nothing_on_the_demo_and_the_row_of_an_altered_view(app) -> None:  # type: ignore[no-untyped-def]
    from audit.db import audit_db
    from ledger.demo import load_demo
    from projections.runner import catch_up

    load_demo(app)
    catch_up(app)
    assert reconcile(app)["differences"] == []
    db = audit_db(app)
    with db.write() as cur:
        cur.execute(db.sql("SELECT uscc, fiscal_year FROM {t}pv_enterprise_balances LIMIT 1"))
        uscc, year = cur.fetchone()
        cur.execute(
            db.sql("UPDATE {t}pv_enterprise_balances SET granted_fen = granted_fen + 1 "
                   "WHERE uscc = ? AND fiscal_year = ?"),
            (uscc, year),
        )  # fmt: skip
    (difference,) = reconcile(app)["differences"]
    assert difference["view"] == "pv_enterprise_balances"
    assert difference["key"] == {"uscc": uscc, "fiscal_year": year}
    assert difference["column"] == "granted_fen"
    assert difference["views"] == difference["replay"] + 1


def test_the_trail_of_an_award_lists_its_events_with_shanghai_times(ledger, run_cli) -> None:  # type: ignore[no-untyped-def]
    entries = trail(ledger, award_reference="A-1")
    kinds = [f"{e['aggregate']}.{e['event_type']}" for e in entries]
    assert "Award.Granted" in kinds and "Budget.Committed" in kinds
    assert kinds.count("Award.DisbursementRecorded") == 2
    assert all(e["recorded_at"].endswith("+08:00") for e in entries)
    assert [e["position"] for e in entries] == sorted(e["position"] for e in entries)
    granted = next(e for e in entries if e["event_type"] == "Granted")
    assert granted["doc_ref"] == "松市监〔2025〕12号" and granted["actor"] == "olga"
    approvals = trail(ledger, actor="ada")
    assert {e["event_type"] for e in approvals} >= {"DisbursementApproved", "DisbursementRejected"}

    result = run_cli("audit", "trail", "--enterprise", f.USCC_B, "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and all(r["uscc"] == f.USCC_B for r in rows)
    assert any(r["event_type"] == "Revoked" for r in rows)
    as_json = json.loads(run_cli("audit", "trail", "--measure", "M06", "--json").stdout)
    assert any(r["event_type"] == "Appropriated" for r in as_json)


def test_the_trail_filters_by_time(ledger) -> None:  # type: ignore[no-untyped-def]
    everything = trail(ledger, actor="olga", limit=1000)
    middle = everything[len(everything) // 2]["recorded_at"]
    later = trail(ledger, actor="olga", from_at=middle, limit=1000)
    earlier = trail(ledger, actor="olga", to_at=middle, limit=1000)
    assert len(later) + len(earlier) == len(everything)


def test_every_check_comes_back_empty_on_an_honest_ledger(ledger, run_cli) -> None:  # type: ignore[no-untyped-def]
    results = run_checks(ledger)
    assert set(results) == set(CHECKS)
    assert all(findings == [] for findings in results.values()), results
    assert run_cli("audit", "checks").exit_code == 0


def test_a_payment_waiting_too_long_is_reported(ledger, run_cli) -> None:  # type: ignore[no-untyped-def]
    ledger.execute(f.disbursement("D-9", amount_fen=100), "olga")
    later = datetime.now(UTC) + timedelta(days=31)
    (finding,) = run_checks(ledger, now=later)["payments_pending_too_long"]
    assert finding["references"] == ["D-9", "A-1"]
    result = run_cli("audit", "checks", "--pending-days", "0", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["payments_pending_too_long"]


# -- each check is a pure function over facts: fed situations the aggregates refuse -----------

CONFIG = Config(annual_cap_fen=1_000_000, pending_days=30, now=T0 + timedelta(days=40))


def award(reference: str = "A-1", amount_fen: int = 500_000, **kw) -> Award:  # type: ignore[no-untyped-def]
    fields = dict(uscc=f.USCC_A, measure="M10", item="x", fiscal_year=2025,
                  amount_fen=amount_fen, counts_towards_cap=True, position=1)  # fmt: skip
    return Award(reference, **{**fields, **kw})


def payment(reference: str, voucher_no: str = "V1", **kw) -> Disbursement:  # type: ignore[no-untyped-def]
    fields = dict(award="A-1", amount_fen=100, voucher_no=voucher_no, recorded_by="olga",
                  recorded_at=T0, position=5)  # fmt: skip
    return Disbursement(reference, **{**fields, **kw})


def run(name: str, facts: Facts) -> list:  # type: ignore[type-arg]
    return CHECKS[name][1](facts, CONFIG)


def test_duplicate_vouchers_are_all_found() -> None:
    facts = Facts(vouchers=[("V1", "disbursement D-1", 5), ("V1", "disbursement D-2", 9),
                            ("V2", "disbursement D-3", 11), ("V2", "recovery R-1", 12)])  # fmt: skip
    assert [f.references for f in run("duplicate_voucher_numbers", facts)] == [
        ("disbursement D-1", "disbursement D-2"), ("disbursement D-3", "recovery R-1"),
    ]  # fmt: skip


def test_a_payment_approved_by_its_recorder_is_found() -> None:
    facts = Facts(disbursements={
        "D-1": payment("D-1", status="approved", decided_by="olga", decided_position=6),
        "D-2": payment("D-2", status="approved", decided_by="ada", decided_position=7),
    })  # fmt: skip
    assert [f.references for f in run("self_approved_payments", facts)] == [("D-1", "A-1")]


def test_payments_after_revocation_are_found() -> None:
    facts = Facts(disbursements={"D-1": payment("D-1")}, after_revocation=[("D-1", "approved", 8)])
    (finding,) = run("payments_after_revocation", facts)
    assert finding.position == 8


def test_awards_above_their_item_maximum_are_found() -> None:
    facts = Facts(awards={"A-1": award(amount_fen=300), "A-2": award("A-2", amount_fen=200)},
                  item_max_fen={("M10", "x"): 250})  # fmt: skip
    assert [f.references for f in run("awards_above_item_maximum", facts)] == [("A-1",)]


def test_enterprises_above_the_annual_cap_are_found() -> None:
    facts = Facts(awards={
        "A-1": award(amount_fen=600_000), "A-2": award("A-2", amount_fen=600_000, position=2),
        "A-3": award("A-3", uscc=f.USCC_B, amount_fen=600_000, revoked_fen=0),
        "A-4": award("A-4", uscc=f.USCC_B, amount_fen=600_000, revoked_fen=300_000),
        "A-5": award("A-5", uscc=f.USCC_C, amount_fen=2_000_000, counts_towards_cap=False),
    })  # fmt: skip
    (finding,) = run("enterprises_above_annual_cap", facts)
    assert finding.references == (f.USCC_A,) and finding.position == 2
