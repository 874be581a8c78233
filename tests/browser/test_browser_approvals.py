"""An approver's and an officer's day in real headless Chromium against a real WSGI server
(waitress) whose views follow the log, on both stores: approve three payments and reject one
from the queue and see the balances move; fail to approve one's own payment; print the payment
list to an A4 PDF and read its text back (pypdf)."""

from __future__ import annotations

import io
import re
import threading
import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any

import factories as f
import pytest
from servers import waitress_in_thread
from stores import drop_schema, postgres_base_url
from werkzeug.security import generate_password_hash

from ledger.amount_words import capitals

PASSWORD = "browser pass"
#: Payments recorded by olga and waiting for approval when the module starts (fen).
WAITING_FEN = {"P-1": 1_234_567, "P-2": 100_506, "P-3": 2_000_000, "P-4": 50}
#: Payments approved before the module starts: enough rows for a list of more than one page.
EARLIER = 45


def _seed(ledger: Any) -> None:
    ledger.define_measures()
    ledger.register_user("admin", ["admin"], actor="")
    quick_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    users = {"olga": ["officer"], "ada": ["approver"], "both": ["officer", "approver"], "aud": ["auditor"]}
    for name, roles in users.items():
        ledger.register_user(name, roles, actor="admin")
        ledger.set_password_hash(name, quick_hash, actor="admin")
    commands = [
        (f.enterprise(), "olga"),
        (f.enterprise(f.USCC_B, name="上海松江精密电子有限公司"), "olga"),
        (f.budget(), "olga"),
        (f.award("A-1", amount_fen=10_000_000), "olga"),
        (f.award("A-2", uscc=f.USCC_B, amount_fen=5_000_000), "olga"),
    ]
    for n in range(EARLIER):
        commands.append((f.disbursement(f"E-{n:02d}", "A-2", amount_fen=1_000 + n, paid_on="2025-04-20"), "olga"))
        commands.append((f.approve(f"E-{n:02d}"), "ada"))
    for ref, amount_fen in WAITING_FEN.items():
        commands.append((f.disbursement(ref, "A-1", amount_fen=amount_fen, paid_on="2025-05-12"), "olga"))
    assert not any(isinstance(r, Exception) for r in ledger.execute_many(commands))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def work_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, browser: Any
) -> Iterator[str]:
    """A waitress server over a seeded ledger whose views follow the log (as `ledger serve`'s);
    it asks for `browser` first, which fails or skips without Chromium."""

    from ledger.storage import open_ledger
    from projections.runner import Runner, catch_up
    from web import create_app

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('approvals')}/ledger.sqlite3"
    else:
        base = postgres_base_url()
        url = f"{base}{'&' if '?' in base else '?'}schema=t_{uuid.uuid4().hex[:16]}"
    ledger = open_ledger(url)
    _seed(ledger)
    catch_up(ledger)
    stop = threading.Event()
    follower = threading.Thread(target=Runner(ledger).follow, args=(stop,), daemon=True)
    follower.start()
    app = create_app({"LEDGER_APP": ledger, "SECRET_KEY": "browser-test"})
    with waitress_in_thread(app) as base:
        yield base
    stop.set()
    follower.join(10)
    ledger.close()
    if request.param == "postgres":
        drop_schema(url)


#: Chromium's PDFs map some glyphs of the CJK font back to radicals (⻚ for 页): NFKC folds the
#: Kangxi radicals (⾦ → 金); these few of the CJK Radicals Supplement it leaves alone.
RADICALS = str.maketrans({"⻚": "页", "⻆": "角", "⻔": "门", "⻉": "贝", "⻋": "车", "⻅": "见",
                          "⻓": "长", "⻢": "马", "⻥": "鱼", "⻦": "鸟", "⻛": "风", "⻜": "飞"})


def pdf_text(reader: Any) -> str:
    """The text of every page of a PDF, folded to ordinary characters, without whitespace."""
    text = "".join(sheet.extract_text() for sheet in reader.pages)
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).translate(RADICALS))


def _sign_in(page: Any, base: str, name: str) -> None:
    page.goto(base + "/signin")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("form.signin button[type=submit]")
    page.wait_for_url(base + "/")


def _paid(page: Any, base: str) -> str:
    page.goto(f"{base}/enterprises/{f.USCC_A}")
    return page.locator("#balances").inner_text()


def test_an_approver_approves_three_and_rejects_one_and_the_balances_show_it(
    work_server: str, page: Any, shoot: Any
) -> None:
    base = work_server
    paid = sum(WAITING_FEN[r] for r in ("P-1", "P-2", "P-3"))
    paid_text = f"¥{paid // 100:,}.{paid % 100:02d}"  # ¥33,350.73
    _sign_in(page, base, "ada")
    assert paid_text not in _paid(page, base)
    page.click("#nav-queue")
    assert page.locator("h1").inner_text() == "待审批"
    for ref in WAITING_FEN:
        row = page.locator(f"#payment-{ref}").inner_text()
        assert "olga" in row and "上海测试科技有限公司" in row and f.USCC_A in row
    for ref in ("P-1", "P-2", "P-3"):
        page.check(f"#ref-{ref}")
    page.click("#approve")
    outcomes = page.locator("#outcomes tbody").inner_text()
    assert outcomes.count("已审批通过") == 3, outcomes
    assert page.locator("#queue tbody tr").count() == 1  # P-4 waits on
    shoot(page, "approvals-01-approved-three")

    page.click("#reject")  # nothing selected, no reason: refused, nothing done
    assert "请至少选择一笔付款" in page.locator("#notice").inner_text()
    page.check("#ref-P-4")
    page.click("#reject")  # still no reason
    assert "驳回必须填写理由" in page.locator("#notice").inner_text()
    page.check("#ref-P-4")
    page.fill("#reason", "凭证号与银行回单不符")
    page.click("#reject")
    assert "已驳回" in page.locator("#outcomes tbody").inner_text()
    assert "没有待审批的付款" in page.locator("#queue").inner_text()
    shoot(page, "approvals-02-rejected-one")

    balances = _paid(page, base)
    assert paid_text in balances, balances
    shoot(page, "approvals-03-balances")


def _queue_shows(page: Any, base: str, reference: str, timeout_s: float = 20.0) -> None:
    """Open the queue until the views (kept current by the server's follower) show the payment."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        page.goto(base + "/queue")
        if page.locator(f"#payment-{reference}").count() or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert page.locator(f"#payment-{reference}").count() == 1, f"{reference} is not in the queue"


def test_an_officer_records_a_payment_but_cannot_approve_it_itself(
    work_server: str, page: Any, shoot: Any
) -> None:
    base = work_server
    _sign_in(page, base, "both")
    page.goto(base + "/disbursements/new")
    page.fill("#award", "A-1")
    page.click("form.search button[type=submit]")
    payable = page.locator("#payable").inner_text()
    assert re.fullmatch(r"¥[\d,]+\.\d\d", payable.strip()), payable
    page.fill("#reference", "P-OWN")
    page.fill("#amount_yuan", "88.80")
    page.fill("#voucher_no", "PZ-2025-0088")
    page.fill("#paid_on", "2025-06-01")
    page.click("#record button[type=submit]")
    assert "付款 P-OWN 已登记，等待审批" in page.locator(".flash").inner_text()
    _queue_shows(page, base, "P-OWN")
    page.check("#ref-P-OWN")
    page.click("#approve")
    outcome = page.locator("#outcomes tbody").inner_text()
    assert "self_approval" in outcome and "未通过" in outcome, outcome
    assert page.locator("#payment-P-OWN").count() == 1  # still waiting
    shoot(page, "approvals-04-self-approval")


def test_the_payment_list_prints_on_a4_with_capitals_totals_and_page_numbers(
    work_server: str, page: Any, shoot: Any
) -> None:
    from pypdf import PdfReader

    base = work_server
    _sign_in(page, base, "ada")
    page.goto(base + "/payment-list?from=2025-04-01&to=2025-04-30")
    rows = page.locator("#payments tbody tr")
    assert rows.count() == EARLIER + 1  # and the total
    page.emulate_media(media="print")
    assert not page.locator("#choose").is_visible()  # the form is not printed
    # laid out as wide as A4 less the page's side margins, nothing sticks out
    a4_printable_px = int((210 - 24) / 25.4 * 96)
    page.set_viewport_size({"width": a4_printable_px, "height": 1000})
    widths = page.evaluate("[document.documentElement.scrollWidth, "
                           "document.querySelector('#payments').getBoundingClientRect().right]")
    assert max(widths) <= a4_printable_px, widths
    shoot(page, "approvals-05-payment-list")
    reader = PdfReader(io.BytesIO(page.pdf(format="A4")))
    pages = len(reader.pages)
    assert pages >= 2
    for sheet in reader.pages:
        width_pt, height_pt = float(sheet.mediabox.width), float(sheet.mediabox.height)
        assert abs(width_pt - 595.3) < 2 and abs(height_pt - 841.9) < 2
    flat = pdf_text(reader)
    assert "上海市松江区质量标准与知识产权扶持资金拨付清单" in flat
    assert f"第1页/共{pages}页" in flat and f"第{pages}页/共{pages}页" in flat
    total_fen = sum(1_000 + n for n in range(EARLIER))
    assert capitals(1_000) in flat and capitals(1_044) in flat  # 壹拾元整, 壹拾元肆角肆分
    assert capitals(total_fen) in flat and f"{total_fen // 100:,}.{total_fen % 100:02d}" in flat
    assert f"合计:{EARLIER}笔" in flat  # (NFKC folds the full-width colon)
    assert "打印人:ada" in flat and "(UTC+8)" in flat
    assert "经办人" in flat and "审核人" in flat
    assert "待审批" not in flat and "登记付款" not in flat  # no navigation, no form
