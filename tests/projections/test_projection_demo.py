"""After `ledger demo` and `ledger project`, `ledger balances` agrees with `ledger show` for
every award, budget and enterprise of the demo year."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from click.testing import CliRunner

from ledger.cli import cli
from ledger.current_state import award_state, budget_state, enterprise_state
from ledger.demo import load_demo
from ledger.storage import open_ledger
from projections import queries

YEAR = 2025
SHOWN_AMOUNTS = (
    "granted_fen", "revoked_fen", "paid_fen", "pending_fen", "reversed_fen",
    "clawback_ordered_fen", "clawback_recovered_fen",
)  # fmt: skip


@pytest.mark.slow
def test_balances_agree_with_show_for_every_award_budget_and_enterprise(database_url: str) -> None:
    app = open_ledger(database_url)
    try:
        load_demo(app, seed=2025, fiscal_year=YEAR, password=None)
        runner = CliRunner()
        result = runner.invoke(cli, ["--database-url", database_url, "project"])
        assert result.exit_code == 0, result.output

        # Awards: every one, field by field.
        awards = []
        while len(awards) % 1000 == 0:
            page = runner.invoke(cli, ["--database-url", database_url, "balances", "award",
                                       "--offset", str(len(awards)), "--json"])  # fmt: skip
            rows = json.loads(page.output) if page.exit_code == 0 else []
            if not rows:
                break
            awards += rows
        assert len(awards) > 1_500
        per_enterprise: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        seen = {"revoked": 0, "reversed": 0, "clawed back": 0}
        for balance in awards:
            shown = award_state(app, balance["reference"])
            assert shown is not None
            for name in ("uscc", "measure", "item", "fiscal_year", "decision_ref", "granted_on",
                         "revoked", *SHOWN_AMOUNTS):  # fmt: skip
                assert balance[name] == shown[name], (balance["reference"], name)
            paid = shown["paid_fen"]
            assert balance["outstanding_fen"] == shown["granted_fen"] - shown["revoked_fen"] - paid
            seen["revoked"] += shown["revoked"]
            seen["reversed"] += bool(shown["reversed_fen"])
            seen["clawed back"] += bool(shown["clawback_ordered_fen"])
            for name in SHOWN_AMOUNTS:
                per_enterprise[shown["uscc"]][name] += shown[name]
        assert all(seen.values()), seen  # the demo exercises every correction

        # Budgets: every measure of the year.
        for measure in queries.measure_balances(app, fiscal_year=YEAR):
            shown = budget_state(app, measure.measure, YEAR)
            assert shown is not None
            assert measure.appropriated_fen == shown["appropriated_fen"] + shown["adjusted_fen"]
            assert measure.adjusted_fen == shown["adjusted_fen"]
            assert measure.committed_fen == shown["committed_fen"]
            assert measure.released_fen == shown["released_fen"]
            assert measure.remaining_fen == shown["remaining_fen"]

        # Enterprises: registration as shown, and balances = the sum of their awards as shown.
        listed = queries.enterprises(app, limit=1000)
        assert len(listed) >= 300
        for summary in listed:
            shown = enterprise_state(app, summary.uscc)
            assert shown is not None
            assert (summary.name, summary.town_code, summary.industry) == (
                shown["name"], shown["town_code"], shown["industry"],
            )  # fmt: skip
            balances = queries.enterprise_balances(app, summary.uscc, YEAR)
            expected = per_enterprise.get(summary.uscc)
            if expected is None:
                assert balances == []
                continue
            (balance,) = balances
            for name in SHOWN_AMOUNTS:
                assert getattr(balance, name) == expected[name], (summary.uscc, name)
            capped = shown["committed_fen_by_year"].get(str(YEAR), 0)
            assert capped <= balance.granted_fen - balance.revoked_fen
    finally:
        app.close()
