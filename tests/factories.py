"""Valid commands for tests: each factory returns a command dict; keyword arguments override."""

from __future__ import annotations

from typing import Any

from ledger.identifiers import make_org_code, make_uscc

USCC_A = "914403001922038216"
USCC_B = "9144030071526726XG"
USCC_C = "91330100716105852F"
TOWN = "310117001"
YEAR = 2025


def synthetic_uscc(n: int) -> str:
    """A valid credit code, different for every n below 10⁸."""
    return make_uscc("91310117" + make_org_code(f"{n:08d}"))


def enterprise(uscc: str = USCC_A, **kw: Any) -> dict[str, Any]:
    return {"type": "register_enterprise", "uscc": uscc, "name": "上海测试科技有限公司",
            "town_code": TOWN, "industry": "智能制造", **kw}  # fmt: skip


def budget(reference: str = "B-M10", measure: str = "M10", amount_fen: int = 500_000_000,
           **kw: Any) -> dict[str, Any]:  # fmt: skip
    return {"type": "appropriate_budget", "reference": reference, "measure": measure,
            "fiscal_year": YEAR, "amount_fen": amount_fen, "decision_ref": "松财〔2025〕1号", **kw}  # fmt: skip


def award(reference: str = "A-1", uscc: str = USCC_A, amount_fen: int = 10_000_000,
          measure: str = "M10", item: str = "high_value_patent_cultivation", **kw: Any) -> dict[str, Any]:  # fmt: skip
    return {"type": "grant_award", "reference": reference, "uscc": uscc, "measure": measure,
            "item": item, "fiscal_year": YEAR, "amount_fen": amount_fen,
            "decision_ref": "松市监〔2025〕12号", "granted_on": "2025-04-01", **kw}  # fmt: skip


def disbursement(reference: str = "D-1", award_reference: str = "A-1", amount_fen: int = 5_000_000,
                 **kw: Any) -> dict[str, Any]:  # fmt: skip
    return {"type": "record_disbursement", "reference": reference,
            "award_reference": award_reference, "amount_fen": amount_fen,
            "voucher_no": f"V-{reference}", "paid_on": "2025-05-10", **kw}  # fmt: skip


def approve(reference: str = "D-1") -> dict[str, Any]:
    return {"type": "approve_disbursement", "reference": reference}


def transfer(reference: str = "T-1", uscc: str = USCC_A, **kw: Any) -> dict[str, Any]:
    return {"type": "record_patent_transfer", "reference": reference,
            "patent_no": "201710601862.3", "transferor_name": "东华大学",
            "transferor_kind": "university", "uscc": uscc, "mode": "assignment",
            "contract_value_fen": 80_000_000, "signed_on": "2025-03-15", **kw}  # fmt: skip


def financing(reference: str = "F-1", uscc: str = USCC_A, **kw: Any) -> dict[str, Any]:
    return {"type": "register_financing", "reference": reference, "uscc": uscc,
            "instrument": "pledge_loan", "lender": "上海农商银行松江支行",
            "principal_fen": 500_000_000, "annual_rate_bp": 350, "term_months": 12,
            "collateral": ["ZL201310699744.2"], "registered_on": "2025-02-01", **kw}  # fmt: skip
