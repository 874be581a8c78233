"""Every page, in Chinese as each role, shows no raw code; in English, no Chinese left
untranslated (issue 10, item 1). On both stores.

The crawl (tests/web/labels_crawl.py) starts from every GET rule of the url_map with its
arguments filled from the store and follows every link, so pages added later are read too. A
failure names the page, who looked, and the offending token with its context.
"""

from __future__ import annotations

from typing import Any

import factories as f
import pytest
from labels_crawl import Crawl, crawl, problems, raw_codes, rule_paths, untranslated

from ledger.catalogue import load_catalogue
from ledger.disclosure import public_fields
from ledger.domain.events import AGGREGATE_OF
from ledger.domain.measure import Measure
from projections import queries

#: role → the web test user who has it (tests/web/conftest.py).
ROLE_USERS = {"viewer": "vic", "auditor": "aud", "officer": "olga", "approver": "ada",
              "admin": "admin"}  # fmt: skip
#: Fields whose values people typed or that identify something: shown as they are.
IDENTIFYING_FIELDS = frozenset((
    "reference", "uscc", "key", "voucher_no", "decision_ref", "patent_no", "transferor_name",
    "transferor_uscc", "lender", "collateral", "name", "actor", "award_reference",
    "clawback_reference", "financing_reference", "basis", "token_id", "reason", "industry",
))  # fmt: skip


def record_every_kind_of_event(app: Any) -> None:
    """Beside the web tests' seed: a command of every other type, so that every kind of event
    (rejections, reversals, revocations, clawbacks, outcomes, financing events, users) has a
    page to read."""
    commands = [
        ({"type": "reject_disbursement", "reference": "D-2", "reason": "凭证不全"}, "ada"),
        (f.disbursement("D-3", amount_fen=1_000_000, voucher_no="V-D-3"), "olga"),
        (f.approve("D-3"), "ada"),
        ({"type": "reverse_disbursement", "reference": "D-3", "reason": "重复拨付"}, "olga"),
        ({"type": "order_clawback", "reference": "C-1", "award_reference": "A-1",
          "amount_fen": 1_000_000, "decision_ref": "松市监〔2025〕30号", "reason": "未达绩效"}, "olga"),
        ({"type": "record_clawback_recovery", "reference": "R-1", "clawback_reference": "C-1",
          "amount_fen": 500_000, "voucher_no": "V-R-1", "recovered_on": "2025-08-01"}, "olga"),
        ({"type": "revoke_award", "award_reference": "A-2", "decision_ref": "松市监〔2025〕31号",
          "reason": "企业迁出"}, "olga"),
        ({"type": "adjust_budget", "reference": "B-M10-ADJ", "measure": "M10", "fiscal_year": 2025,
          "delta_fen": 1_000_000, "decision_ref": "松财〔2025〕9号", "reason": "追加"}, "olga"),
        ({"type": "update_enterprise", "reference": "U-1", "uscc": f.USCC_B,
          "name": "上海松江精密电子股份有限公司", "town_code": "310117002", "industry": "电子"}, "olga"),
        *[({"type": "record_transfer_outcome", "reference": "T-1", "outcome": outcome,
            "on": "2025-09-01", **({"amount_fen": 2_000_000} if outcome == "revenue_reported" else {})},
           "olga")
          for outcome in ("recordal_completed", "implemented", "revenue_reported",
                          "patent_intensive_product_recognised", "terminated")],
        *[({"type": "record_financing_event", "reference": "F-1", "event": event, "on": on,
            "amount_fen": amount}, "olga")
          for event, on, amount in (("drawn", "2025-03-01", 100_000_000),
                                    ("repaid", "2025-06-01", 10_000_000),
                                    ("defaulted", "2025-09-01", 90_000_000))],
    ]  # fmt: skip
    for result in app.execute_many(commands):
        assert not isinstance(result, Exception), result
    token = app.issue_token("vic", actor="admin")
    app.revoke_token("vic", token.split("_")[1], actor="admin")
    app.grant_role("vic", "auditor", actor="admin")
    app.revoke_role("vic", "auditor", actor="admin")
    from projections.runner import catch_up

    catch_up(app)


def _strings(fields: dict[str, Any], out: set[str]) -> None:
    for name, value in fields.items():
        if isinstance(value, dict):
            _strings(value, out)
        elif isinstance(value, str) and name in IDENTIFYING_FIELDS and value:
            out.add(value)


def recorded_texts(app: Any) -> set[str]:
    """Every identifier and every text people recorded, from the events of the log (the
    measures' catalogue titles excepted: those have an English title to show)."""
    out: set[str] = set()
    for notification in app.recorder.select_notifications(start=1, limit=100_000):
        event = app.mapper.to_domain_event(notification)
        if AGGREGATE_OF.get(type(event)) is Measure:
            continue
        _strings(public_fields(type(event), vars(event)), out)
    return out


def samples(app: Any) -> dict[str, list[Any]]:
    """Values for the url_map's arguments, from the store."""
    catalogue = load_catalogue()
    enterprises = queries.enterprises(app, limit=100)
    awards = [a.award for e in enterprises for a in queries.awards_of(app, e.uscc, limit=100)]
    return {
        "uscc": [e.uscc for e in enterprises],
        "code": [m.code for m in catalogue.measures],
        "measure": [m.code for m in catalogue.measures],
        "position": list(range(1, app.log_position() + 1)),
        "reference": [a.reference for a in awards],
        "award_reference": [a.reference for a in awards],
        "year": queries.fiscal_years(app), "fiscal_year": queries.fiscal_years(app),
        "town": sorted({e.town_code for e in enterprises}),
        "town_code": sorted({e.town_code for e in enterprises}),
        "item": sorted({a.item for a in awards}),
    }  # fmt: skip


def _crawl_as(as_user: Any, web_app: Any, role: str, lang: str, seeds: list[str],
              per_endpoint: int | None) -> Crawl:  # fmt: skip
    client = as_user(ROLE_USERS[role])
    client.set_cookie("lang", lang)
    return crawl(client, web_app, seeds, per_endpoint=per_endpoint)


def test_no_page_shows_a_raw_code_in_chinese_or_chinese_in_english_for_any_role(
    seeded: Any, web_app: Any, as_user: Any
) -> None:
    """Each role reads every page it may reach in both languages (the auditor every event
    page, the others a few of each kind); anonymous visitors read the sign-in and error
    pages."""
    record_every_kind_of_event(seeded)
    found = samples(seeded)
    seeds = [*rule_paths(web_app, found), "/no-such-page", "/enterprises/NOSUCH", "/events/0"]
    recorded = recorded_texts(seeded)
    identifiers = recorded | set(ROLE_USERS.values()) | {"both", "oscar"}
    policy = load_catalogue()
    proper_names = recorded | {policy.title_zh, policy.policy_ref, "中文"}
    failures: list[str] = []
    reached: set[str] = set()
    for role in ROLE_USERS:
        for lang in ("zh", "en"):
            pages = _crawl_as(as_user, web_app, role, lang, seeds,
                              None if role == "auditor" else 3)  # fmt: skip
            assert len(pages.texts) >= 10, (role, lang, sorted(pages.statuses.items()))
            assert all(status < 500 for status in pages.statuses.values()), pages.statuses
            reached |= pages.endpoints
            if lang == "zh":
                failures += problems(pages, lambda t: raw_codes(t, identifiers), f"zh/{role}")
            else:
                failures += problems(pages, lambda t: untranslated(t, proper_names), f"en/{role}")
    for lang in ("zh", "en"):
        client = web_app.test_client()
        client.set_cookie("lang", lang)
        pages = crawl(client, web_app, ["/signin", "/no-such-page"])
        finder = (lambda t: raw_codes(t, identifiers)) if lang == "zh" else (
            lambda t: untranslated(t, proper_names))  # fmt: skip
        failures += problems(pages, finder, f"{lang}/anonymous")
    assert not failures, f"{len(failures)} raw codes or untranslated texts:\n" + "\n".join(
        failures[:60]
    )
    # files are not pages: downloads (.csv, .xlsx, .json, receipts) and the log's tiles
    pages_rules = {r.endpoint for r in web_app.url_map.iter_rules()
                   if "GET" in (r.methods or ()) and not r.rule.startswith(
                       ("/api", "/static", "/lang/", "/signout", "/exports", "/audit/", "/tlog/",
                        "/downloads/"))
                   and not r.rule.endswith((".json", ".csv", ".xlsx", ".tlog-proof"))}
    assert pages_rules - reached == set(), (
        "pages no crawl reached (give their URL arguments a sample in samples()): "
        f"{sorted(pages_rules - reached)}"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("转让方类型 university", ["university"]),
        ("方式 ordinary_licence", ["ordinary_licence"]),
        ("DisbursementApproved 已审批", ["DisbursementApproved"]),
        ("Award.Granted", ["Award.Granted"]),
        ("计入上限 True", ["True"]),
        ("{'a': 1}", ["{'", "': "]),
        ("状态 pending", ["pending"]),
        ("转化方式 未知（teleport）", ["未知（"]),
    ],
)
def test_the_raw_code_finder_catches_codes_left_in_chinese_text(text: str, expected: list[str]):
    assert sorted(t for t, _ in raw_codes(text, ())) == sorted(expected)


def test_the_raw_code_finder_leaves_identifiers_alone():
    text = "奖补 2025-AW-01114 的拨付 2025-PAY-01740 已审批 · 操作人 chen.jing · 9144030019 · abcdef0123456789abcdef"
    assert raw_codes(text, {"chen.jing"}) == []
    assert raw_codes("用户 admin 登记", {"admin"}) == []


def test_the_untranslated_finder_allows_only_proper_names():
    assert untranslated("Enterprise 上海某科技有限公司", {"上海某科技有限公司"}) == []
    assert [t for t, _ in untranslated("Status: 待审批", set())] == ["待审批"]
