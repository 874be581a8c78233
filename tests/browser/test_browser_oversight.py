"""An overseer's visit in real headless Chromium against a real WSGI server: sign in, read the
dashboard and its charts, find an enterprise, open its trail, switch to English, fetch a proof."""

from __future__ import annotations

import json
from typing import Any

import factories as f

from audit.merkle import verify_inclusion


def test_an_auditor_signs_in_reads_the_dashboard_finds_an_enterprise_and_proves_an_event(
    server: str, page: Any, shoot: Any
) -> None:
    page.goto(server + "/")
    assert "/signin" in page.url
    page.fill("#name", "aud")
    page.fill("#password", "browser pass")  # as the server fixture sets it
    page.click("form.signin button[type=submit]")
    page.wait_for_url(server + "/")
    assert page.locator("h1").first.inner_text().startswith("总览")
    charts = page.locator("figure.chart svg")
    assert charts.count() == 4
    assert charts.first.bounding_box()["height"] > 100
    assert "视图已更新至日志位置" in page.locator("#freshness").inner_text()
    shoot(page, "01-dashboard-zh")

    page.click("text=企业")
    page.fill("#q", "精密电子")
    page.click("form.search button[type=submit]")
    rows = page.locator("#enterprises tbody tr")
    assert rows.count() == 1
    assert "上海松江精密电子有限公司" in rows.first.inner_text()
    shoot(page, "02-enterprise-search")

    page.goto(server + f"/enterprises/{f.USCC_A}")
    assert "¥100,000.00" in page.locator("#balances").inner_text()
    page.click("a[href='#trail']")
    trail = page.locator("#trail tbody tr")
    assert trail.count() >= 5
    assert "olga" in page.locator("#trail").inner_text()
    shoot(page, "03-enterprise-trail")

    page.click("#lang-en")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Balances by fiscal year" in page.content()
    assert "Views current to log position" in page.locator("#freshness").inner_text()
    shoot(page, "04-enterprise-english")

    page.click("nav >> text=Audit")
    page.fill("#position", "5")
    page.click("form.search button[type=submit]")
    proof = json.loads(page.locator("#proof-json").inner_text())
    assert verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]), proof["leaf_index"], proof["tree_size"],
        [bytes.fromhex(h) for h in proof["audit_path"]], bytes.fromhex(proof["root_hash"]),
    )  # fmt: skip
    assert page.locator("#heads tbody tr").count() == 1
    shoot(page, "05-audit-proof")
