"""Command objects and dicts are one vocabulary to the ledger, on both stores; refusals say
their amounts in yuan."""

from __future__ import annotations

from datetime import date

import pytest
from factories import USCC_A, YEAR, award, budget, enterprise

from ledger import commands as c
from ledger.application import SupportLedger
from ledger.current_state import award_state
from ledger.errors import BudgetExceeded, LedgerError
from ledger.money import format_yuan


def grant(reference: str, amount_fen: int) -> c.GrantAward:
    return c.GrantAward(reference=reference, uscc=USCC_A, measure="M10", item="high_value_patent_cultivation",
                        fiscal_year=YEAR, amount_fen=amount_fen, decision_ref="松市监〔2025〕12号",
                        granted_on=date(2025, 4, 1))  # fmt: skip


def test_a_command_object_is_recorded_and_its_dict_is_then_a_duplicate(app: SupportLedger) -> None:
    app.execute_many([(enterprise(), "olga"), (budget(), "olga")])
    outcome = app.execute(grant("A-1", 10_000_000), "olga")
    assert outcome.status == "recorded" and outcome.position == app.log_position()
    assert award_state(app, "A-1")["granted_fen"] == 10_000_000  # type: ignore[index]
    assert app.execute(award("A-1"), "olga").status == "duplicate"


def test_objects_and_dicts_mix_in_one_batch(app: SupportLedger) -> None:
    results = app.execute_many([
        (enterprise(), "olga"), (budget(), "olga"), (grant("A-1", 1_000_000), "olga"),
        (award("A-2", amount_fen=2_000_000), "olga"), (grant("A-3", 0), "olga"),
    ])  # fmt: skip
    assert [getattr(r, "status", None) or r.code for r in results] == [
        "recorded", "recorded", "recorded", "recorded", "validation_error"
    ]
    assert award_state(app, "A-3") is None


def test_a_refusal_says_its_amounts_in_yuan_and_records_nothing(app: SupportLedger) -> None:
    app.execute_many([(enterprise(), "olga"), (budget(amount_fen=1_234_56), "olga")])
    before = app.log_position()
    with pytest.raises(LedgerError) as caught:
        app.execute(grant("A-1", 2_000_00), "olga")
    error = caught.value
    assert isinstance(error, BudgetExceeded) and app.log_position() == before
    assert f"{format_yuan(2_000_00)} 元" in error.message_zh and "1,234.56 元" in error.message_zh
    assert "2,000.00 yuan" in error.message_en and "1,234.56 yuan" in error.message_en
    assert "分" not in error.message_zh and " fen" not in error.message_en
    assert error.to_dict()["details"] == {"remaining_fen": 1_234_56}
