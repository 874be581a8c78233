"""Every rule of the ledger and every stable error code, on both stores.

Each test breaks one rule, checks the code it gets back, and checks that nothing was recorded.
"""

from __future__ import annotations

from typing import Any

import pytest
from factories import (
    USCC_A,
    USCC_B,
    approve,
    award,
    budget,
    disbursement,
    enterprise,
    financing,
    transfer,
)

from ledger.application import SupportLedger
from ledger.current_state import award_state, budget_state, enterprise_state
from ledger.errors import ERROR_CODES, LedgerError


def refused(app: SupportLedger, command: dict[str, Any], actor: str = "olga") -> LedgerError:
    """Send a command that must be refused; return the error after checking nothing changed."""
    before = app.log_position()
    with pytest.raises(LedgerError) as caught:
        app.execute(command, actor)
    assert app.log_position() == before, "a refused command recorded something"
    return caught.value


@pytest.fixture
def funded(app: SupportLedger) -> SupportLedger:
    """A ledger with two enterprises and an M10 budget of 500万 yuan for 2025."""
    for command in (enterprise(USCC_A), enterprise(USCC_B, name="另一家公司"), budget()):
        app.execute(command, "olga")
    return app


@pytest.fixture
def granted(funded: SupportLedger) -> SupportLedger:
    """…plus award A-1 of 10万 yuan to enterprise A."""
    funded.execute(award(), "olga")
    return funded


@pytest.fixture
def paid(granted: SupportLedger) -> SupportLedger:
    """…plus disbursement D-1 of 5万 yuan recorded by olga and approved by ada."""
    granted.execute(disbursement(), "olga")
    granted.execute(approve(), "ada")
    return granted


# -- the happy path -----------------------------------------------------------------------------


def test_an_award_commits_the_budget_and_the_enterprise_cap(granted: SupportLedger) -> None:
    assert budget_state(granted, "M10", 2025)["committed_fen"] == 10_000_000
    assert budget_state(granted, "M10", 2025)["remaining_fen"] == 490_000_000
    assert enterprise_state(granted, USCC_A)["committed_fen_by_year"] == {"2025": 10_000_000}


def test_a_second_officer_must_approve_a_disbursement(paid: SupportLedger) -> None:
    state = award_state(paid, "A-1")
    assert (state["paid_fen"], state["pending_fen"]) == (5_000_000, 0)


def test_commands_return_the_log_position_they_reached(funded: SupportLedger) -> None:
    outcome = funded.execute(award(), "olga")
    assert outcome.status == "recorded"
    assert outcome.position == funded.log_position()


# -- idempotency --------------------------------------------------------------------------------


def test_the_same_command_twice_records_once(granted: SupportLedger) -> None:
    before = granted.log_position()
    outcome = granted.execute(award(), "oscar")  # another officer sends it again
    assert outcome.status == "duplicate"
    assert outcome.position is None
    assert granted.log_position() == before
    assert budget_state(granted, "M10", 2025)["committed_fen"] == 10_000_000


def test_a_reference_reused_with_other_content_is_a_conflict(granted: SupportLedger) -> None:
    assert refused(granted, award(amount_fen=20_000_000)).code == "reference_conflict"


def test_a_rejected_command_reserves_nothing(funded: SupportLedger) -> None:
    assert refused(funded, award(amount_fen=600_000_000, item="shanghai_ip_innovation_award")).code
    funded.execute(award(), "olga")  # the same reference, corrected, records
    assert award_state(funded, "A-1")["granted_fen"] == 10_000_000


def test_a_repeated_enterprise_registration_is_a_duplicate(funded: SupportLedger) -> None:
    assert funded.execute(enterprise(USCC_A), "oscar").status == "duplicate"
    assert refused(funded, enterprise(USCC_A, name="改名")).code == "reference_conflict"


def test_each_approval_is_idempotent_by_the_disbursement_reference(paid: SupportLedger) -> None:
    assert paid.execute(approve(), "ada").status == "duplicate"


# -- shape and identifiers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount_fen": 12.5}, "validation_error"),
        ({"amount_fen": "1000"}, "validation_error"),
        ({"amount_fen": True}, "validation_error"),
        ({"amount_fen": -5}, "validation_error"),
        ({"granted_on": "2025/04/01"}, "validation_error"),
        ({"colour": "red"}, "validation_error"),
        ({"reference": ""}, "validation_error"),
        ({"uscc": "914403001922038217"}, "invalid_uscc"),
        ({"measure": "M14"}, "validation_error"),
    ],
)
def test_a_malformed_award_is_refused_with_its_code(
    funded: SupportLedger, change: dict[str, Any], code: str
) -> None:
    error = refused(funded, award(**change))
    assert error.code == code
    assert error.message_zh and error.message_en


def test_a_missing_field_is_named(funded: SupportLedger) -> None:
    command = award()
    del command["decision_ref"]
    error = refused(funded, command)
    assert error.code == "validation_error"
    assert "decision_ref" in error.details["fields"]


def test_an_unknown_command_type_is_a_validation_error(app: SupportLedger) -> None:
    assert refused(app, {"type": "pay_everyone"}).code == "validation_error"


def test_a_bad_patent_number_is_refused(funded: SupportLedger) -> None:
    assert refused(funded, transfer(patent_no="202310123456.7")).code == "invalid_patent_no"


def test_a_bad_collateral_number_is_refused(funded: SupportLedger) -> None:
    assert refused(funded, financing(collateral=["ZL201310699744.3"])).code == "invalid_patent_no"


def test_a_town_outside_songjiang_is_refused(app: SupportLedger) -> None:
    assert refused(app, enterprise(town_code="310116001")).code == "invalid_town"


# -- actors and roles ---------------------------------------------------------------------------


def test_an_unknown_actor_is_refused(funded: SupportLedger) -> None:
    assert refused(funded, award(), actor="mallory").code == "unknown_actor"


def test_a_viewer_may_not_record(funded: SupportLedger) -> None:
    assert refused(funded, award(), actor="vic").code == "forbidden"


def test_an_officer_may_not_approve(granted: SupportLedger) -> None:
    granted.execute(disbursement(), "olga")
    assert refused(granted, approve(), actor="oscar").code == "forbidden"


def test_the_shape_is_checked_before_the_actor(funded: SupportLedger) -> None:
    assert refused(funded, award(amount_fen=1.5), actor="mallory").code == "validation_error"


def test_the_actor_is_checked_before_duplicates(granted: SupportLedger) -> None:
    assert refused(granted, award(), actor="vic").code == "forbidden"


def test_only_an_admin_registers_users(app: SupportLedger) -> None:
    with pytest.raises(LedgerError) as caught:
        app.register_user("eve", ["admin"], actor="olga")
    assert caught.value.code == "forbidden"
    assert app.get_user("eve") is None


def test_a_token_identifies_its_user_until_it_is_tampered_with(app: SupportLedger) -> None:
    token = app.register_user("tina", ["viewer"], actor="admin")
    assert app.user_for_token(token).name == "tina"
    assert app.user_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert app.user_for_token("nobody.x.y") is None


# -- things named must exist --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (award(uscc="91330100716105852F"), "unknown_enterprise"),
        (award(item="free_money"), "unknown_item"),
        (disbursement(award_reference="A-404"), "unknown_award"),
        (approve("D-404"), "unknown_disbursement"),
        ({"type": "reject_disbursement", "reference": "D-404", "reason": "x"}, "unknown_disbursement"),
        ({"type": "reverse_disbursement", "reference": "D-404", "reason": "x"}, "unknown_disbursement"),
        ({"type": "revoke_award", "award_reference": "A-404", "decision_ref": "d", "reason": "x"}, "unknown_award"),
        ({"type": "order_clawback", "reference": "C-1", "award_reference": "A-404", "amount_fen": 1,
          "decision_ref": "d", "reason": "x"}, "unknown_award"),
        ({"type": "record_transfer_outcome", "reference": "T-404", "outcome": "implemented",
          "on": "2025-06-01"}, "unknown_transfer"),
        ({"type": "record_financing_event", "reference": "F-404", "event": "drawn",
          "on": "2025-06-01", "amount_fen": 1}, "unknown_financing"),
        (award(financing_reference="F-404", measure="M11", item="pledge_loan_interest_subsidy"),
         "unknown_financing"),
        (transfer(uscc="91330100716105852F"), "unknown_enterprise"),
    ],
)  # fmt: skip
def test_a_command_naming_something_unknown_is_refused(
    funded: SupportLedger, command: dict[str, Any], code: str
) -> None:
    approving = command["type"] in ("approve_disbursement", "reject_disbursement")
    assert refused(funded, command, actor="ada" if approving else "olga").code == code


def test_a_measure_that_was_never_defined_is_unknown(database_url: str) -> None:
    from ledger.storage import open_ledger

    bare = open_ledger(database_url)  # no `ledger init`: no measures
    bare.register_user("olga", ["officer"], actor="")
    try:
        assert refused(bare, budget(), actor="olga").code == "unknown_measure"
    finally:
        bare.close()


# -- budgets ------------------------------------------------------------------------------------


def test_an_award_without_an_appropriation_is_no_budget(funded: SupportLedger) -> None:
    command = award(measure="M06", item="lead_local_standard")
    assert refused(funded, command).code == "no_budget"


def test_a_budget_is_never_over_committed(funded: SupportLedger) -> None:
    funded.execute(budget("B-M05", measure="M05", amount_fen=60_000_000), "olga")
    funded.execute(award("A-1", measure="M05", item="shanghai_standard", amount_fen=50_000_000), "olga")
    second = award("A-2", uscc=USCC_B, measure="M05", item="shanghai_standard", amount_fen=20_000_000)
    error = refused(funded, second)
    assert error.code == "budget_exceeded"
    assert budget_state(funded, "M05", 2025)["committed_fen"] == 50_000_000


def test_a_budget_cut_below_what_is_committed_is_refused(granted: SupportLedger) -> None:
    cut = {"type": "adjust_budget", "reference": "ADJ-1", "measure": "M10", "fiscal_year": 2025,
           "delta_fen": -495_000_000, "decision_ref": "d", "reason": "cut"}  # fmt: skip
    assert refused(granted, cut).code == "budget_exceeded"
    granted.execute({**cut, "delta_fen": -490_000_000}, "olga")
    assert budget_state(granted, "M10", 2025)["remaining_fen"] == 0


# -- amounts ------------------------------------------------------------------------------------


def test_an_award_above_the_item_maximum_is_refused(funded: SupportLedger) -> None:
    command = award(item="china_patent_award_excellent", amount_fen=20_000_001)
    assert refused(funded, command).code == "above_item_maximum"


def test_an_enterprise_never_exceeds_its_annual_cap(funded: SupportLedger) -> None:
    funded.execute(award("A-1", item="shanghai_ip_innovation_award", amount_fen=90_000_000), "olga")
    error = refused(funded, award("A-2", amount_fen=10_000_001))
    assert error.code == "cap_exceeded"
    funded.execute(award("A-2", amount_fen=10_000_000), "olga")  # exactly the cap
    assert enterprise_state(funded, USCC_A)["committed_fen_by_year"]["2025"] == 100_000_000


def test_national_honours_are_outside_the_annual_cap(funded: SupportLedger) -> None:
    funded.execute(award("A-1", item="shanghai_ip_innovation_award", amount_fen=100_000_000), "olga")
    funded.execute(award("A-2", item="china_patent_award_gold", amount_fen=100_000_000), "olga")
    assert enterprise_state(funded, USCC_A)["committed_fen_by_year"]["2025"] == 100_000_000


def test_the_item_maximum_is_checked_before_the_cap_and_the_budget(funded: SupportLedger) -> None:
    funded.execute(award("A-1", item="shanghai_ip_innovation_award", amount_fen=100_000_000), "olga")
    command = award("A-2", item="china_patent_award_excellent", amount_fen=900_000_000)
    assert refused(funded, command).code == "above_item_maximum"


def test_the_cap_is_checked_before_the_budget(funded: SupportLedger) -> None:
    funded.execute(budget("B-M05", measure="M05", amount_fen=10_000_000), "olga")
    command = award("A-2", measure="M05", item="shanghai_standard", amount_fen=50_000_000)
    funded.execute(award("A-1", item="shanghai_ip_innovation_award", amount_fen=90_000_000), "olga")
    assert refused(funded, command).code == "cap_exceeded"


def test_a_payment_may_not_exceed_what_is_owed(granted: SupportLedger) -> None:
    granted.execute(disbursement("D-1", amount_fen=6_000_000), "olga")
    assert refused(granted, disbursement("D-2", amount_fen=4_000_001)).code == "overpayment"
    granted.execute(disbursement("D-2", amount_fen=4_000_000), "olga")


def test_an_officer_cannot_approve_a_payment_it_recorded(granted: SupportLedger) -> None:
    granted.register_user("pat", ["officer", "approver"], actor="admin")
    granted.execute(disbursement(), "pat")
    assert refused(granted, approve(), actor="pat").code == "self_approval"
    granted.execute(approve(), "ada")


def test_only_a_pending_payment_can_be_approved_or_rejected(paid: SupportLedger) -> None:
    reject = {"type": "reject_disbursement", "reference": "D-1", "reason": "late"}
    assert refused(paid, reject, actor="ada").code == "invalid_state"


def test_only_an_approved_payment_can_be_reversed(granted: SupportLedger) -> None:
    granted.execute(disbursement(), "olga")
    reverse = {"type": "reverse_disbursement", "reference": "D-1", "reason": "bank return"}
    assert refused(granted, reverse).code == "invalid_state"
    granted.execute(approve(), "ada")
    granted.execute(reverse, "olga")
    state = award_state(granted, "A-1")
    assert (state["paid_fen"], state["reversed_fen"]) == (0, 5_000_000)
    assert refused(granted, {**reverse, "reason": "again"}).code == "reference_conflict"


def test_a_rejected_payment_frees_its_amount(granted: SupportLedger) -> None:
    granted.execute(disbursement(amount_fen=10_000_000), "olga")  # the whole award, pending
    assert refused(granted, disbursement("D-2", amount_fen=1)).code == "overpayment"
    granted.execute({"type": "reject_disbursement", "reference": "D-1", "reason": "x"}, "ada")
    state = award_state(granted, "A-1")
    assert (state["pending_fen"], state["paid_fen"]) == (0, 0)
    assert granted.execute(disbursement("D-2", amount_fen=10_000_000), "olga").status == "recorded"
    state = award_state(granted, "A-1")
    assert (state["pending_fen"], state["paid_fen"]) == (10_000_000, 0)


# -- revocation and clawback --------------------------------------------------------------------


def revoke(reference: str = "A-1") -> dict[str, Any]:
    return {"type": "revoke_award", "award_reference": reference, "decision_ref": "撤〔2025〕1号",
            "reason": "moved away"}  # fmt: skip


def test_revoking_releases_the_unpaid_part(paid: SupportLedger) -> None:
    paid.execute(revoke(), "olga")
    assert award_state(paid, "A-1")["revoked_fen"] == 5_000_000
    assert budget_state(paid, "M10", 2025)["released_fen"] == 5_000_000
    assert enterprise_state(paid, USCC_A)["committed_fen_by_year"]["2025"] == 5_000_000


def test_revoking_is_refused_while_a_payment_is_pending(granted: SupportLedger) -> None:
    granted.execute(disbursement(), "olga")
    assert refused(granted, revoke()).code == "pending_disbursement"


def test_nothing_is_paid_on_a_revoked_award(granted: SupportLedger) -> None:
    granted.execute(revoke(), "olga")
    assert refused(granted, disbursement()).code == "award_revoked"


def test_the_state_is_checked_before_the_amount(granted: SupportLedger) -> None:
    granted.execute(revoke(), "olga")
    assert refused(granted, disbursement(amount_fen=999_000_000)).code == "award_revoked"


def clawback(reference: str = "C-1", amount_fen: int = 3_000_000) -> dict[str, Any]:
    return {"type": "order_clawback", "reference": reference, "award_reference": "A-1",
            "amount_fen": amount_fen, "decision_ref": "追〔2025〕1号", "reason": "false claims"}  # fmt: skip


def recovery(reference: str = "R-1", amount_fen: int = 1_000_000) -> dict[str, Any]:
    return {"type": "record_clawback_recovery", "reference": reference, "clawback_reference": "C-1",
            "amount_fen": amount_fen, "voucher_no": f"V-{reference}", "recovered_on": "2025-09-01"}  # fmt: skip


def test_a_clawback_may_not_exceed_what_was_paid(paid: SupportLedger) -> None:
    assert refused(paid, clawback(amount_fen=5_000_001)).code == "clawback_exceeds_paid"
    paid.execute(clawback(amount_fen=3_000_000), "olga")
    assert refused(paid, clawback("C-2", amount_fen=2_000_001)).code == "clawback_exceeds_paid"


def test_a_recovery_may_not_exceed_its_clawback(paid: SupportLedger) -> None:
    paid.execute(clawback(), "olga")
    paid.execute(recovery("R-1", 2_000_000), "olga")
    assert refused(paid, recovery("R-2", 1_000_001)).code == "recovery_exceeds_clawback"
    paid.execute(recovery("R-2", 1_000_000), "olga")
    state = award_state(paid, "A-1")
    assert (state["clawback_ordered_fen"], state["clawback_recovered_fen"]) == (3_000_000, 3_000_000)


def test_a_recovery_for_an_unknown_clawback_is_refused(paid: SupportLedger) -> None:
    assert refused(paid, recovery()).code == "unknown_award"


# -- transfers and financing --------------------------------------------------------------------


def test_nothing_happens_to_a_transfer_after_it_ended(funded: SupportLedger) -> None:
    funded.execute(transfer(), "olga")
    outcome = {"type": "record_transfer_outcome", "reference": "T-1", "on": "2025-06-01"}
    funded.execute({**outcome, "outcome": "terminated"}, "olga")
    assert refused(funded, {**outcome, "outcome": "implemented"}).code == "invalid_state"


def test_revenue_needs_an_amount(funded: SupportLedger) -> None:
    funded.execute(transfer(), "olga")
    command = {"type": "record_transfer_outcome", "reference": "T-1", "outcome": "revenue_reported",
               "on": "2025-06-01"}  # fmt: skip
    assert refused(funded, command).code == "validation_error"
    funded.execute({**command, "amount_fen": 1_000}, "olga")
    funded.execute({**command, "on": "2025-07-01", "amount_fen": 2_000}, "olga")


def test_a_loan_cannot_draw_more_than_its_principal(funded: SupportLedger) -> None:
    funded.execute(financing(), "olga")
    drawn = {"type": "record_financing_event", "reference": "F-1", "event": "drawn",
             "on": "2025-02-10", "amount_fen": 500_000_001}  # fmt: skip
    assert refused(funded, drawn).code == "overpayment"


def test_an_interest_subsidy_names_its_loan(funded: SupportLedger) -> None:
    funded.execute(financing(), "olga")
    funded.execute(budget("B-M11", measure="M11"), "olga")
    subsidy = award("A-9", measure="M11", item="pledge_loan_interest_subsidy",
                    amount_fen=800_000, financing_reference="F-1")  # fmt: skip
    funded.execute(subsidy, "olga")
    assert award_state(funded, "A-9")["granted_fen"] == 800_000


# -- the list of codes --------------------------------------------------------------------------


def test_every_stable_error_code_is_tested_here() -> None:
    """A code nobody breaks in a test is a rule nobody checked."""
    import pathlib

    text = pathlib.Path(__file__).read_text(encoding="utf-8")
    untested = [code for code in ERROR_CODES if f'"{code}"' not in text.split("def test_every")[0]]
    assert untested == []

