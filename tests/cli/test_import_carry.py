"""A bulk import's batches start from the aggregates the batch before saved (`AggregateCarry`),
with every event another writer stored meanwhile applied: each line is still checked against
the store as it is. Both stores, real writers.

The other writer acts between two batches of the import (the lines are a generator: the
importer asks for the next line only after sending the batch before), on each kind of
aggregate the carry holds: a budget (got on its own), an award (preloaded with the batch) and
a user (the actor). The user is only read: a carry that kept it as it was saved accepts the
lines of an officer who is one no more (checked: that test fails so). The budget and the
award are written, so a stale one would also meet the other writer's events as a conflict
and the batch be redone; those tests hold the outcome either way. And an import in batches
records the very events (ids, versions, topics, states but their times) that the same
commands sent one by one do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import factories as f

from ledger.application import SupportLedger
from ledger.errors import LedgerError
from ledger.importer import Line, import_lines
from ledger.storage import open_ledger


def run_import(app: SupportLedger, batches: list[list[dict[str, Any]]], between: Any) -> list[str]:
    """Import the batches (one import, a batch per transaction), calling `between(n)` after
    batch n was sent; the codes of the rejected lines, in order."""

    def lines() -> Iterator[Line]:
        number = 0
        for n, batch in enumerate(batches):
            if n:
                between(n)
            for command in batch:
                number += 1
                yield Line(number, command, "olga")

    size = len(batches[0])
    assert all(len(batch) == size for batch in batches)
    report = import_lines(app, lines(), default_actor=None, batch_size=size)
    return [rejection.code for rejection in report.rejected]


def test_a_budget_spent_by_another_writer_between_batches_is_seen(
    app: SupportLedger, database_url: str
) -> None:
    app.execute(f.enterprise(f.USCC_A), "olga")
    app.execute(f.enterprise(f.USCC_B), "olga")
    app.execute(f.budget(amount_fen=30_000_000), "olga")
    other = open_ledger(database_url)
    try:
        between = lambda _n: other.execute(  # noqa: E731
            f.award("X-1", uscc=f.USCC_B, amount_fen=15_000_000), "oscar"
        )
        codes = run_import(app, [
            [f.award("A-1", amount_fen=10_000_000), f.award("A-0", uscc=f.USCC_B, amount_fen=1)],
            [f.award("A-2", amount_fen=10_000_000), f.award("A-3", amount_fen=4_000_000)],
        ], between)  # fmt: skip
    finally:
        other.close()
    # 10 + 15 of 30 million fen committed: 10 more is refused, 4 more fits
    assert codes == ["budget_exceeded"]


def test_a_payment_recorded_by_another_writer_between_batches_is_seen(
    app: SupportLedger, database_url: str
) -> None:
    app.execute(f.enterprise(f.USCC_A), "olga")
    app.execute(f.budget(), "olga")
    other = open_ledger(database_url)
    try:
        between = lambda _n: other.execute(  # noqa: E731
            f.disbursement("D-9", amount_fen=3_000_000), "oscar"
        )
        codes = run_import(app, [
            [f.award("A-1", amount_fen=10_000_000), f.disbursement("D-1", amount_fen=6_000_000)],
            [f.disbursement("D-2", amount_fen=2_000_000), f.disbursement("D-3", amount_fen=1_000_000)],
        ], between)  # fmt: skip
    finally:
        other.close()
    # 6 + 3 of the award's 10 million fen paid: 2 more is an overpayment, 1 more fits
    assert codes == ["overpayment"]


def test_a_role_revoked_by_another_writer_between_batches_is_seen(
    app: SupportLedger, database_url: str
) -> None:
    app.execute(f.budget(), "olga")
    other = open_ledger(database_url)
    try:
        between = lambda _n: other.revoke_role("olga", "officer", actor="admin")  # noqa: E731
        codes = run_import(app, [
            [f.enterprise(f.USCC_A), f.award("A-1", amount_fen=10_000)],
            [f.enterprise(f.USCC_B), f.award("A-2", uscc=f.USCC_B, amount_fen=10_000)],
        ], between)  # fmt: skip
    finally:
        other.close()
    assert codes == ["forbidden", "forbidden"]


def stored(app: SupportLedger, after: int) -> list[tuple[str, int, str, dict[str, Any]]]:
    rows = []
    for n in app.recorder.select_notifications(start=after, limit=10_000, inclusive_of_start=False):
        state = json.loads(n.state)
        state.pop("timestamp")
        oid = n.originator_id.hex if hasattr(n.originator_id, "hex") else str(n.originator_id)
        rows.append((oid, n.originator_version, n.topic, state))
    return rows


def workload() -> list[dict[str, Any]]:
    commands: list[dict[str, Any]] = [f.budget(amount_fen=25_000_000)]
    usccs = [f.synthetic_uscc(n) for n in range(3)]
    commands += [f.enterprise(uscc) for uscc in usccs]
    for n in range(9):
        commands.append(f.award(f"A-{n}", uscc=usccs[n % 3], amount_fen=3_000_000))
    for n in range(9):  # the ninth award is over the budget: its payments are refused
        commands.append(f.disbursement(f"D-{n}", award_reference=f"A-{n}", amount_fen=2_000_000))
        commands.append(f.approve(f"D-{n}") | {"actor": "ada"})
        commands.append(f.disbursement(f"E-{n}", award_reference=f"A-{n}", amount_fen=1_000_000))
    commands.append(f.award("A-1"))  # a duplicate of a different content: a conflict
    return commands


def test_an_import_in_batches_records_what_one_by_one_records(
    app: SupportLedger, tmp_path: Any
) -> None:
    alone = open_ledger(f"sqlite:///{tmp_path}/one-by-one.sqlite3")
    try:
        alone.define_measures()
        alone.register_user("admin", ["admin"], actor="")
        for name, roles in (("olga", ["officer"]), ("ada", ["approver"])):
            alone.register_user(name, roles, actor="admin")
        before_alone, before = alone.log_position(), app.log_position()
        codes_alone = []
        for command in workload():
            actor = command.pop("actor", "olga")
            try:
                alone.execute(command, actor)
            except LedgerError as error:
                codes_alone.append(error.code)
        lines = []
        for n, command in enumerate(workload(), start=1):
            actor = command.pop("actor", "olga")
            lines.append(Line(n, command, actor))
        report = import_lines(app, iter(lines), default_actor=None, batch_size=4)
        assert [r.code for r in report.rejected] == codes_alone
        assert codes_alone.count("overpayment") == 0 and "budget_exceeded" in codes_alone
        assert stored(app, before) == stored(alone, before_alone)
    finally:
        alone.close()
