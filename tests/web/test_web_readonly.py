"""Nothing but `POST /api/v1/commands`, the approval queue's two forms (decisions, recording a
payment: both through the ledger's command path) and signing in and out can change state; pages are in
Chinese first and English on request, with yuan and Beijing time."""

from __future__ import annotations

import re
from typing import Any

import factories as f
from click.testing import CliRunner

from projections.queries import views_position
from web.i18n import shanghai_time, yuan

WRITERS = {("api.commands", "POST"), ("auth.sign_in", "POST"), ("auth.sign_out", "POST"),
           ("queue.decide", "POST"), ("queue.record_disbursement", "POST")}  # fmt: skip
SAFE = {"GET", "HEAD", "OPTIONS"}
EXAMPLES = {"uscc": f.USCC_A, "code": "M10", "position": 3}


def test_only_commands_and_sign_in_and_out_accept_unsafe_methods(web_app: Any) -> None:
    unsafe = {
        (rule.endpoint, method)
        for rule in web_app.url_map.iter_rules()
        for method in (rule.methods or set()) - SAFE
    }
    assert unsafe == WRITERS


def test_getting_every_route_as_admin_changes_neither_the_log_nor_the_views(
    web_app: Any, as_user: Any, token: Any, seeded: Any
) -> None:
    headers = token("admin")
    browser = as_user("admin")
    before = (seeded.log_position(), views_position(seeded).position)
    seen = 0
    for rule in web_app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        values = {name: EXAMPLES.get(name, "en") for name in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        response = browser.get(path, headers=headers)
        assert response.status_code < 500, path
        seen += 1
    assert seen >= 20
    assert (seeded.log_position(), views_position(seeded).position) == before


def test_pages_are_in_chinese_by_default_and_in_english_after_the_switch(as_user: Any) -> None:
    browser = as_user("vic")
    page = browser.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "各措施预算使用" in page
    switched = browser.get("/lang/en?next=/measures")
    assert switched.headers["Location"] == "/measures"
    page = browser.get("/measures").get_data(as_text=True)
    assert 'lang="en"' in page and "The thirteen measures and their budgets" in page
    browser.get("/lang/zh?next=/")
    assert "十三项措施" in browser.get("/measures").get_data(as_text=True)


def test_every_page_says_how_current_it_is(as_user: Any, seeded: Any) -> None:
    page = as_user("vic").get("/enterprises").get_data(as_text=True)
    position = views_position(seeded).position
    assert re.search(rf"视图已更新至日志位置 {position}（共 \d+）", page)
    assert "(UTC+8)" in page


def test_amounts_are_yuan_with_two_decimals_and_times_are_beijing_time(as_user: Any) -> None:
    assert yuan(123456) == "¥1,234.56"
    assert yuan(-5) == "-¥0.05"
    assert shanghai_time("2025-04-01T16:30:00+00:00") == "2025-04-02 00:30:00 (UTC+8)"
    page = as_user("vic").get(f"/enterprises/{f.USCC_A}").get_data(as_text=True)
    assert "¥100,000.00" in page  # the award of 10,000,000 fen


def test_the_dashboard_draws_its_charts_as_svg_with_tables_beside_them(as_user: Any) -> None:
    page = as_user("vic").get("/").get_data(as_text=True)
    assert page.count("<svg") == 4
    assert page.count('role="img"') == 4
    assert "<script" not in page
    assert page.count("<table") >= 4


def test_ledger_serve_is_a_command_of_the_ledger_cli() -> None:
    from ledger.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output
