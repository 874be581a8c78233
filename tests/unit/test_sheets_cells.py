"""Spreadsheet cells made into command values (`ledger.sheets.cells`, `ledger.sheets.rows`):
dates in the ways Chinese offices write them, yuan exactly from number cells, whole numbers,
coded choices by their Chinese names; headers and rows that are not commands."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerError
from ledger.money import parse_yuan
from ledger.sheets import cells
from ledger.sheets.rows import header_fields, is_not_a_command, names_a_field, row_command


@pytest.mark.parametrize("value", [
    "2025-05-01", "2025/5/1", "2025/05/01", "2025年5月1日", "2025 年 5 月 1 日", "2025.5.1",
    "２０２５／５／１", date(2025, 5, 1), datetime(2025, 5, 1),
])  # fmt: skip
def test_a_date_is_read_from_iso_slashes_chinese_and_date_cells(value: object) -> None:
    assert cells.date_text("paid_on", value) == "2025-05-01"


@pytest.mark.parametrize("value", ["5/1/2025", "20250501", "2025-05", "明天", 45778, 2025.5, True])
def test_anything_else_is_not_a_date_and_says_how_to_write_one(value: object) -> None:
    with pytest.raises(LedgerError) as caught:
        cells.date_text("paid_on", value)
    assert caught.value.code == "validation_error"
    assert "2025/5/1" in caught.value.message_en and "拨付日期" in caught.value.message_zh


def test_a_date_cell_with_a_time_of_day_is_refused() -> None:
    with pytest.raises(LedgerError, match="time of day"):
        cells.date_text("paid_on", datetime(2025, 5, 1, 9, 30))


def test_a_day_that_does_not_exist_is_left_for_the_schema_to_refuse() -> None:
    assert cells.date_text("paid_on", "2025/2/30") == "2025-02-30"


@pytest.mark.parametrize(("value", "text"), [
    (100000, "100000.00"), (1234.5, "1234.50"), (1234.56, "1234.56"), (0.1, "0.10"),
    (-50000, "-50000.00"), (1e16, "10000000000000000.00"), ("1,234.56", "1,234.56"),
])  # fmt: skip
def test_a_yuan_cell_keeps_its_exact_value(value: object, text: str) -> None:
    assert cells.yuan_text("amount_yuan", value) == text


@pytest.mark.parametrize("value", [1.234, 1000.125, 0.1 + 0.2, 1e-5])
def test_a_number_cell_of_more_than_two_decimals_is_refused_not_rounded(value: float) -> None:
    with pytest.raises(LedgerError) as caught:
        cells.yuan_text("amount_yuan", value)
    assert caught.value.code == "validation_error" and repr(value) in caught.value.message_en
    assert "金额（元）" in caught.value.message_zh and "两位小数" in caught.value.message_zh


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), date(2025, 5, 1)])
def test_a_cell_that_is_no_amount_is_refused(value: object) -> None:
    with pytest.raises(LedgerError):
        cells.yuan_text("amount_yuan", value)


@settings(max_examples=300, deadline=None, database=None)
@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_every_amount_in_fen_read_back_from_its_number_cell_is_exact(amount_fen: int) -> None:
    """A number cell holds the double nearest to the yuan amount; it reads back to the same fen."""
    cell = amount_fen / 100
    assert parse_yuan(cells.yuan_text("amount_yuan", cell), allow_negative=True) == amount_fen
    assert Decimal(cells.yuan_text("amount_yuan", cell)) * 100 == amount_fen


def test_whole_numbers_and_text_from_number_cells() -> None:
    assert cells.whole_number(2025.0) == 2025 and cells.whole_number("2025") == 2025
    assert cells.whole_number(2025.5) == 2025.5  # left for the schema to refuse
    assert cells.text("voucher_no", 20250601.0) == "20250601"
    assert cells.text("voucher_no", 12) == "12"


def test_choices_towns_items_and_measures_are_read_by_their_names() -> None:
    assert cells.choice("mode", "独占许可") == "exclusive_licence"
    assert cells.choice("mode", "exclusive_licence") == "exclusive_licence"
    assert cells.choice("instrument", "质押贷款") == "pledge_loan"
    assert cells.choice("town_code", "泗泾镇") == "310117101"
    assert cells.choice("town_code", "310117101") == "310117101"
    assert cells.choice("item", "高价值专利培育项目") == "high_value_patent_cultivation"
    assert cells.choice("measure", "M10 构建知识产权高质量创造梯度培育体系") == "M10"
    assert cells.choice("mode", "不知道") == "不知道"  # the schema refuses it, naming the choices


def test_headers_are_field_names_or_chinese_in_full_or_half_width() -> None:
    header = ["编号", "统一社会信用代码", "金额(元)", "拨付日期", "voucher_no", "", "备注"]
    assert names_a_field(header) and not names_a_field(["颜色", "尺寸"])
    assert header_fields(header) == [
        "reference", "uscc", "amount_yuan", "paid_on", "voucher_no", None, "备注",
    ]  # fmt: skip
    assert header_fields(["金额（元）", "金额"])[1] == "金额"  # twice: the second is refused


def test_empty_rows_notes_and_a_row_of_field_names_are_not_commands() -> None:
    columns = ["reference", "amount_yuan"]
    assert is_not_a_command([None, "  "], columns)
    assert is_not_a_command(["示例：PAY-1", 100], columns)
    assert is_not_a_command(["# a note", None], columns)
    assert is_not_a_command(["reference", "amount_yuan"], columns)
    assert is_not_a_command(["编号", "金额（元）"], columns)
    assert not is_not_a_command(["PAY-1", 100], columns)
    assert not is_not_a_command(["amount_yuan", "reference"], columns)


def test_a_row_becomes_the_command_its_schema_reads() -> None:
    columns = ["type", "reference", "award_reference", "amount_yuan", "voucher_no", "paid_on"]
    row = ["拨付登记", " P-1 ", "A-1", 1234.5, 20250601, datetime(2025, 6, 2)]
    assert row_command(columns, row, None) == {
        "type": "record_disbursement", "reference": "P-1", "award_reference": "A-1",
        "amount_yuan": "1234.50", "voucher_no": "20250601", "paid_on": "2025-06-02",
    }  # fmt: skip
    collateral = row_command(["collateral"], ["ZL201310699744.2；ZL201710601862.3"], "register_financing")
    assert collateral["collateral"] == ["ZL201310699744.2", "ZL201710601862.3"]
