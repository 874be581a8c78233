"""The printable payment list (拨付清单): approved payments by date range, measure or batch,
amounts in figures and capitals, the total, printed-by and printed-at, signature lines, no
navigation, its own print stylesheet; bad choices are a 400. Both stores."""

from __future__ import annotations

import re
from typing import Any

import factories as f

from projections.runner import catch_up


def _rows(page: str) -> list[str]:
    body = page.split('id="payments"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr><td class=\"num\">\d+</td>(.*?)</tr>", body, re.S)


def test_the_payment_list_holds_what_was_chosen_with_capitals_and_total(
    seeded: Any, as_user: Any
) -> None:
    commands = [
        (f.budget("B-M01", measure="M01"), "olga"),
        (f.award("A-3", measure="M01", item="sme_quality_diagnosis", amount_fen=2_000_000), "olga"),
        (f.disbursement("D-5", "A-3", amount_fen=100_506, paid_on="2025-06-03"), "olga"),
        (f.approve("D-5"), "ada"),
        (f.disbursement("D-6", "A-2", amount_fen=1_000_000, paid_on="2025-05-20"), "olga"),
        (f.approve("D-6"), "ada"),
    ]
    for result in seeded.execute_many(commands):
        assert not isinstance(result, Exception), result
    catch_up(seeded)
    browser = as_user("olga")

    may = browser.get("/payment-list?from=2025-05-01&to=2025-05-31").get_data(as_text=True)
    rows = _rows(may)  # D-1 (5,000,000 fen) and D-6; D-2 waits, D-5 is in June
    assert len(rows) == 2 and "D-1" in rows[0] and "D-6" in rows[1]
    assert "伍万元整" in rows[0] and "¥50,000.00" in rows[0] and "上海测试科技有限公司" in rows[0]
    assert "壹万元整" in rows[1] and "上海松江精密电子有限公司" in rows[1]
    total = may.split('id="total"', 1)[1].split("</tr>", 1)[0]
    assert "¥60,000.00" in total and "陆万元整" in total and "合计：2 笔" in total
    assert "上海市松江区质量标准与知识产权扶持资金拨付清单" in may
    assert "打印人: olga" in may and "(UTC+8)" in may and "经办人" in may and "审核人" in may
    assert "拨付日期 2025-05-01 至 2025-05-31" in may
    assert "<nav" not in may and "print_list.css" in may and "style.css" not in may
    assert not re.search(r"<script|<style|\sstyle=", may)

    m01 = _rows(browser.get("/payment-list?measure=M01").get_data(as_text=True))
    assert len(m01) == 1 and "壹仟零伍元零陆分" in m01[0] and "M01" in m01[0]
    batch = browser.get("/payment-list?refs=D-6，D-5&ref=D-2").get_data(as_text=True)
    assert [("D-5" in r, "D-6" in r) for r in _rows(batch)] == [(False, True), (True, False)]
    assert "批次共 3 笔" in batch  # D-2 is named but not approved: not listed

    hint = browser.get("/payment-list").get_data(as_text=True)
    assert 'id="choose-hint"' in hint and 'id="payments"' not in hint
    for bad in ("from=2025/5/1", "to=2025-13-01", "measure=M99", "refs=D-1%00", "from=20250501"):
        assert browser.get(f"/payment-list?{bad}").status_code == 400, bad
