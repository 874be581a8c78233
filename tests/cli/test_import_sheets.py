"""`ledger import` of the spreadsheets officers keep: CSV saved by Chinese Excel (GBK), UTF-8
with a BOM, `.xlsx` workbooks made from `ledger template` and filled in with openpyxl; Chinese
headers, Excel date cells and Chinese dates, yuan in number cells; files refused whole.
Both stores, through the real command line and a real store."""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from factories import USCC_A, USCC_B, budget, enterprise

from ledger.cli import cli
from ledger.storage import open_ledger

GBK_SHEET = (
    "编号,统一社会信用代码,措施,支持事项,年度,金额（元）,文号,批准日期\n"
    f'A-1,{USCC_A},M10,高价值专利培育项目,2025,"100,000.00",松市监〔2025〕1号,2025/5/1\n'
    f"A-2,{USCC_A},M10 构建知识产权高质量创造梯度培育体系,high_value_patent_cultivation,2025,"
    "2500.5,松市监〔2025〕2号,2025年5月1日\n"
    f"A-3,{USCC_A},M10,高价值专利培育项目,2025,1.234,松市监〔2025〕3号,2025-05-01\n"
)


@pytest.fixture
def ledger(database_url: str) -> Any:
    """Run `ledger …` on a fresh store with an officer, an approver, an enterprise and a budget."""

    def run(*args: str, actor: str | None = "olga") -> Any:
        env = {"LEDGER_DATABASE_URL": database_url, "LEDGER_ACTOR": actor or ""}
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    assert run("init").exit_code == 0
    assert run("users", "add", "admin", "--role", "admin", actor=None).exit_code == 0
    for name, role in (("olga", "officer"), ("ada", "approver")):
        assert run("users", "add", name, "--role", role, actor="admin").exit_code == 0
    for command in (enterprise(), budget()):
        assert run("record", json.dumps(command)).exit_code == 0
    return run


def report_of(result: Any) -> dict[str, Any]:
    return json.loads(result.output.splitlines()[-1])


def award_state(ledger: Any, reference: str) -> dict[str, Any] | None:
    shown = ledger("show", "award", reference, "--json")
    return json.loads(shown.output) if shown.exit_code == 0 else None


def log_position(database_url: str) -> int:
    app = open_ledger(database_url)
    try:
        return app.log_position()
    finally:
        app.close()


def test_a_gbk_csv_saved_by_chinese_excel_imports_with_chinese_headers_and_dates(ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sheet = tmp_path / "奖补.csv"
    sheet.write_bytes(GBK_SHEET.encode("gbk"))
    result = ledger("import", str(sheet), "--type", "奖补认定", "--json")
    assert result.exit_code == 1, result.output
    report = report_of(result)
    assert report["accepted"] == 2
    assert [(r["line"], r["code"]) for r in report["rejected"]] == [(4, "validation_error")]
    assert "两位小数" in report["rejected"][0]["message_zh"]
    first, second = award_state(ledger, "A-1"), award_state(ledger, "A-2")
    assert first is not None and first["granted_fen"] == 10_000_000
    assert second is not None and second["granted_fen"] == 250_050
    assert award_state(ledger, "A-3") is None
    again = ledger("import", str(sheet), "--type", "grant_award", "--json")
    assert report_of(again)["accepted"] == 0 and report_of(again)["duplicates"] == 2


def test_a_utf8_csv_with_a_byte_order_mark_imports(ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sheet = tmp_path / "awards.csv"
    sheet.write_bytes("\ufeff".encode() + GBK_SHEET.encode("utf-8"))
    result = ledger("import", str(sheet), "--type", "grant_award", "--json")
    assert report_of(result)["accepted"] == 2, result.output
    assert award_state(ledger, "A-2")["granted_fen"] == 250_050  # type: ignore[index]


def test_an_encoding_given_wins_over_detection(ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sheet = tmp_path / "awards.csv"
    sheet.write_bytes(GBK_SHEET.encode("gbk"))
    refused = ledger("import", str(sheet), "--type", "grant_award", "--encoding", "utf-8", "--json")
    assert refused.exit_code == 2 and report_of(refused)["error"]["code"] == "unreadable_file"
    read = ledger("import", str(sheet), "--type", "grant_award", "--encoding", "gbk", "--json")
    assert report_of(read)["accepted"] == 2
    unknown = ledger("import", str(sheet), "--encoding", "klingon")
    assert unknown.exit_code == 2 and "klingon" in unknown.output


def fill(path: Path, sheet_name: str, rows: list[list[Any]], first_row: int = 4) -> None:
    """Write rows into a template's sheet from `first_row` on, as an officer would in Excel."""
    book = openpyxl.load_workbook(path)
    sheet = book[sheet_name]
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=first_row + offset, column=column, value=value)
    book.save(path)


def test_a_template_filled_in_with_openpyxl_records_exactly_its_rows(ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "奖补认定.xlsx"
    made = ledger("template", "grant_award", "-o", str(path))
    assert made.exit_code == 0, made.output
    columns = [c.value for c in openpyxl.load_workbook(path)["奖补认定"][2]]
    assert columns[:4] == ["reference", "uscc", "measure", "item"]
    # reference, uscc, measure, item, fiscal_year, amount_yuan, decision_ref, granted_on, …
    fill(path, "奖补认定", [
        ["A-1", USCC_A, "M10 构建知识产权高质量创造梯度培育体系", "高价值专利培育项目", 2025, 100000,
         "松市监〔2025〕1号", datetime(2025, 5, 1)],
        ["A-2", USCC_A, "M10", "high_value_patent_cultivation", 2025, 1234.56, "松市监〔2025〕2号",
         "2025/5/1"],
        ["A-3", USCC_A, "M10", "高价值专利培育项目", 2025, "2,000.10", "松市监〔2025〕3号", "2025年5月2日"],
    ])  # fmt: skip
    result = ledger("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = report_of(result)
    assert (report["accepted"], report["duplicates"], report["rejected"]) == (3, 0, [])
    assert report["skipped_sheets"] == ["选项"]  # the drop-down lists
    states = {ref: award_state(ledger, ref) for ref in ("A-1", "A-2", "A-3")}
    assert {ref: s["granted_fen"] for ref, s in states.items()} == {  # type: ignore[index]
        "A-1": 10_000_000, "A-2": 123_456, "A-3": 200_010,
    }  # fmt: skip
    assert award_state(ledger, "AW-2025-0001") is None  # the example row is not a command
    assert report_of(ledger("import", str(path), "--json"))["duplicates"] == 3


def test_a_workbook_of_every_type_imports_sheet_by_sheet_in_order(ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "全部.xlsx"
    assert ledger("template", "all", "-o", str(path)).exit_code == 0
    fill(path, "企业登记", [[USCC_B, "上海另一家科技有限公司", "泗泾镇", "新材料"]], first_row=3)
    fill(path, "奖补认定", [["A-9", USCC_B, "M10", "高价值专利培育项目", 2025, 50000, "松市监〔2025〕9号",
                          date(2025, 6, 1)]])  # fmt: skip
    fill(path, "拨付登记", [["P-9", "A-9", 20000, 20250601, date(2025, 6, 2)]])
    result = ledger("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert report_of(result)["accepted"] == 3
    shown = json.loads(ledger("show", "enterprise", USCC_B, "--json").output)
    assert shown["town_code"] == "310117101"
    assert award_state(ledger, "A-9")["pending_fen"] == 2_000_000  # type: ignore[index]


def test_a_number_cell_of_three_decimals_is_refused_by_sheet_and_row(ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "awards.xlsx"
    assert ledger("template", "grant_award", "-o", str(path)).exit_code == 0
    fill(path, "奖补认定", [
        ["A-1", USCC_A, "M10", "高价值专利培育项目", 2025, 1000, "松市监〔2025〕1号", date(2025, 5, 1)],
        ["A-2", USCC_A, "M10", "高价值专利培育项目", 2025, 1000.125, "松市监〔2025〕2号", date(2025, 5, 1)],
        ["A-3", USCC_A, "M10", "高价值专利培育项目", 2025, 1000, "松市监〔2025〕3号", "5/1/2025"],
        ["A-4", USCC_A, "M10", "高价值专利培育项目", 2025, 1000, "松市监〔2025〕4号",
         datetime(2025, 5, 1, 9, 30)],
    ])  # fmt: skip
    result = ledger("import", str(path), "--json")
    assert result.exit_code == 1
    rejected = report_of(result)["rejected"]
    assert [(r["sheet"], r["line"], r["code"]) for r in rejected] == [
        ("奖补认定", 5, "validation_error"), ("奖补认定", 6, "validation_error"),
        ("奖补认定", 7, "validation_error"),
    ]  # fmt: skip
    assert "1000.125" in rejected[0]["message"] and "两位小数" in rejected[0]["message_zh"]
    assert "2025年5月1日" in rejected[1]["message"]
    assert award_state(ledger, "A-1")["granted_fen"] == 100_000  # type: ignore[index]
    assert all(award_state(ledger, ref) is None for ref in ("A-2", "A-3", "A-4"))
    human = ledger("import", str(path))
    assert "工作表“奖补认定”第 5 行 / sheet '奖补认定' row 5" in human.output
    assert "1000.125" in human.output and "两位小数" in human.output


def _zip_without_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")


def _workbook_without_commands(path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.active.append(["colour", "size"])
    book.save(path)


REFUSED = [
    ("random bytes as CSV", "data.csv", lambda p: p.write_bytes(bytes(range(256)) * 8)),
    ("neither UTF-8 nor GB18030", "data.csv",
     lambda p: p.write_bytes(b"type,reference\nregister_enterprise,caf\xe9 \xff\n")),
    ("ZIP header, then junk", "data.xlsx", lambda p: p.write_bytes(b"PK\x03\x04" + b"\x01" * 200)),
    ("Excel 97-2003", "data.xls", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)),
    ("a ZIP that is no workbook", "data.xlsx", _zip_without_workbook),
    ("a workbook without a sheet of commands", "data.xlsx", _workbook_without_commands),
]  # fmt: skip


def test_binary_or_undecodable_files_are_refused_whole_with_a_stable_code(ledger, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = log_position(database_url)
    for name, filename, write in REFUSED:
        path = tmp_path / filename
        write(path)
        result = ledger("import", str(path), "--json")
        assert result.exit_code == 2, (name, result.output)
        error = json.loads(result.output)["error"]
        assert error["code"] == "unreadable_file" and error["message"] and error["message_zh"], name
        path.unlink()
    assert log_position(database_url) == before


def test_a_csv_template_filled_in_records_exactly_its_rows(ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "拨付登记.csv"
    assert ledger("template", "拨付登记", "-o", str(path)).exit_code == 0
    raw = path.read_bytes()
    assert raw.startswith("\ufeff编号,奖励编号,金额（元）,凭证号,拨付日期\r\n".encode())
    assert ledger("import", str(path), "--type", "record_disbursement", "--json").exit_code == 0
    award = tmp_path / "award.jsonl"
    award.write_text(json.dumps({"type": "grant_award", "reference": "A-1", "uscc": USCC_A,
                                 "measure": "M10", "item": "high_value_patent_cultivation",
                                 "fiscal_year": 2025, "amount_fen": 10_000_000,
                                 "decision_ref": "松市监〔2025〕1号", "granted_on": "2025-04-01"}),
                     encoding="utf-8")  # fmt: skip
    assert ledger("import", str(award)).exit_code == 0
    with path.open("a", encoding="utf-8", newline="") as out:
        out.write("P-1,A-1,\"1,000.00\",V-1,2025/5/1\r\nP-2,A-1,2500.5,V-2,2025年5月2日\r\n")
    result = ledger("import", str(path), "--type", "record_disbursement", "--json")
    assert report_of(result) == {"accepted": 2, "duplicates": 0, "rejected": []}, result.output
    assert award_state(ledger, "A-1")["pending_fen"] == 100_000 + 250_050  # type: ignore[index]
