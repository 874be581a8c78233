"""Exports of the demo year (loaded once per store for this module): they open with openpyxl,
their row counts equal the store's, their totals equal `ledger balances measure --json`, the
CSV starts with a BOM, and `ledger export` writes the same files; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from stores import drop_schema, postgres_base_url

from ledger.cli import cli
from ledger.demo import load_demo
from ledger.storage import open_ledger
from projections import exports, queries
from projections.queries import awards, disbursements
from projections.queries.list_filters import ListFilter
from projections.runner import catch_up

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """(store URL, open ledger) of the demo year with its views caught up."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo')}/ledger.sqlite3"
    else:
        base = postgres_base_url()
        url = f"{base}{'&' if '?' in base else '?'}schema=t_{uuid.uuid4().hex[:16]}"
    app = open_ledger(url)
    load_demo(app, seed=2025, fiscal_year=2025, password=None)
    catch_up(app)
    yield url, app
    app.close()
    if request.param == "postgres":
        drop_schema(url)


def _cli(url: str, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--database-url", url, *args])
    assert result.exit_code == 0, result.output
    return result


def _fen(value: Any) -> int:
    """A yuan cell (a number read back from .xlsx, text from CSV) as exact fen."""
    return int(Decimal(str(value)) * 100)


def _sheet(path: Path) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return list(book.worksheets[0].iter_rows(values_only=True))


def _column_fen(rows: list[Any], name: str) -> tuple[int, int]:
    """The sum of a yuan column over the data rows, and the 合计 line's figure (fen)."""
    index = list(rows[2]).index(name)
    return sum(_fen(r[index]) for r in rows[3:-1]), _fen(rows[-1][index])


def test_exports_are_complete_and_total_the_balances(demo: tuple[str, Any], tmp_path: Path) -> None:
    url, app = demo
    balances = json.loads(_cli(url, "balances", "measure", "--json").output)
    paid_fen = sum(b["paid_fen"] for b in balances)

    _cli(url, "export", "awards", "-o", str(tmp_path / "awards.xlsx"))
    rows = _sheet(tmp_path / "awards.xlsx")
    assert rows[1][0] == "编号" and rows[2][0] == "reference" and "视图位置" in rows[0][0]
    assert len(rows) - 4 == awards.award_totals(app, ListFilter()).count > 1_500
    assert rows[-1][0].startswith("合计")
    assert _column_fen(rows, "paid_yuan") == (paid_fen, paid_fen)
    committed = sum(b["committed_fen"] - b["released_fen"] for b in balances)
    assert _column_fen(rows, "granted_yuan")[1] - _column_fen(rows, "revoked_yuan")[1] == committed

    result = _cli(url, "export", "disbursements", "--status", "approved", "-o",
                  str(tmp_path / "paid.csv"), "--json")  # fmt: skip
    lines = list(csv.reader(io.StringIO((tmp_path / "paid.csv").read_text(encoding="utf-8-sig"))))
    chosen = ListFilter(status="approved")
    assert len(lines) - 4 == disbursements.disbursement_totals(app, chosen).count
    assert _column_fen(lines, "amount_yuan") == (paid_fen, paid_fen)
    assert json.loads(result.stdout)["totals_fen"] == {"amount_fen": paid_fen}

    _cli(url, "export", "budgets", "-o", str(tmp_path / "budgets.xlsx"))
    rows = _sheet(tmp_path / "budgets.xlsx")
    assert len(rows) - 4 == len(balances)
    for name in ("appropriated", "paid", "remaining"):
        expected = sum(b[f"{name}_fen"] for b in balances)
        assert _column_fen(rows, f"{name}_yuan") == (expected, expected), name


def test_csv_exports_have_a_bom_and_every_row(demo: tuple[str, Any], tmp_path: Path) -> None:
    url, app = demo
    counts = {
        "enterprises": len(queries.enterprises(app, limit=queries.PAGE_MAX)),
        "disbursements": disbursements.disbursement_totals(app, ListFilter()).count,
        "transfers": len(queries.transfers(app, limit=queries.PAGE_MAX)),
        "financing": len(queries.financings(app, limit=queries.PAGE_MAX)),
    }
    assert counts["disbursements"] > queries.PAGE_MAX  # past any page
    for kind, expected in counts.items():
        path = tmp_path / f"{kind}.csv"
        _cli(url, "export", kind, "-o", str(path))
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), kind
        lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert len(lines) - 4 == expected, kind
        assert lines[-1][0].startswith("合计")
        if kind == "disbursements":
            amount = lines[2].index("amount_yuan")
            total_fen = sum(_fen(r[amount]) for r in lines[3:-1])
            assert _fen(lines[-1][amount]) == total_fen


def test_the_cli_refuses_a_bad_filter_and_writes_nothing(demo: tuple[str, Any], tmp_path: Path) -> None:
    url, _ = demo
    target = tmp_path / "x.xlsx"
    result = CliRunner().invoke(cli, ["--database-url", url, "export", "awards", "--status",
                                      "paid", "-o", str(target), "--json"])  # fmt: skip
    assert result.exit_code == 2
    assert json.loads(result.stdout)["code"] == "invalid_filter"
    assert not target.exists() and list(tmp_path.iterdir()) == []
    app = demo[1]
    entries, after = 0, None
    while True:  # the trail of one officer, page by page (the read side's paging rule)
        page = queries.trail(app, actor="zhao.lei", after_position=after, limit=queries.PAGE_MAX)
        entries += len(page)
        if not page.has_more:
            break
        after = page.next_after
    chosen = exports.filter_for("trail", {"actor": "zhao.lei"})
    with (tmp_path / "trail.csv").open("wb") as out:
        done = exports.export(app, "trail", chosen, "csv", out)
    assert done.rows == entries > queries.PAGE_MAX
