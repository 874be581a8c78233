"""Invariants hold with many writers at once (optimistic concurrency, retried).

Eight threads, each with its own application object (its own connections), race to commit
more than a budget, an enterprise's cap, or an award holds; and, once, separate processes do.
Afterwards the totals are exact, every accepted command is stored, every refusal has the
expected code, nothing is doubled. Every race also counts the concurrent-write conflicts the
ledger retried (tests/conflicts.py) and requires at least one: a run in which the writers never
collided would prove nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conflicts import counting_conflicts
from factories import USCC_A, award, budget, disbursement, enterprise, synthetic_uscc

from ledger.application import SupportLedger
from ledger.current_state import award_state, budget_state, enterprise_state
from ledger.domain import Award, Budget, CommandReceipt
from ledger.errors import LedgerError
from ledger.storage import open_ledger

WRITERS = 8
#: The race between processes: this many `writer_process.py` interpreters on the same store.
PROCESSES = 4
WRITER_PROCESS = Path(__file__).with_name("writer_process.py")


def race(database_url: str, jobs: list[list[tuple[dict[str, Any], str]]]) -> list[Any]:
    """Run each job (a list of commands) in its own thread and ledger; return all results,
    once at least one concurrent-write conflict was retried (else the run proved nothing)."""
    results: list[Any] = []
    lock = threading.Lock()
    start = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job: list[tuple[dict[str, Any], str]]) -> None:
        writer = None
        try:
            writer = open_ledger(database_url)
            start.wait()
            for command, actor in job:
                try:
                    outcome: Any = writer.execute(command, actor)
                except LedgerError as error:
                    outcome = error
                with lock:
                    results.append((command, outcome))
        except BaseException as exc:  # a crash in a thread must fail the test
            failures.append(exc)
            start.abort()
        finally:
            if writer is not None:
                writer.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    with counting_conflicts() as conflicts:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert not failures, failures
    print(f"conflicts retried: {conflicts.conflicts}")
    assert conflicts.conflicts > 0, "the writers never conflicted: this run raced nothing"
    return results


def events_of(app: SupportLedger, aggregate_id: Any) -> list[Any]:
    return list(app.events.get(aggregate_id))


def an_award_of_100000_yuan(app: SupportLedger) -> None:
    """Enterprise A, the M10 budget, and award A-1 of 100,000 yuan to A."""
    app.execute(enterprise(USCC_A), "olga")
    app.execute(budget(), "olga")
    app.execute(award(amount_fen=10_000_000), "olga")


def payments_of_5000_yuan(writers: int, each: int) -> list[list[tuple[dict[str, Any], str]]]:
    """For each writer, ``each`` payments of 5,000 yuan against A-1 (references all distinct)."""
    return [
        [(disbursement(f"D-{w}-{i}", amount_fen=500_000), "olga") for i in range(each)]
        for w in range(writers)
    ]


def payments_recorded(app: SupportLedger, award_reference: str = "A-1") -> list[str]:
    """The references of every payment recorded against an award, from its stored events."""
    return [e.reference for e in events_of(app, Award.create_id(award_reference))
            if type(e).__name__ == "DisbursementRecorded"]  # fmt: skip


@pytest.mark.slow
def test_concurrent_awards_never_over_commit_a_budget(app: SupportLedger, database_url: str) -> None:
    usccs = [synthetic_uscc(n) for n in range(WRITERS * 5)]
    app.execute_many([(enterprise(u), "olga") for u in usccs])
    app.execute(budget("B-M05", measure="M05", amount_fen=1_000_000_000), "olga")  # 1000万 yuan
    # 40 awards of 50万 each = 2000万 yuan wanted, 1000万 available: 20 fit exactly.
    jobs = [
        [(award(f"A-{w}-{i}", uscc=usccs[w * 5 + i], measure="M05", item="shanghai_standard",
                amount_fen=50_000_000), "olga" if i % 2 else "oscar") for i in range(5)]
        for w in range(WRITERS)
    ]  # fmt: skip
    results = race(database_url, jobs)
    accepted = [c for c, r in results if not isinstance(r, LedgerError)]
    codes = Counter(r.code for _, r in results if isinstance(r, LedgerError))
    assert set(codes) <= {"budget_exceeded"}
    assert len(accepted) == 20
    state = budget_state(app, "M05", 2025)
    assert state["committed_fen"] == 20 * 50_000_000 == 1_000_000_000
    assert state["remaining_fen"] == 0
    for command in accepted:
        assert award_state(app, command["reference"])["granted_fen"] == 50_000_000
        assert events_of(app, CommandReceipt.create_id("grant_award", command["reference"]))
    committed = [e for e in events_of(app, Budget.create_id("M05", 2025)) if type(e).__name__ == "Committed"]
    assert sorted(e.award_reference for e in committed) == sorted(c["reference"] for c in accepted)


@pytest.mark.slow
def test_concurrent_awards_never_exceed_an_enterprise_cap(app: SupportLedger, database_url: str) -> None:
    app.execute(enterprise(USCC_A), "olga")
    app.execute(budget(amount_fen=5_000_000_000), "olga")
    # 8 writers × 3 awards of 10万 yuan to one enterprise; the cap of 100万 admits 10.
    jobs = [
        [(award(f"A-{w}-{i}", amount_fen=10_000_000), "olga") for i in range(3)]
        for w in range(WRITERS)
    ]
    results = race(database_url, jobs)
    accepted = [c for c, r in results if not isinstance(r, LedgerError)]
    assert {r.code for _, r in results if isinstance(r, LedgerError)} <= {"cap_exceeded"}
    assert len(accepted) == 10
    assert enterprise_state(app, USCC_A)["committed_fen_by_year"]["2025"] == 100_000_000
    assert budget_state(app, "M10", 2025)["committed_fen"] == 100_000_000


@pytest.mark.slow
def test_concurrent_payments_never_over_pay_an_award(app: SupportLedger, database_url: str) -> None:
    an_award_of_100000_yuan(app)
    # 8 writers × 4 payments of 5,000 yuan against an award of 100,000 yuan: 20 fit.
    jobs = payments_of_5000_yuan(WRITERS, 4)
    results = race(database_url, jobs)
    accepted = [c for c, r in results if not isinstance(r, LedgerError)]
    assert {r.code for _, r in results if isinstance(r, LedgerError)} <= {"overpayment"}
    assert len(accepted) == 20
    assert award_state(app, "A-1")["pending_fen"] == 10_000_000
    recorded = payments_recorded(app)
    assert len(recorded) == 20 == len(set(recorded))


@pytest.mark.slow
def test_the_same_command_from_many_writers_records_once(app: SupportLedger, database_url: str) -> None:
    app.execute(enterprise(USCC_A), "olga")
    app.execute(budget(), "olga")
    # Every writer sends the same four commands (four chances to collide), in the same order.
    same = [(award(f"A-{i}", amount_fen=10_000_000), "olga") for i in range(4)]
    results = race(database_url, [list(same) for _ in range(WRITERS)])
    statuses = Counter(r.status for _, r in results)
    assert statuses == {"recorded": 4, "duplicate": 4 * (WRITERS - 1)}
    for command, _ in same:
        assert Counter(r.status for c, r in results if c == command)["recorded"] == 1
    assert budget_state(app, "M10", 2025)["committed_fen"] == 4 * 10_000_000


def race_processes(
    database_url: str, jobs: list[list[tuple[dict[str, Any], str]]]
) -> tuple[list[dict[str, Any]], int]:
    """Run each job in a process of its own (writer_process.py), all started at once; return
    every command's result and how many conflicts the processes retried in all."""
    writers = [
        subprocess.Popen(
            [sys.executable, str(WRITER_PROCESS), database_url, json.dumps(job)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for job in jobs
    ]
    try:
        for writer in writers:
            assert writer.stdout is not None and writer.stdin is not None
            if writer.stdout.readline().strip() != "ready":
                writer.kill()
                pytest.fail(f"a writer process did not start: {writer.communicate()[1]}")
        for writer in writers:  # the start signal, to every writer at once
            writer.stdin.write("go\n")  # type: ignore[union-attr]
            writer.stdin.flush()  # type: ignore[union-attr]
        outputs = [writer.communicate(timeout=300) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
    results: list[dict[str, Any]] = []
    conflicts = 0
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        report = json.loads(out.strip().splitlines()[-1])
        results += report["results"]
        conflicts += report["conflicts"]
    return results, conflicts


@pytest.mark.slow
def test_writers_in_separate_processes_never_over_pay_an_award(
    app: SupportLedger, database_url: str
) -> None:
    an_award_of_100000_yuan(app)
    # 4 processes × 8 payments of 5,000 yuan against an award of 100,000 yuan: 20 fit.
    jobs = payments_of_5000_yuan(PROCESSES, 8)
    results, conflicts = race_processes(database_url, jobs)
    print(f"conflicts retried: {conflicts}")
    assert conflicts > 0, "the processes never conflicted: this run raced nothing"
    assert len(results) == PROCESSES * 8
    assert {r["code"] for r in results if "code" in r} <= {"overpayment"}
    accepted = sorted(r["reference"] for r in results if r.get("status") == "recorded")
    assert len(accepted) == 20
    assert award_state(app, "A-1")["pending_fen"] == 10_000_000
    assert sorted(payments_recorded(app)) == accepted
