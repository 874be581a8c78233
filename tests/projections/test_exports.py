"""Exports on a small ledger, both stores: one snapshot (rows written meanwhile are not in it,
and its position is theirs), formula-safe cells in both formats, exact yuan, and the list
filters refusing what they do not have."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import factories as f
import openpyxl
import pytest

from projections import exports
from projections.exports.columns import Column
from projections.exports.writers import write_csv, write_xlsx
from projections.queries.disbursements import stream_disbursements
from projections.queries.list_filters import BadFilter, ListFilter
from projections.queries.snapshot import snapshot
from projections.runner import catch_up


def _seed(app: Any) -> None:
    for result in app.execute_many([
        (f.enterprise(), "olga"), (f.budget(), "olga"), (f.award(), "olga"),
        (f.disbursement(), "olga"), (f.approve(), "ada"),
    ]):  # fmt: skip
        assert not isinstance(result, Exception), result
    catch_up(app)


def test_an_export_reads_one_snapshot_while_the_views_move(app: Any) -> None:
    _seed(app)
    with snapshot(app) as view:
        position = view.position()
        assert position == app.log_position()
        # meanwhile a payment is recorded and the views catch up (another connection)
        assert not isinstance(app.execute(f.disbursement("D-2", amount_fen=1_000), "olga"), Exception)
        catch_up(app)
        rows = list(stream_disbursements(view, ListFilter()))
        assert view.position() == position
    assert [r.reference for r in rows] == ["D-1"]
    with snapshot(app) as view:
        assert view.position() > position
        assert [r.reference for r in stream_disbursements(view, ListFilter())] == ["D-1", "D-2"]


def test_the_header_line_names_the_position_and_the_filters(app: Any) -> None:
    _seed(app)
    out = io.BytesIO()
    done = exports.export(app, "awards", exports.filter_for("awards", {"measure": "m10"}), "csv", out)
    assert done.rows == 1 and done.position == app.log_position()
    header = out.getvalue().decode("utf-8-sig").splitlines()[0]
    assert f"{done.position:,}" in header and "measure=M10" in header and "(UTC+8)" in header


COLUMNS = (Column("name", "名称"), Column("amount_yuan", "金额（元）", "yuan"))
ROWS = [{"name": text, "amount_fen": fen} for text, fen in (
    ("=1+1", 1), ("+86 21", -10_000), ("-2", 123_456_789_012), ("@SUM(A1)", 0),
    ("\tTAB", 5), ("普通名称", 99),
)]  # fmt: skip


def test_cells_that_start_like_formulas_are_text_in_both_formats() -> None:
    data = io.BytesIO()
    totals = write_csv(data, "=header", COLUMNS, ROWS)
    lines = list(csv.reader(io.StringIO(data.getvalue().decode("utf-8-sig"))))
    assert lines[0] == ["'=header"]
    assert [r[0] for r in lines[3:-1]] == ["'=1+1", "'+86 21", "'-2", "'@SUM(A1)", "'\tTAB", "普通名称"]
    assert [r[1] for r in lines[3:-1]] == ["0.01", "-100.00", "1234567890.12", "0.00", "0.05", "0.99"]
    assert totals.fen[1] == sum(r["amount_fen"] for r in ROWS)
    assert Decimal(lines[-1][1]) * 100 == totals.fen[1]

    book = io.BytesIO()
    write_xlsx(book, "=header", "表", COLUMNS, ROWS)
    sheet = openpyxl.load_workbook(io.BytesIO(book.getvalue())).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    names = [sheet.cell(row=n, column=1).value for n in range(4, 10)]
    assert names == ["'=1+1", "'+86 21", "'-2", "'@SUM(A1)", "'\tTAB", "普通名称"]
    amount = sheet.cell(row=5, column=2)
    assert amount.number_format == "#,##0.00" and amount.data_type == "n" and amount.value == -100
    assert sheet.cell(row=6, column=2).value == pytest.approx(1_234_567_890.12)


@pytest.mark.parametrize(
    ("kind", "args"),
    [("enterprises", {"status": "approved"}), ("budgets", {"uscc": "9131"}),
     ("trail", {"item": "x"}), ("awards", {"actor": "olga"}), ("awards", {"sort": "name; DROP"}),
     ("transfers", {"sort": "signed_on"})],
)  # fmt: skip
def test_a_list_refuses_a_filter_it_does_not_have(kind: str, args: dict[str, str]) -> None:
    with pytest.raises(BadFilter) as refused:
        exports.filter_for(kind, args)
    assert refused.value.code == "invalid_filter" and refused.value.message_zh
