"""The indicators' rules on a few hand-made facts, on both stores: paid is net of reversals
(and a reversed payment leaves no trace in the monthly progress), a payment after the year is
shown apart, revoked and not-yet-due awards are not late, towns have no budget rates, and an
empty year or a bad threshold is answered plainly."""

from __future__ import annotations

from datetime import date
from typing import Any

import factories as f
import pytest

from projections.queries.indicators import indicators
from projections.runner import catch_up

YEAR = 2025


@pytest.fixture
def facts(app: Any) -> Any:
    commands = [
        (f.enterprise(), "olga"),
        (f.budget(), "olga"),
        (f.award("A-1"), "olga"),  # granted 2025-04-01, 100,000 yuan
        (f.disbursement("D-1", amount_fen=5_000_000), "olga"),  # paid 2025-05-10
        (f.approve("D-1"), "ada"),
        ({"type": "reverse_disbursement", "reference": "D-1", "reason": "退票 returned"}, "olga"),
        (f.disbursement("D-2", amount_fen=3_000_000, paid_on="2026-01-15"), "olga"),
        (f.approve("D-2"), "ada"),
        (f.award("A-2", amount_fen=1_000_000, granted_on="2025-12-20"), "olga"),  # unpaid
        (f.award("A-3", amount_fen=1_000_000, granted_on="2025-01-10"), "olga"),
        ({"type": "revoke_award", "award_reference": "A-3", "decision_ref": "松市监〔2025〕9号",
          "reason": "迁出 moved away"}, "olga"),
    ]  # fmt: skip
    for result in app.execute_many(commands):
        assert not isinstance(result, Exception), result
    catch_up(app)
    return app


def test_paid_is_net_of_reversals_and_a_payment_after_the_year_is_shown_apart(facts: Any) -> None:
    report = indicators(facts, YEAR, due_by=date(YEAR, 12, 31))
    m10 = report.scope("measure", "M10")
    assert m10 is not None and m10.paid_fen == 3_000_000
    assert m10.execution_rate == round(3_000_000 / 500_000_000, 4)
    assert m10.commitment_rate == round(11_000_000 / 500_000_000, 4)  # A-3's release given back
    progress = report.progress_of("measure", "M10")
    assert progress is not None and all(p.paid_fen == 0 for p in progress.months)
    assert progress.paid_after_year_fen == 3_000_000
    # the first approved payment still dates the award (39 days), although it was reversed
    assert m10.awards_paid == 1 and m10.median_days_to_payment == 39.0 and m10.p90_days_to_payment == 39


def test_revoked_and_not_yet_due_awards_are_not_late_until_their_time_has_passed(facts: Any) -> None:
    at_year_end = indicators(facts, YEAR, due_by=date(YEAR, 12, 31)).district
    assert (at_year_end.awards_due, at_year_end.awards_paid_on_time) == (1, 0)  # 39 > 30 days
    later = indicators(facts, YEAR, on_time_days=40, due_by=date(2026, 2, 1)).district  # 43 days
    assert (later.awards_due, later.awards_paid_on_time, later.on_time_rate) == (2, 1, 0.5)


def test_a_town_has_no_budget_rates_and_an_empty_year_has_no_ratios(facts: Any) -> None:
    town = indicators(facts, YEAR).scope("town", f.TOWN)
    assert town is not None and town.paid_fen == 3_000_000
    assert (town.appropriated_fen, town.execution_rate, town.balance_rate) == (None, None, None)
    empty = indicators(facts, 2030)
    assert empty.district.paid_fen == 0 and empty.district.execution_rate is None
    assert empty.towns == () and [p.cumulative_paid_fen for p in empty.progress_of("district").months] == [0] * 12  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        indicators(facts, YEAR, on_time_days=0)
