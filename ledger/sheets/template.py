"""Import templates: a ready sheet for any command type, as `.xlsx` or CSV.

Row 1 holds the Chinese headers, row 2 the field names, row 3 an example whose first cell
begins with 示例 (the importer skips all three); officers fill in from row 4, or overwrite the
example. In a workbook the sheet is named by the type's Chinese name, drop-down lists (on a
hidden sheet 选项) offer the measures, items, towns and coded choices, and columns have widths,
number formats (text for codes, yuan with two decimals, dates) and input hints. A CSV template
is UTF-8 with a byte-order mark, so that Excel opens it in Chinese.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from marshmallow import fields

from ledger import commands
from ledger.command_fields import IsoDate
from ledger.commands import SCHEMAS
from ledger.identifiers import TOWNS
from ledger.sheets.headers import CHOICE_LABELS_ZH, TYPE_NAMES_ZH, header_zh

#: Rows a workbook template's drop-downs and formats reach (the header rows included).
TEMPLATE_ROWS = 5000
LISTS_SHEET = "选项"
EXAMPLE_PREFIX = "示例："
YUAN_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"

#: An example value of each field (dates as dates, amounts in yuan).
_EXAMPLES: dict[str, Any] = {
    "reference": "2025-0001",
    "uscc": "91310117MA1J3N5D3N",
    "name": "上海示例科技有限公司",
    "town_code": "岳阳街道",
    "industry": "智能制造",
    "measure": "M10",
    "item": "高价值专利培育项目",
    "fiscal_year": 2025,
    "award_reference": "AW-2025-0001",
    "clawback_reference": "CB-2025-0001",
    "financing_reference": "F-2025-0001",
    "amount_yuan": 100000,
    "delta_yuan": -50000,
    "contract_value_yuan": 800000,
    "principal_yuan": 5000000,
    "decision_ref": "松市监〔2025〕12号",
    "voucher_no": "V-2025-0001",
    "basis": "ZL201710601862.3",
    "reason": "银行退回",
    "patent_no": "201710601862.3",
    "transferor_name": "东华大学",
    "transferor_kind": "高校",
    "transferor_uscc": "",
    "mode": "转让",
    "outcome": "实施转化",
    "instrument": "质押贷款",
    "lender": "上海农商银行松江支行",
    "annual_rate_bp": 350,
    "term_months": 12,
    "collateral": "ZL201310699744.2",
    "event": "放款",
}
_REFERENCE_EXAMPLES = {
    commands.AppropriateBudget.type: "B-M10-2025",
    commands.AdjustBudget.type: "BA-M10-2025-01",
    commands.GrantAward.type: "AW-2025-0001",
    commands.RecordDisbursement.type: "PAY-2025-0001",
    commands.ApproveDisbursement.type: "PAY-2025-0001",
    commands.RejectDisbursement.type: "PAY-2025-0001",
    commands.ReverseDisbursement.type: "PAY-2025-0001",
    commands.OrderClawback.type: "CB-2025-0001",
    commands.RecordClawbackRecovery.type: "CR-2025-0001",
    commands.RecordPatentTransfer.type: "T-2025-0001",
    commands.RecordTransferOutcome.type: "T-2025-0001",
    commands.UpdateEnterprise.type: "EU-2025-0001",
    commands.RegisterFinancing.type: "F-2025-0001",
    commands.RecordFinancingEvent.type: "F-2025-0001",
}


def template_columns(command_type: str) -> list[str]:
    """The columns of a type's template: its fields in the schema's order, amounts in yuan."""
    schema = SCHEMAS[command_type]
    return [
        name[: -len("_fen")] + "_yuan" if name.endswith("_fen") else name
        for name in schema._declared_fields
        if name != "type"
    ]


def example_row(command_type: str) -> list[Any]:
    """The example row: a plausible value in every column, the first marked 示例."""
    schema = SCHEMAS[command_type]
    row: list[Any] = []
    for name in template_columns(command_type):
        if isinstance(schema._declared_fields.get(name), IsoDate):
            value: Any = date(2025, 5, 1)
        elif name == "reference":
            value = _REFERENCE_EXAMPLES.get(command_type, _EXAMPLES["reference"])
        else:
            value = _EXAMPLES.get(name, "")
        row.append(value)
    row[0] = f"{EXAMPLE_PREFIX}{row[0]}"
    return row


def choice_lists() -> dict[str, list[str]]:
    """The drop-down values of each field that has them (names, not codes)."""
    from ledger.catalogue import load_catalogue

    measures = load_catalogue().measures
    lists = {
        "measure": [f"{m.code} {m.title_zh}" for m in measures],
        "item": [item.title_zh for m in measures for item in m.items],
        "town_code": [town.name_zh for town in TOWNS.values()],
    }
    lists |= {name: list(labels.values()) for name, labels in CHOICE_LABELS_ZH.items()}
    return lists


def csv_template(command_type: str) -> bytes:
    """The CSV template: headers, field names, the example; UTF-8 with a byte-order mark."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    columns = template_columns(command_type)
    writer.writerow([header_zh(name) for name in columns])
    writer.writerow(columns)
    writer.writerow([_csv_cell(value) for value in example_row(command_type)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def xlsx_template(command_types: Sequence[str], path: str) -> None:
    """Write a workbook with one sheet per command type (named by its Chinese name)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    lists = _lists_sheet(book)
    for command_type in command_types:
        _type_sheet(book, command_type, lists)
    book.move_sheet(LISTS_SHEET, offset=len(book.sheetnames))
    book.active = 0
    book.save(path)


def _lists_sheet(book: Any) -> dict[str, str]:
    """The hidden sheet of drop-down values; the range formula of each list by field."""
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(LISTS_SHEET)
    sheet.sheet_state = "hidden"
    ranges: dict[str, str] = {}
    for column, (name, values) in enumerate(choice_lists().items(), start=1):
        letter = get_column_letter(column)
        sheet.cell(row=1, column=column, value=name)
        for row, value in enumerate(values, start=2):
            sheet.cell(row=row, column=column, value=value)
        ranges[name] = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def _type_sheet(book: Any, command_type: str, lists: dict[str, str]) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet = book.create_sheet(TYPE_NAMES_ZH[command_type])
    columns = template_columns(command_type)
    schema = SCHEMAS[command_type]
    sheet.append([header_zh(name) for name in columns])
    sheet.append(columns)
    sheet.append(example_row(command_type))
    sheet.freeze_panes = "A3"
    bold, grey = Font(bold=True), Font(color="808080", italic=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for index, name in enumerate(columns, start=1):
        header, field_row, example = (sheet.cell(row=r, column=index) for r in (1, 2, 3))
        header.font, header.fill = bold, fill
        field_row.font, example.font = grey, grey
        letter = header.column_letter
        number_format = _number_format(schema._declared_fields.get(name), name)
        sheet.column_dimensions[letter].width = max(14, 2 * len(header_zh(name)) + 4, len(name) + 4)
        sheet.column_dimensions[letter].number_format = number_format
        example.number_format = number_format
        if name in lists:
            validation = DataValidation(type="list", formula1=lists[name], allow_blank=True)
            validation.error = "请从下拉列表中选择 / choose from the list"
            validation.errorTitle = header_zh(name)
            validation.prompt = f"{header_zh(name)}（{name}）：请从下拉列表中选择"
            validation.showErrorMessage = validation.showInputMessage = True
            validation.add(f"{letter}3:{letter}{TEMPLATE_ROWS}")
            sheet.add_data_validation(validation)


def _number_format(schema_field: fields.Field | None, name: str) -> str:
    if name.endswith("_yuan"):
        return YUAN_FORMAT
    if isinstance(schema_field, IsoDate):
        return DATE_FORMAT
    if isinstance(schema_field, fields.Integer):
        return "0"
    return "@"  # text: credit codes and numbers of many digits stay as typed
