"""Reading the views: your own writes, clear timeouts, the CLI's JSON, the trail, the worker."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import factories as f
import pytest
from click.testing import CliRunner

from ledger.application import SupportLedger
from ledger.cli import cli
from ledger.storage import open_ledger
from projections import queries
from projections.runner import Runner, ViewsBehind
from projections.trail import recorded_at_text

ENTERPRISE_FIELDS = [
    "uscc", "fiscal_year", "granted_fen", "revoked_fen", "paid_fen", "pending_fen",
    "reversed_fen", "clawback_ordered_fen", "clawback_recovered_fen", "outstanding_fen",
]  # fmt: skip
MEASURE_FIELDS = [
    "measure", "fiscal_year", "appropriated_fen", "committed_fen", "released_fen", "paid_fen",
    "remaining_fen", "utilisation",
]  # fmt: skip


def record_a_paid_award(app: SupportLedger) -> int:
    for command in (f.enterprise(), f.budget(), f.award(), f.disbursement()):
        app.execute(command, "olga")
    return app.execute(f.approve(), "ada").position  # type: ignore[return-value]


def test_a_read_with_min_position_sees_the_write_once_the_worker_has_it(
    app: SupportLedger, database_url: str
) -> None:
    worker_app = open_ledger(database_url)
    stop = threading.Event()
    follower = threading.Thread(target=Runner(worker_app, batch_size=50).follow, args=(stop,))
    follower.start()
    try:
        position = record_a_paid_award(app)
        (balance,) = queries.enterprise_balances(app, f.USCC_A, min_position=position)
        assert balance.paid_fen == 5_000_000
        assert balance.outstanding_fen == 5_000_000
        for _ in range(3):  # each later write is seen by the read that names it
            outcome = app.execute(f.disbursement(f"D-{_ + 2}", amount_fen=100_000), "olga")
            (balance,) = queries.enterprise_balances(app, f.USCC_A, min_position=outcome.position)
            assert balance.pending_fen == 100_000 * (_ + 1)
        assert queries.views_position(app).position >= outcome.position  # type: ignore[operator]
    finally:
        stop.set()
        follower.join(timeout=10)
        worker_app.close()
    assert not follower.is_alive()


def test_a_read_beyond_the_views_fails_with_a_clear_timeout(app: SupportLedger) -> None:
    position = record_a_paid_award(app)
    with pytest.raises(ViewsBehind, match="ledger worker") as caught:
        queries.enterprise_balances(app, f.USCC_A, min_position=position, timeout_s=0.2)
    assert caught.value.wanted == position
    assert isinstance(caught.value, TimeoutError)


def test_balances_as_json_carry_the_fields_the_issue_names_in_fen(
    app: SupportLedger, database_url: str
) -> None:
    record_a_paid_award(app)
    runner = CliRunner()
    base = ["--database-url", database_url]
    assert runner.invoke(cli, [*base, "project"]).exit_code == 0
    result = runner.invoke(
        cli, [*base, "balances", "enterprise", f.USCC_A, "--year", "2025", "--json"]
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert list(row)[: len(ENTERPRISE_FIELDS)] == ENTERPRISE_FIELDS
    assert row["paid_fen"] == 5_000_000 and row["outstanding_fen"] == 5_000_000
    result = runner.invoke(cli, [*base, "balances", "measure", "M10", "--json"])
    (row,) = json.loads(result.output)
    assert all(name in row for name in MEASURE_FIELDS)
    assert row["utilisation"] == 0.02 and row["remaining_fen"] == 490_000_000
    result = runner.invoke(cli, [*base, "balances", "town", f.TOWN, "--json"])
    assert json.loads(result.output)[0]["granted_fen"] == 10_000_000
    result = runner.invoke(cli, [*base, "metrics", "--year", "2025", "--json"])
    assert json.loads(result.output)["payment_rate"] == 0.5
    human = runner.invoke(cli, [*base, "balances", "enterprise", f.USCC_A])
    assert "50,000.00" in human.output  # yuan in tables


def test_the_trail_is_searchable_by_enterprise_award_measure_actor_and_time(
    app: SupportLedger,
) -> None:
    record_a_paid_award(app)
    app.execute(f.enterprise(f.USCC_B), "oscar")
    Runner(app).catch_up()
    by_award = queries.trail(app, award_reference="A-1")
    assert [e.event_type for e in by_award if e.aggregate_type == "Award"] == [
        "Granted", "DisbursementRecorded", "DisbursementApproved",
    ]  # fmt: skip
    approved = next(e for e in by_award if e.event_type == "DisbursementApproved")
    assert approved.actor == "ada" and approved.doc_ref == "V-D-1"
    assert approved.uscc == f.USCC_A and approved.measure == "M10"
    assert "approved" in approved.summary_en and "审批" in approved.summary_zh
    assert {e.uscc for e in queries.trail(app, uscc=f.USCC_B)} == {f.USCC_B}
    assert {e.actor for e in queries.trail(app, actor="oscar")} == {"oscar"}
    assert all(e.measure == "M10" for e in queries.trail(app, measure="M10"))
    now = datetime.now(UTC)
    assert queries.trail(app, to_at=now - timedelta(days=1)) == []
    everything = queries.trail(app, from_at=now - timedelta(hours=1), limit=1000)
    assert len(everything) == app.log_position()
    page = queries.trail(app, after_position=everything[9].position, limit=5)
    assert [e.position for e in page] == [e.position for e in everything[10:15]]


def test_trail_summaries_and_times_are_written_when_read_from_the_log(
    app: SupportLedger,
) -> None:
    """The trail stores no summaries: they come from the events in the log when read, the
    same before and after a rebuild; recorded times read back as ISO text in UTC."""
    record_a_paid_award(app)
    Runner(app).catch_up()
    before = queries.trail(app, limit=1000)
    assert len(before) == app.log_position()
    Runner(app).rebuild()
    assert queries.trail(app, limit=1000) == before
    by_kind = {f"{e.aggregate_type}.{e.event_type}": e for e in before}
    granted = by_kind["Award.Granted"]
    assert granted.summary_en.startswith(f"award A-1 granted to {f.USCC_A}: ")
    assert granted.summary_zh.startswith(f"奖补 A-1 授予 {f.USCC_A}：")
    approved = by_kind["Award.DisbursementApproved"]
    assert approved.summary_en == "disbursement D-1 of award A-1 approved"
    assert approved.summary_zh == "奖补 A-1 的拨付 D-1 已审批"
    assert by_kind["Budget.Committed"].summary_en.startswith("budget of M10 ")
    receipt = by_kind["CommandReceipt.Accepted"]
    assert receipt.summary_en.startswith("command accepted: ") and "_" not in receipt.summary_en
    for entry in before:
        (notification,) = app.recorder.select_notifications(start=entry.position, limit=1)
        event = app.mapper.to_domain_event(notification)
        assert entry.recorded_at == recorded_at_text(event.timestamp)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", entry.recorded_at)
        assert entry.aggregate_id == str(event.originator_id)
    assert queries.views_position(app).recorded_at == before[-1].recorded_at


def test_the_worker_follows_the_log_and_stops_cleanly_on_sigterm(
    app: SupportLedger, database_url: str
) -> None:
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url}
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "ledger"), "worker", "--batch-size", "100"],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        position = record_a_paid_award(app)
        (balance,) = queries.enterprise_balances(app, f.USCC_A, min_position=position, timeout_s=20)
        assert balance.paid_fen == 5_000_000
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
        assert time.monotonic() - started < 10
    finally:
        if worker.poll() is None:
            worker.kill()
    stderr = worker.stderr.read() if worker.stderr else ""
    assert "received SIGTERM" in stderr and "worker stopped" in stderr, stderr
