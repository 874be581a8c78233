"""`ledger template`: what a workbook template offers an officer in Excel — Chinese headers over
the field names, an example, drop-down lists from the catalogue and the towns, number formats
and widths — for every command type. No store is needed."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from ledger.cli import cli
from ledger.commands import SCHEMAS
from ledger.identifiers import TOWNS
from ledger.sheets.headers import TYPE_NAMES_ZH
from ledger.sheets.template import LISTS_SHEET, template_columns


def make(tmp_path: Path, *args: str) -> openpyxl.Workbook:
    path = tmp_path / "template.xlsx"
    result = CliRunner().invoke(cli, ["template", *args, "-o", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(path)


def lists_of(book: openpyxl.Workbook) -> dict[str, list[str]]:
    sheet = book[LISTS_SHEET]
    columns = list(sheet.iter_cols(values_only=True))
    return {column[0]: [v for v in column[1:] if v is not None] for column in columns}


def test_every_command_type_has_a_sheet_of_its_columns_with_an_example(tmp_path: Path) -> None:
    book = make(tmp_path, "all")
    assert book.sheetnames == [*TYPE_NAMES_ZH.values(), LISTS_SHEET]
    assert book[LISTS_SHEET].sheet_state == "hidden"
    for command_type in SCHEMAS:
        sheet = book[TYPE_NAMES_ZH[command_type]]
        header, names, example = (list(r) for r in sheet.iter_rows(max_row=3, values_only=True))
        assert names == template_columns(command_type)
        assert all(isinstance(h, str) and h for h in header)
        assert str(example[0]).startswith("示例：")
        assert sheet.freeze_panes == "A3"


def test_drop_downs_offer_measures_items_towns_and_choices(tmp_path: Path) -> None:
    book = make(tmp_path, "record_patent_transfer")
    lists = lists_of(book)
    assert len(lists["measure"]) == 13 and lists["measure"][9].startswith("M10 ")
    assert "高价值专利培育项目" in lists["item"]
    assert lists["town_code"] == [town.name_zh for town in TOWNS.values()]
    assert lists["mode"] == ["转让", "独占许可", "排他许可", "普通许可", "开放许可"]
    assert lists["instrument"] == ["质押贷款", "知识产权保险", "证券化"]
    sheet = book["专利转移转化"]
    columns = template_columns("record_patent_transfer")
    validated = {str(v.sqref).split(":")[0]: v for v in sheet.data_validations.dataValidation}
    for name in ("transferor_kind", "mode"):
        letter = openpyxl.utils.get_column_letter(columns.index(name) + 1)
        validation = validated[f"{letter}3"]
        assert validation.type == "list" and LISTS_SHEET in validation.formula1


@pytest.mark.parametrize(("name", "number_format"), [
    ("amount_yuan", "#,##0.00"), ("granted_on", "yyyy-mm-dd"), ("fiscal_year", "0"), ("uscc", "@"),
])  # fmt: skip
def test_columns_have_number_formats_and_widths(tmp_path: Path, name: str, number_format: str) -> None:
    sheet = make(tmp_path, "grant_award")["奖补认定"]
    letter = openpyxl.utils.get_column_letter(template_columns("grant_award").index(name) + 1)
    assert sheet[f"{letter}3"].number_format == number_format
    assert sheet.column_dimensions[letter].width >= 14


def test_an_unknown_type_is_refused_with_the_list_of_types(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["template", "grant", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2 and "no such command type" in result.output
    assert not (tmp_path / "x.xlsx").exists()
    assert "奖补认定" in CliRunner().invoke(cli, ["template", "--help"]).output
