"""A history that records every kind of event the ledger writes today, and its stored form.

`record_full_history` drives a ledger through every command type (and the user, measure and
token operations that are not commands), so that its log holds at least one event of every
event class that is still recorded. `stored_history` reads a log back as plain data (topic,
originator, version, state text), the form `events_before_issue13.json` keeps.

`python tests/unit/event_history.py OUT.json` writes that file from the code checked out (it
was made on main at add858f, before the event classes were declared explicitly, so the tests
can prove the stored shapes did not change).
"""

from __future__ import annotations

import json
import sys
import tempfile
from typing import Any

from ledger.domain import Measure

USCC_A = "914403001922038216"
USCC_B = "9144030071526726XG"
YEAR = 2025
ITEM = "high_value_patent_cultivation"


def _commands() -> list[tuple[dict[str, Any], str]]:
    """Every command type at least once, with the outcomes and events that need two."""
    grant = {"type": "grant_award", "measure": "M10", "item": ITEM, "fiscal_year": YEAR,
             "decision_ref": "松市监〔2025〕12号", "granted_on": "2025-04-01"}  # fmt: skip

    def pay(reference: str, award: str, amount_fen: int) -> tuple[dict[str, Any], str]:
        return ({"type": "record_disbursement", "reference": reference, "award_reference": award,
                 "amount_fen": amount_fen, "voucher_no": f"V-{reference}",
                 "paid_on": "2025-05-10"}, "olga")  # fmt: skip

    def decide(kind: str, reference: str, **kw: Any) -> tuple[dict[str, Any], str]:
        return ({"type": kind, "reference": reference, **kw}, "ada")

    def outcome(outcome: str, **kw: Any) -> tuple[dict[str, Any], str]:
        return ({"type": "record_transfer_outcome", "reference": "T-1", "outcome": outcome,
                 "on": "2025-06-01", **kw}, "olga")  # fmt: skip

    def financing_event(event: str, on: str, amount_fen: int) -> tuple[dict[str, Any], str]:
        return ({"type": "record_financing_event", "reference": "F-1", "event": event, "on": on,
                 "amount_fen": amount_fen}, "olga")  # fmt: skip

    return [
        ({"type": "register_enterprise", "uscc": USCC_A, "name": "上海测试科技有限公司",
          "town_code": "310117001", "industry": "智能制造"}, "olga"),
        ({"type": "register_enterprise", "uscc": USCC_B, "name": "上海样例材料有限公司",
          "town_code": "310117101", "industry": "新材料"}, "olga"),
        ({"type": "update_enterprise", "reference": "U-1", "uscc": USCC_B,
          "name": "上海样例新材料有限公司", "town_code": "310117102", "industry": "新材料"}, "olga"),
        ({"type": "appropriate_budget", "reference": "B-1", "measure": "M10", "fiscal_year": YEAR,
          "amount_fen": 500_000_000, "decision_ref": "松财〔2025〕1号"}, "olga"),
        ({"type": "adjust_budget", "reference": "J-1", "measure": "M10", "fiscal_year": YEAR,
          "delta_fen": -1_000_000, "decision_ref": "松财〔2025〕2号", "reason": "核减"}, "olga"),
        ({**grant, "reference": "A-1", "uscc": USCC_A, "amount_fen": 10_000_000,
          "basis": "专利 ZL201310699744.2"}, "olga"),
        ({**grant, "reference": "A-2", "uscc": USCC_B, "amount_fen": 4_000_000}, "olga"),
        pay("D-1", "A-1", 5_000_000),
        decide("approve_disbursement", "D-1"),
        pay("D-2", "A-1", 1_000_000),
        decide("reject_disbursement", "D-2", reason="凭证不符"),
        pay("D-3", "A-1", 2_000_000),
        decide("approve_disbursement", "D-3"),
        ({"type": "reverse_disbursement", "reference": "D-3", "reason": "重复拨付"}, "olga"),
        ({"type": "order_clawback", "reference": "C-1", "award_reference": "A-1",
          "amount_fen": 3_000_000, "decision_ref": "松市监〔2025〕20号", "reason": "未达标"}, "olga"),
        ({"type": "record_clawback_recovery", "reference": "R-1", "clawback_reference": "C-1",
          "amount_fen": 1_000_000, "voucher_no": "V-R-1", "recovered_on": "2025-08-01"}, "olga"),
        pay("D-4", "A-2", 1_500_000),
        decide("approve_disbursement", "D-4"),
        ({"type": "revoke_award", "award_reference": "A-2", "decision_ref": "松市监〔2025〕30号",
          "reason": "企业迁出"}, "olga"),
        ({"type": "record_patent_transfer", "reference": "T-1", "patent_no": "201710601862.3",
          "transferor_name": "东华大学", "transferor_kind": "university",
          "transferor_uscc": None, "uscc": USCC_A, "mode": "assignment",
          "contract_value_fen": 80_000_000, "signed_on": "2025-03-15"}, "olga"),
        outcome("recordal_completed"),
        outcome("implemented"),
        outcome("revenue_reported", amount_fen=12_345_600),
        outcome("patent_intensive_product_recognised"),
        outcome("terminated"),
        ({"type": "register_financing", "reference": "F-1", "uscc": USCC_A,
          "instrument": "pledge_loan", "lender": "上海农商银行松江支行",
          "principal_fen": 500_000_000, "annual_rate_bp": 350, "term_months": 12,
          "collateral": ["ZL201310699744.2"], "registered_on": "2025-02-01"}, "olga"),
        financing_event("drawn", "2025-02-10", 300_000_000),
        financing_event("repaid", "2025-06-10", 100_000_000),
        financing_event("defaulted", "2025-09-10", 0),
    ]  # fmt: skip


def record_full_history(app: Any) -> None:
    """Record at least one event of every event class the ledger still records."""
    app.define_measures()
    app.register_user("admin", ["admin"], actor="")
    app.register_user("olga", ["officer"], actor="admin")
    app.register_user("ada", ["approver"], actor="admin")
    app.grant_role("olga", "viewer", actor="admin")
    app.revoke_role("olga", "viewer", actor="admin")
    app.set_password("ada", "a-long-enough-password-1", actor="admin")
    token_id = app.get_user("admin").tokens.copy().popitem()[0]
    app.revoke_token("admin", token_id, actor="admin")
    measure = app.repository.get(Measure.create_id("M10"))
    measure.add_item({**measure.items[ITEM], "code": "extra_item"}, actor="admin")
    measure.trigger_event(Measure.ItemRetired, item_code="extra_item", actor="admin")
    app.save(measure)
    for command, actor in _commands():
        app.execute(command, actor)


def stored_history(app: Any) -> list[dict[str, Any]]:
    """Every stored event of a log in order, as plain data."""
    out: list[dict[str, Any]] = []
    last = None
    while True:
        page = app.recorder.select_notifications(start=last, limit=1000, inclusive_of_start=False)
        for n in page:
            out.append({"topic": n.topic, "originator_id": str(n.originator_id),
                        "originator_version": n.originator_version,
                        "state": bytes(n.state).decode("utf-8")})  # fmt: skip
        if len(page) < 1000:
            return out
        last = page[-1].id


def main(path: str) -> None:
    from ledger.storage import open_ledger

    with tempfile.TemporaryDirectory() as tmp:
        app = open_ledger(f"sqlite:///{tmp}/ledger.sqlite3")
        try:
            record_full_history(app)
            history = stored_history(app)
        finally:
            app.close()
    with open(path, "w", encoding="utf-8") as f:
        json.dump(history, f, ensure_ascii=False, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
