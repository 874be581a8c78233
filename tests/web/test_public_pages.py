"""The public disclosure pages: open without signing in, switchable off, publish only the
chosen fields, and answer bad arguments with 400 and a stable code (never a 5xx)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import factories as f
import pytest
from flask import Flask

from projections.giving360 import Publication
from projections.runner import catch_up
from web import create_app

FUNDER_ID = "CN-USCC-11310117MB0000000X"


def _client(seeded: Any, publication: Publication) -> Any:
    app: Flask = create_app({
        "LEDGER_APP": seeded, "TESTING": True, "SECRET_KEY": "test", "LEDGER_PUBLICATION": publication,
    })  # fmt: skip
    return app.test_client()


@pytest.fixture
def public(seeded: Any) -> Any:
    return _client(seeded, Publication(funder_org_id=FUNDER_ID))


def test_anyone_reads_the_awards_made_without_signing_in(public: Any) -> None:
    page = public.get("/public/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "扶持资金公示" in text and "上海松江精密电子有限公司" in text
    assert f.USCC_A in text and "A-2" in text
    assert "¥20,000.00" in text  # A-2's 2,000,000 fen, in yuan
    assert "共 2 项奖补" in text and "已拨付 ¥50,000.00" in text  # only the approved payment
    public.get("/lang/en")
    english = public.get("/public/").get_data(as_text=True)
    assert "Public disclosure of awards" in english and "2 awards" in english


def test_nothing_personal_is_published(public: Any) -> None:
    text = public.get("/public/").get_data(as_text=True)
    package = public.get("/public/360giving.json").get_data(as_text=True)
    for personal in ("olga", "oscar", "ada", "V-D-1"):  # actors and voucher numbers
        assert personal not in text and personal not in package


def test_the_360giving_package_counts_only_approved_payments(public: Any) -> None:
    response = public.get("/public/360giving.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    grants = {g["id"]: g for g in json.loads(response.get_data(as_text=True))["grants"]}
    one = grants["360G-songjiang-qsip-A-1"]
    assert one["amountAwarded"] == 100_000 and one["amountDisbursed"] == 50_000
    assert [t["id"] for t in one["disbursementTransaction"]] == ["D-1"]  # D-2 is pending
    assert one["recipientOrganization"] == [{"id": f"CN-USCC-{f.USCC_A}", "name": one["recipientOrganization"][0]["name"]}]
    assert one["fundingOrganization"][0]["id"] == FUNDER_ID


def test_a_reversed_payment_leaves_the_disclosed_amount_paid(seeded: Any, public: Any) -> None:
    result = seeded.execute({"type": "reverse_disbursement", "reference": "D-1", "reason": "重复拨付"}, actor="olga")
    assert not isinstance(result, Exception), result
    catch_up(seeded)
    grants = {g["id"]: g for g in public.get("/public/360giving.json").get_json()["grants"]}
    assert grants["360G-songjiang-qsip-A-1"]["amountDisbursed"] == 0
    assert grants["360G-songjiang-qsip-A-1"]["disbursementTransaction"] == []


def test_the_csv_opens_in_chinese_and_runs_no_formula(seeded: Any, public: Any) -> None:
    formula = f.enterprise(f.USCC_C, name="=HYPERLINK(\"http://x\")")
    for command in (formula, f.award("A-3", uscc=f.USCC_C, amount_fen=300)):
        assert not isinstance(seeded.execute(command, actor="olga"), Exception)
    catch_up(seeded)
    body = public.get("/public/360giving.csv").get_data(as_text=True)
    assert body.startswith("\ufeffIdentifier,Title,")
    rows = {r["Identifier"]: r for r in csv.DictReader(io.StringIO(body.removeprefix("\ufeff")))}
    assert rows["360G-songjiang-qsip-A-3"]["Recipient Org:Name"].startswith("'=")
    assert rows["360G-songjiang-qsip-A-3"]["Amount Awarded"] == "3"


def test_switched_off_every_public_address_is_not_found(seeded: Any) -> None:
    closed = _client(seeded, Publication(enabled=False, funder_org_id=FUNDER_ID))
    for path in ("/public/", "/public/360giving.json", "/public/360giving.csv"):
        assert closed.get(path).status_code == 404


def test_only_the_fields_the_administrator_chose_are_published(seeded: Any) -> None:
    chosen = Publication(funder_org_id=FUNDER_ID, fields=("enterprise_name", "uscc", "amount", "granted_on"))
    client = _client(seeded, chosen)
    text = client.get("/public/").get_data(as_text=True)
    package = client.get("/public/360giving.json").get_data(as_text=True)
    decision = f.award()["decision_ref"]
    assert decision not in text and decision not in package
    assert "amountDisbursed" not in package and "已拨付金额" not in text


def test_the_open_data_export_says_what_it_lacks_until_configured(seeded: Any) -> None:
    client = _client(seeded, Publication())
    assert client.get("/public/").status_code == 200
    response = client.get("/public/360giving.json")
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "disclosure_not_configured"
    assert body["details"]["missing"] == ["LEDGER_FUNDER_ORG_ID"]
    assert "LEDGER_FUNDER_ORG_ID" in body["message"] and "公开数据" in body["message_zh"]


@pytest.mark.parametrize("query", [
    "year=abc", "year=1999", "year=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95", "measure=M99",
    "measure=%00", "page=0", "page=-1", "page=9999999",
])  # fmt: skip
def test_bad_arguments_are_a_400_with_a_stable_code(public: Any, query: str) -> None:
    page = public.get(f"/public/?{query}")
    assert page.status_code == 400 and "error-detail" in page.get_data(as_text=True)
    if not query.startswith("page"):  # the exports are not paged
        export = public.get(f"/public/360giving.json?{query}")
        assert export.status_code == 400
        assert export.get_json()["code"] == "validation_error"


def test_filters_narrow_the_list_and_the_export_alike(public: Any) -> None:
    page = public.get("/public/?year=2025&measure=M10").get_data(as_text=True)
    assert "A-1" in page
    assert "A-1" not in public.get("/public/?measure=M01").get_data(as_text=True)
    # a package holds at least one grant (the standard's rule), so an empty choice is a 404
    empty = public.get("/public/360giving.json?measure=M01")
    assert empty.status_code == 404 and empty.get_json()["code"] == "not_found"


def test_every_page_links_to_the_disclosure_unless_it_is_off(seeded: Any, public: Any) -> None:
    assert 'href="/public/"' in public.get("/signin").get_data(as_text=True)
    closed = _client(seeded, Publication(enabled=False))
    assert 'href="/public/"' not in closed.get("/signin").get_data(as_text=True)
