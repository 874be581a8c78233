"""The indicator pages, their 说明 page and JSON, and the report pages with their .xlsx
downloads, over the small seeded year of tests/web/conftest.py, on both stores."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from html import unescape
from typing import Any

import openpyxl

from projections import queries
from projections.queries.indicator_definitions import DEFINITIONS
from projections.queries.indicators import indicators
from web import create_app
from web.indicators import _readable

YEAR = 2025
PAGES = [
    f"/indicators?year={YEAR}", "/indicators/help", f"/indicators.json?year={YEAR}",
    f"/reports/annual?year={YEAR}", f"/reports/annual?year={YEAR}&town=310117001",
    f"/reports/monthly?year={YEAR}&month=5", f"/reports/annual.xlsx?year={YEAR}",
    f"/reports/monthly.xlsx?year={YEAR}&month=5",
]  # fmt: skip


def visible_text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(svg|style)\b.*?</\1>", " ", html, flags=re.S)))


def test_the_indicators_page_shows_every_scope_with_units_and_the_progress_chart_in_zh_and_en(
    as_user: Any,
) -> None:
    response = as_user("vic").get(f"/indicators?year={YEAR}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "<script" not in html and "style=" not in html
    for scope in ("district", "pillar", "measure", "town"):
        assert f'id="table-{scope}"' in html
    assert "<svg" in html  # the progress chart, drawn on the server
    text = visible_text(html)
    # M10: 50,000 yuan paid of a 5,000,000-yuan budget; first paid 39 days after the grant
    assert "1.0%" in text and "5.00 万元" in text and "39 天" in text
    assert "预算执行率" in text and "按时拨付率" in text and "序时进度" in text
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), re.findall(r"\b[a-z]+_[a-z_]+\b", text)

    # … and in English too
    client = as_user("vic")
    client.set_cookie("lang", "en")
    text = visible_text(client.get(f"/indicators?year={YEAR}&scope=measure").get_data(as_text=True))
    assert "Budget execution rate" in text and "39 days" in text and "¥0.05 m" in text
    assert "预算执行率" not in text


def test_the_help_page_explains_every_indicator_in_chinese_and_english(as_user: Any) -> None:
    text = visible_text(as_user("vic").get("/indicators/help").get_data(as_text=True))
    for d in DEFINITIONS:
        # the formulas as people read them: the field names they mention in words
        shown = _readable(d)
        for part in (d.name_zh, d.name_en, d.unit_zh, shown["formula_zh"][:20], shown["formula_en"][:20]):
            assert part in text, (d.field, part)
    assert "LEDGER_ON_TIME_DAYS" in text and "30" in text


def test_the_json_is_the_query_and_the_threshold_follows_the_request_and_the_setting(
    as_user: Any, seeded: Any, sign_in_as: Any
) -> None:
    client = as_user("vic")
    want = json.loads(json.dumps(indicators(seeded, YEAR).to_dict()))  # tuples as lists
    assert client.get(f"/indicators.json?year={YEAR}").get_json() == want
    asked = client.get(f"/indicators.json?year={YEAR}&on_time_days=60").get_json()
    assert asked["on_time_days"] == 60 and asked["district"]["on_time_days"] == 60
    configured = create_app({"LEDGER_APP": seeded, "TESTING": True, "SECRET_KEY": "test",
                             "LEDGER_ON_TIME_DAYS": 45})  # fmt: skip
    other = configured.test_client()
    sign_in_as(other, "vic")
    assert other.get(f"/indicators.json?year={YEAR}").get_json()["on_time_days"] == 45


BAD_QUERIES = [
    ("/indicators?year=abc", "invalid_year"), ("/indicators?year=1999", "invalid_year"),
    ("/indicators?year=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95", "invalid_year"),  # full-width digits
    ("/indicators?scope=everything", "invalid_scope"), ("/indicators?scope=%00", "validation_error"),
    ("/indicators?on_time_days=0", "invalid_on_time_days"),
    ("/indicators?on_time_days=99999999999999999999", "invalid_on_time_days"),
    ("/indicators.json", "invalid_year"), ("/indicators.json?year=20x5", "invalid_year"),
    ("/reports/annual?year=2025&town=310117999", "invalid_town"),
    ("/reports/annual.xlsx?year=-1", "invalid_year"),
    ("/reports/monthly?year=2025", "invalid_month"), ("/reports/monthly?year=2025&month=13", "invalid_month"),
    ("/reports/monthly.xlsx?year=2025&month=0", "invalid_month"),
]  # fmt: skip


def test_bad_query_values_are_answered_400_with_a_stable_code_and_the_pages_need_a_viewer(
    as_user: Any, client: Any
) -> None:
    for path in PAGES:
        response = client.get(path)  # not signed in
        assert response.status_code == 302 and "/signin" in response.headers["Location"], path
    client = as_user("vic")
    for path, code in BAD_QUERIES:  # one signed-in client for all (a fresh store costs seconds)
        response = client.get(path)
        assert response.status_code == 400, path
        assert response.headers["X-Error-Code"] == code, path
        body = response.get_data(as_text=True)
        if path.split("?")[0].endswith(".json"):
            data = response.get_json()
            assert data["code"] == code and data["message"] and data["message_zh"]
        else:
            assert f'data-code="{code}"' in body and "Traceback" not in body
            assert code not in visible_text(body), path  # the code is for machines; people read words


def test_the_annual_report_page_and_its_workbook_equal_the_measure_balances(
    as_user: Any, seeded: Any
) -> None:
    client = as_user("vic")
    html = client.get(f"/reports/annual?year={YEAR}").get_data(as_text=True)
    balances = {b.measure: b for b in queries.measure_balances(seeded, fiscal_year=YEAR)}
    assert "50,000.00" in html and "5,000,000.00" in html and 'href="/reports/annual.xlsx?year=2025"' in html
    response = client.get(f"/reports/annual.xlsx?year={YEAR}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = list(rows[5])
    data = {r[0]: r for r in rows[6:] if r[0] in balances}
    assert set(data) == set(balances)
    for code, b in balances.items():
        for name, label in (("appropriated_fen", "Appropriated"), ("paid_fen", "Net paid"),
                            ("remaining_fen", "Remaining")):  # fmt: skip
            n = next(i for i, h in enumerate(header) if str(h).startswith(label))
            assert int(Decimal(str(data[code][n])) * 100) == getattr(b, name), (code, name)
    for path in PAGES[4:6]:
        assert client.get(path).status_code == 200, path
