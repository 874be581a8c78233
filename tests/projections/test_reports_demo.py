"""The execution reports of the demo year, written by `ledger report`, agree with `ledger
balances … --json` (run as commands against the same store), open with openpyxl, and refuse
bad options with a stable code and exit status 2, writing nothing. Both stores."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from demo_store import YEAR, demo_ledger

from ledger.cli import cli
from ledger.money import format_yuan

#: Rows above the data on every sheet: title (zh, en), made at, blank, header (zh, en).
HEADER_ROWS = 6
BUDGET_FIELDS = ("appropriated_fen", "committed_fen", "released_fen", "paid_fen", "remaining_fen")


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_ledger(request, tmp_path_factory)[0]


def ledger(url: str, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--database-url", url, *args])
    return result


def sheet_rows(path: Path, sheet: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The English header and the data rows (total included) of one sheet, as stored."""
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book.worksheets[sheet].iter_rows(values_only=True))
    book.close()
    header = [str(c) for c in rows[HEADER_ROWS - 1]]
    data = [r for r in rows[HEADER_ROWS:] if r[0] is not None and " / " not in str(r[0])]
    return header, data


def fen(value: Any) -> int:
    """A yuan amount as the workbook stores it, back in fen (exactly)."""
    return int(Decimal(str(value)) * 100)


def column(header: list[str], label: str) -> int:
    return next(n for n, text in enumerate(header) if text.startswith(label))


def test_the_annual_report_totals_equal_ledger_balances_measure_for_every_measure(
    demo_url: str, tmp_path: Path
) -> None:
    balances = ledger(demo_url, "balances", "measure", "--year", str(YEAR), "--json")
    assert balances.exit_code == 0, balances.output
    expected = {b["measure"]: b for b in json.loads(balances.output)}
    assert len(expected) == 13

    out = tmp_path / "annual.xlsx"
    result = ledger(demo_url, "report", "annual", "--year", str(YEAR), "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.output
    header, rows = sheet_rows(out, 0)
    columns = {name: column(header, label) for name, label in (
        ("appropriated_fen", "Appropriated"), ("committed_fen", "Committed"),
        ("released_fen", "Released"), ("paid_fen", "Net paid"), ("remaining_fen", "Remaining"),
    )}  # fmt: skip
    *measure_rows, total = rows
    assert {r[0] for r in measure_rows} == set(expected)
    for row in measure_rows:
        want = expected[row[0]]
        for name, n in columns.items():
            assert fen(row[n]) == want[name], (row[0], name)
        assert row[column(header, "Awards")] == want["awards"]
        assert row[column(header, "Execution rate")] == round(want["paid_fen"] / want["appropriated_fen"], 4)
    assert total[0].startswith("合计")
    for name, n in columns.items():
        assert fen(total[n]) == sum(b[name] for b in expected.values()), name

    page = tmp_path / "annual.html"
    result = ledger(demo_url, "report", "annual", "--year", str(YEAR), "--format", "html", "-o", str(page))
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "预算执行率" in text and "Execution rate" in text
    for want in expected.values():
        assert format_yuan(want["paid_fen"]) in text
    assert format_yuan(sum(b["paid_fen"] for b in expected.values())) in text


def test_the_annual_report_of_a_town_equals_ledger_balances_town(demo_url: str, tmp_path: Path) -> None:
    town = "310117101"
    balances = ledger(demo_url, "balances", "town", town, "--year", str(YEAR), "--json")
    assert balances.exit_code == 0, balances.output
    (want,) = json.loads(balances.output)
    out = tmp_path / "town.xlsx"
    result = ledger(demo_url, "report", "annual", "--year", str(YEAR), "--town", town, "-o", str(out))
    assert result.exit_code == 0, result.output
    header, rows = sheet_rows(out, 0)
    total = rows[-1]
    for name, label in (("granted_fen", "Granted"), ("revoked_fen", "Revoked"),
                        ("paid_fen", "Net paid"), ("pending_fen", "Pending approval"),
                        ("outstanding_fen", "Outstanding")):  # fmt: skip
        assert fen(total[column(header, label)]) == want[name], name
    assert total[column(header, "Awards")] == want["awards"]


def test_the_monthly_report_adds_up_to_the_net_paid_by_december(demo_url: str, tmp_path: Path) -> None:
    balances = json.loads(ledger(demo_url, "balances", "measure", "--year", str(YEAR), "--json").output)
    paid = {b["measure"]: b["paid_fen"] for b in balances}
    cumulative: dict[str, int] = {}
    month_sum: dict[str, int] = dict.fromkeys(paid, 0)
    for month in (6, 12):
        out = tmp_path / f"m{month}.xlsx"
        result = ledger(demo_url, "report", "monthly", "--year", str(YEAR), "--month", str(month), "-o", str(out))
        assert result.exit_code == 0, result.output
        header, rows = sheet_rows(out, 0)
        in_month, to_date = column(header, "Net paid in the month"), column(header, "Cumulative")
        for row in rows[:-1]:
            if month == 6:
                cumulative[row[0]] = fen(row[to_date])
            else:
                month_sum[row[0]] = fen(row[in_month])
                assert fen(row[to_date]) == paid[row[0]], row[0]  # the demo pays nothing later
                assert cumulative[row[0]] <= fen(row[to_date])
    assert any(month_sum.values())


@pytest.mark.parametrize(("args", "code"), [
    (["annual", "--year", str(YEAR), "--town", "310117999"], "invalid_town"),
    (["annual", "--year", "1999"], "--year"),
    (["annual", "--year", str(YEAR), "--format", "pdf"], "--format"),
    (["monthly", "--year", str(YEAR), "--month", "13"], "--month"),
])  # fmt: skip
def test_bad_report_options_exit_2_with_their_reason_and_write_nothing(
    demo_url: str, tmp_path: Path, args: list[str], code: str
) -> None:
    out = tmp_path / "report.xlsx"
    result = ledger(demo_url, "report", *args, "-o", str(out))
    assert result.exit_code == 2, result.output
    assert code in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_ledger_indicators_prints_labels_and_units_and_json_in_fen(demo_url: str) -> None:
    human = ledger(demo_url, "indicators", "--year", str(YEAR), "--scope", "pillar")
    assert human.exit_code == 0, human.output
    assert "预算执行率" in human.output and "知识产权 IP" in human.output and "%" in human.output
    assert "_" not in human.output.replace("LEDGER_ON_TIME_DAYS", "")
    data = json.loads(ledger(demo_url, "indicators", "--year", str(YEAR), "--json").output)
    assert isinstance(data["district"]["paid_fen"], int) and len(data["measures"]) == 13
