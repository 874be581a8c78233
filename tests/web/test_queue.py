"""The approval queue and the payment form: who sees them, decisions one or many at once through
the ledger's command path (same codes as the API), a reason required to reject, CSRF, and each
item's outcome reported. Both stores (the shared `app` fixture)."""

from __future__ import annotations

import html
import re
from typing import Any

import factories as f

from projections.queries import queue as q
from projections.runner import catch_up


def _record(ledger: Any, commands: list[tuple[dict[str, Any], str]]) -> None:
    for result in ledger.execute_many(commands):
        assert not isinstance(result, Exception), result
    catch_up(ledger)


def _decide(browser: Any, csrf: Any, decision: str, refs: list[str], reason: str = "") -> Any:
    token = csrf(browser, "/queue")
    return browser.post("/queue/decisions", data={
        "csrf_token": token, "decision": decision, "ref": refs, "reason": reason,
    })  # fmt: skip


def _outcomes(page: str) -> dict[str, str]:
    """Payment → the outcome row's text, from the outcome table of a page."""
    table = page.split('id="outcomes"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"(?:ok|refused)\"><td>([^<]+)</td>(.*?)</tr>", table, re.S)
    return {ref: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", rest)).split()) for ref, rest in rows}


def test_who_sees_the_queue_and_the_form_and_what_they_show(as_user: Any) -> None:
    approver = as_user("ada")
    page = approver.get("/queue").get_data(as_text=True)
    row = page.split('id="payment-D-2"', 1)[1].split("</tr>", 1)[0]
    assert "A-1" in row and "上海测试科技有限公司" in row and f.USCC_A in row
    assert "¥10,000.00" in row and "oscar" in row and "(UTC+8)" in row
    assert re.search(r"\d+分钟", row)  # its age
    assert "高价值专利" in row and "high_value_patent_cultivation" not in row
    assert "D-1" not in page.split('id="queue"', 1)[1]  # approved already: not waiting
    assert 'value="approve"' in page and 'value="reject"' in page
    assert "1 笔付款待审批" in page
    # an officer sees the queue without the decision buttons, and the payment form
    officer = as_user("olga")
    page = officer.get("/queue").get_data(as_text=True)
    assert 'id="payment-D-2"' in page and 'value="approve"' not in page
    page = officer.get("/disbursements/new?award=A-1").get_data(as_text=True)
    facts = page.split('id="award-facts"', 1)[1].split("</dl>", 1)[0]
    assert "上海测试科技有限公司" in facts and f.USCC_A in facts
    # granted ¥100,000 − paid ¥50,000 − waiting ¥10,000
    assert re.search(r'id="payable"><strong>¥40,000.00<', facts)
    unknown = officer.get("/disbursements/new?award=NOPE").get_data(as_text=True)
    assert "没有此编号的奖励" in unknown
    assert 'id="nav-queue"' in officer.get("/").get_data(as_text=True)
    # viewers and auditors see neither: no link, and 403
    for name in ("vic", "aud"):
        browser = as_user(name)
        assert 'id="nav-queue"' not in browser.get("/").get_data(as_text=True)
        for path in ("/queue", "/disbursements/new?award=A-1", "/payment-list?from=2025-01-01"):
            assert browser.get(path).status_code == 403, (name, path)


def test_approving_and_rejecting_many_at_once_reports_each_payment(
    seeded: Any, as_user: Any, csrf: Any
) -> None:
    _record(seeded, [(f.disbursement("D-3", amount_fen=100), "olga"),
                     (f.disbursement("D-4", amount_fen=200), "olga"),
                     (f.disbursement("松财拨 2025-甲", amount_fen=300), "olga")])  # fmt: skip
    # an officer's crafted decision reaches the ledger, which refuses it
    crafted = _outcomes(_decide(as_user("olga"), csrf, "approve", ["D-2"]).get_data(as_text=True))
    assert crafted["D-2"].startswith("未通过 forbidden")
    browser = as_user("ada")
    response = _decide(browser, csrf, "approve", ["D-2", "D-3", "D-1", "D-404", "松财拨 2025-甲"])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    outcomes = _outcomes(page)
    assert outcomes["D-2"] == outcomes["D-3"] == outcomes["松财拨 2025-甲"] == "已审批通过"
    assert outcomes["D-1"] == "此前已处理过（只记录一次）"  # approved by ada before: a duplicate
    assert outcomes["D-404"].startswith("未通过 unknown_disbursement 没有编号为 'D-404' 的拨付")
    assert " / " in outcomes["D-404"]  # the ledger's message in Chinese and English
    assert "ref=D-2&amp;ref=D-3&amp;ref=D-1&amp;ref=" in page  # print what was just approved
    rejected = _outcomes(_decide(browser, csrf, "reject", ["D-1", "D-4"], reason="凭证号与银行回单不符")
                         .get_data(as_text=True))  # fmt: skip
    assert rejected["D-4"] == "已驳回"
    assert rejected["D-1"].startswith("未通过 invalid_state")  # approved payments stay approved
    catch_up(seeded)
    assert list(q.pending(seeded)) == []
    statuses = {r.reference: r.status for r in q.payment_list(seeded, "2025-01-01")}
    assert statuses == {"D-1": "approved", "D-2": "approved", "D-3": "approved",
                        "松财拨 2025-甲": "approved"}  # fmt: skip


def test_refused_forms_change_nothing(seeded: Any, as_user: Any, csrf: Any) -> None:
    before = seeded.log_position()
    approver = as_user("ada")
    response = _decide(approver, csrf, "reject", ["D-2"], reason="   ")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "驳回必须填写理由" in page and "A reason is required to reject" in page
    nothing = _decide(approver, csrf, "approve", [])
    assert nothing.status_code == 422 and "请至少选择一笔付款" in nothing.get_data(as_text=True)
    # without the CSRF token
    assert approver.post("/queue/decisions", data={"decision": "approve", "ref": ["D-2"]}).status_code == 400
    form = as_user("olga").post("/disbursements/new", data={
        "reference": "D-9", "award_reference": "A-1", "amount_yuan": "1.00", "voucher_no": "V",
        "paid_on": "2025-06-01"})  # fmt: skip
    assert form.status_code == 400
    # a viewer, even with the token
    viewer = as_user("vic")
    response = viewer.post("/queue/decisions", data={"csrf_token": csrf(viewer, "/"),
                                                     "decision": "approve", "ref": ["D-2"]})  # fmt: skip
    assert response.status_code == 403
    # malformed references
    assert _decide(approver, csrf, "approve", ["D-2\x00"]).status_code == 400
    assert approver.post("/queue/decisions", data={"csrf_token": csrf(approver, "/queue"),
                                                   "decision": "delete", "ref": ["D-2"]}).status_code == 400  # fmt: skip
    assert seeded.log_position() == before


def test_a_payment_recorded_through_the_form_cannot_be_approved_by_its_recorder(
    seeded: Any, as_user: Any, csrf: Any
) -> None:
    browser = as_user("both")  # officer and approver

    def post(**fields: str) -> Any:
        data = {"reference": "D-8", "award_reference": "A-1", "amount_yuan": "40,000.00",
                "voucher_no": "PZ-8", "paid_on": "2025-06-02", **fields}  # fmt: skip
        return browser.post("/disbursements/new", data={"csrf_token": csrf(browser, "/queue"), **data})

    before = seeded.log_position()
    too_exact = post(amount_yuan="1.234")
    assert too_exact.status_code == 422 and "validation_error" in too_exact.get_data(as_text=True)
    too_much = post(amount_yuan="40,000.01")
    assert too_much.status_code == 422
    text = too_much.get_data(as_text=True)
    assert "overpayment" in text and " / " in text and 'value="40,000.01"' in text
    assert post(paid_on="2025/6/2").status_code == 422
    assert seeded.log_position() == before
    done = post()
    assert done.status_code == 302 and done.headers["Location"].endswith("/disbursements/new?award=A-1")
    assert "付款 D-8 已登记，等待审批" in browser.get(done.headers["Location"]).get_data(as_text=True)
    catch_up(seeded)
    waiting = {p.reference: (p.amount_fen, p.recorded_by) for p in q.pending(seeded)}
    assert waiting["D-8"] == (4_000_000, "both")
    page = browser.get("/queue").get_data(as_text=True)
    assert "(您)" in page.split('id="payment-D-8"', 1)[1].split("</tr>", 1)[0]
    outcome = _outcomes(_decide(browser, csrf, "approve", ["D-8"]).get_data(as_text=True))["D-8"]
    assert outcome.startswith("未通过 self_approval")
    catch_up(seeded)
    assert "D-8" in [p.reference for p in q.pending(seeded)]
