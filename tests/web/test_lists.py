"""The awards and disbursements pages and API: filters agree between page, API and download;
sorts are whitelisted; bad filters are 400 (page) / 422 (API) `invalid_filter`, never a 5xx;
downloads open in openpyxl with a BOM'd CSV beside them; both stores."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import factories as f
import openpyxl
import pytest

from projections.runner import catch_up

EVIL_NAME = "=HYPERLINK(\"http://evil\",\"x\")"


@pytest.fixture
def viewer(as_user: Any, seeded: Any) -> Any:
    extra = [
        (f.enterprise(f.USCC_C, name=EVIL_NAME, town_code="310117102"), "olga"),
        (f.award("A-3", uscc=f.USCC_C, amount_fen=3_000_000, decision_ref="@松市监〔2025〕99号"), "olga"),
        (f.disbursement("D-3", award_reference="A-3", amount_fen=3_000_000, voucher_no="-V3",
                        paid_on="2025-06-01"), "olga"),
        (f.approve("D-3"), "ada"),
    ]  # fmt: skip
    for result in seeded.execute_many(extra):
        assert not isinstance(result, Exception), result
    catch_up(seeded)
    return as_user("vic")


def _refs(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<th scope="row">([A-Z0-9-]+)', body)


def test_pages_and_api_select_the_same_rows(viewer: Any, token: Any) -> None:
    headers = token("vic")
    for query, expected in (
        ("", ["D-1", "D-2", "D-3"]),
        ("status=approved", ["D-1", "D-3"]),
        ("status=pending", ["D-2"]),
        ("voucher_no=V3", ["D-3"]),
        (f"uscc={f.USCC_C[:6]}", ["D-3"]),
        ("date_from=2025-05-11&date_to=2025-12-31", ["D-3"]),
        ("town=310117102", ["D-3"]),
        ("measure=M01", []),
        ("sort=amount&order=desc", ["D-1", "D-3", "D-2"]),
    ):
        page = viewer.get(f"/disbursements?{query}")
        assert page.status_code == 200, query
        api = viewer.get(f"/api/v1/disbursements?{query}", headers=headers).get_json()
        assert _refs(page.get_data(as_text=True), "disbursements") == expected, query
        assert [d["reference"] for d in api["disbursements"]] == expected, query
        assert api["totals"]["count"] == len(expected)
    api = viewer.get("/api/v1/disbursements?status=approved", headers=headers).get_json()
    assert api["totals"]["amount_fen"] == 5_000_000 + 3_000_000 == api["totals"]["approved_fen"]
    assert {d["enterprise_name"] for d in api["disbursements"]} == {"上海测试科技有限公司", EVIL_NAME}


def test_awards_filters_sorts_and_totals(viewer: Any, token: Any) -> None:
    headers = token("vic")
    api = viewer.get("/api/v1/awards?sort=granted&order=desc", headers=headers).get_json()
    assert [a["reference"] for a in api["awards"]] == ["A-1", "A-3", "A-2"]
    assert api["totals"] == {**api["totals"], "count": 3, "granted_fen": 15_000_000,
                             "paid_fen": 8_000_000}  # fmt: skip
    page = viewer.get("/awards?status=pending").get_data(as_text=True)
    assert _refs(page, "awards") == ["A-1"]  # the award with a payment waiting
    assert "上海松江精密电子有限公司" not in page and "上海测试科技有限公司" in page
    assert "待审批" in page or "Pending" in page
    assert "high_value_patent_cultivation" not in page.split('id="awards"')[1]  # its title, not the code
    assert _refs(viewer.get("/awards?decision_ref=99").get_data(as_text=True), "awards") == ["A-3"]


BAD_QUERIES = (
    "status=paid", "measure=M99", "fiscal_year=20x5", "date_from=2025/5/1", "town=123",
    "sort=password", "order=up", "date_from=2025-06-01&date_to=2025-05-01", "uscc=%00",
    "decision_ref=a%01b", "item=DROP TABLE", "voucher_no=" + "9" * 101, "page=0", "actor=olga",
)  # fmt: skip


def test_a_bad_filter_is_refused_with_a_stable_code(viewer: Any, token: Any) -> None:
    headers = token("vic")
    for query in BAD_QUERIES:
        for path in ("/awards", "/disbursements"):
            page = viewer.get(f"{path}?{query}")
            assert page.status_code == 400, (path, query)
            assert "invalid_filter" in page.get_data(as_text=True)
            if query.startswith(("page=", "actor=")):  # the API ignores arguments it does not have
                continue
            api = viewer.get(f"/api/v1{path}?{query}", headers=headers)
            assert api.status_code == 422, (path, query, api.get_data(as_text=True))
            assert api.get_json()["code"] == "invalid_filter"
            assert api.get_json()["message_zh"]
            download = viewer.get(f"/downloads{path}.csv?{query}")
            assert download.status_code == 400, (path, query)
            assert "invalid_filter" in download.get_data(as_text=True)


def test_downloads_match_the_page_and_are_formula_safe(viewer: Any) -> None:
    data = viewer.get("/downloads/disbursements.csv?status=approved").get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert "视图位置" in lines[0][0] and "(UTC+8)" in lines[0][0]
    assert lines[1][:3] == ["编号", "奖励编号", "统一社会信用代码"] and lines[2][0] == "reference"
    body, total = lines[3:-1], lines[-1]
    assert [r[0] for r in body] == ["D-1", "D-3"]
    amount = lines[2].index("amount_yuan")
    assert total[0].startswith("合计") and total[amount] == "80000.00"
    cells = {c for r in body for c in r}
    assert "'" + EVIL_NAME in cells and "'-V3" in cells and "'@松市监〔2025〕99号" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)

    book = openpyxl.load_workbook(io.BytesIO(viewer.get("/downloads/awards.xlsx").get_data()))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[3:-1]] == ["A-1", "A-2", "A-3"]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)  # no formula cell
    granted = rows[2].index("granted_yuan")
    assert sheet.cell(row=4, column=granted + 1).number_format == "#,##0.00"
    assert round(rows[-1][granted] * 100) == 15_000_000


def test_downloads_of_every_list_and_who_may(viewer: Any, as_user: Any) -> None:
    for kind in ("enterprises", "budgets", "transfers", "financing"):
        for fmt in ("xlsx", "csv"):
            response = viewer.get(f"/downloads/{kind}.{fmt}")
            assert response.status_code == 200, (kind, fmt)
            assert f"{kind}-" in response.headers["Content-Disposition"]
    assert viewer.get("/downloads/trail.csv").status_code == 403  # the trail is for auditors
    assert as_user("aud").get("/downloads/trail.xlsx").status_code == 200
    assert viewer.get("/downloads/secrets.csv").status_code == 404
    assert viewer.get("/downloads/awards.pdf").status_code == 404
    for path in ("/enterprises", "/transfers", "/financing", "/measures", "/awards", "/disbursements"):
        assert "/downloads/" in viewer.get(path).get_data(as_text=True), path
