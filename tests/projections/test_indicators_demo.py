"""Every fiscal indicator of the demo year, for the district, each pillar, each measure and
each town, equals its recomputation from the events alone (tests/projections/
indicators_from_events.py), on both stores; so does the monthly payment progress."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from demo_store import YEAR, demo_ledger
from indicators_from_events import Facts, expected, expected_months

from projections.queries.indicators import indicators

DUE_BY = date(YEAR, 12, 31)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return demo_ledger(request, tmp_path_factory)[1]


@pytest.fixture(scope="session")
def facts(demo: Any) -> Facts:
    return Facts(demo)


def _scopes(report: Any) -> list[Any]:
    return [report.district, *report.pillars, *report.measures, *report.towns]


def test_the_demo_year_has_what_every_indicator_counts(demo: Any, facts: Facts) -> None:
    # Without reversals, rejections, a revocation, a clawback, unpaid awards, interest
    # subsidies and implemented transfers, the comparisons below could not tell a rule from
    # its absence.
    for name in ("Award.DisbursementReversed", "Award.DisbursementRejected", "Award.Revoked",
                 "Award.ClawbackOrdered", "Award.ClawbackRecovered", "Budget.Adjusted",
                 "PatentTransfer.Implemented", "Financing.Registered"):  # fmt: skip
        assert facts.seen[name] > 0, name
    assert any(not a["first_paid"] for a in facts.awards.values())
    assert any(a["financing"] for a in facts.awards.values())
    report = indicators(demo, YEAR, due_by=DUE_BY)
    assert len(report.pillars) == 3 and len(report.measures) == 13 and len(report.towns) >= 10
    assert 0 < report.district.on_time_rate < 1  # type: ignore[operator]


@pytest.mark.parametrize("on_time_days", [30, 60])
def test_every_indicator_of_every_scope_equals_its_recomputation_from_the_events(
    demo: Any, facts: Facts, on_time_days: int
) -> None:
    report = indicators(demo, YEAR, on_time_days=on_time_days, due_by=DUE_BY)
    assert report.on_time_days == on_time_days and report.due_by == DUE_BY.isoformat()
    for found in _scopes(report):
        want = expected(facts, YEAR, found.scope, found.key, on_time_days, DUE_BY)
        got = {name: getattr(found, name) for name in want}
        assert got == want, (found.scope, found.key)


def test_a_longer_on_time_threshold_counts_more_payments_on_time(demo: Any) -> None:
    strict = indicators(demo, YEAR, on_time_days=30, due_by=DUE_BY).district
    loose = indicators(demo, YEAR, on_time_days=60, due_by=DUE_BY).district
    assert loose.awards_paid_on_time > strict.awards_paid_on_time
    assert loose.on_time_rate > strict.on_time_rate  # type: ignore[operator]


def test_monthly_progress_of_every_scope_equals_the_events_and_ends_at_the_net_paid(
    demo: Any, facts: Facts
) -> None:
    report = indicators(demo, YEAR, due_by=DUE_BY)
    for found in _scopes(report):
        progress = report.progress_of(found.scope, found.key)
        assert progress is not None
        months, after = expected_months(facts, YEAR, found.scope, found.key)
        assert [p.paid_fen for p in progress.months] == months, (found.scope, found.key)
        assert progress.paid_after_year_fen == after
        cumulative = 0
        for point, month_fen in zip(progress.months, months, strict=True):
            cumulative += month_fen
            assert point.cumulative_paid_fen == cumulative
            if found.appropriated_fen:
                assert point.progress == round(cumulative / found.appropriated_fen, 4)
            else:
                assert point.progress is None
        # net of reversals: the year's cumulative is the scope's net paid
        assert cumulative + after == found.paid_fen, (found.scope, found.key)
    assert [p.month for p in report.progress_of("district").months][::11] == ["2025-01", "2025-12"]  # type: ignore[union-attr]
