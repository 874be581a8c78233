#!/usr/bin/env python3
"""Import from `.xlsx` beside the same rows as JSON Lines, side by side in one run.

Builds the workload of `scripts/bench_ingest.py` (enterprises, budgets, awards, maker/checker
payments), writes it twice — as JSON Lines, and as a workbook with one sheet per command type
(Chinese sheet names and headers, yuan amounts as number cells, dates as date cells) in the same
order of commands — and imports each into a fresh store with the ledger's importer, the workbook
through openpyxl's read-only mode. The workbook is written as Excel saves one (XlsxWriter:
shared strings, dimensions); `--writer openpyxl` writes it as openpyxl does (inline strings,
about twice as slow to read), for comparison. Prints both times and the ratio xlsx / JSON Lines (target
≤ 1.5), and the time spent only reading each file (no store) for the same ratio of parsing.

    .venv/bin/python scripts/bench_import_sheets.py --commands 100000
    LEDGER_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python scripts/bench_import_sheets.py --commands 100000 --backend postgresql

Without --backend both stores are measured (PostgreSQL when LEDGER_BENCH_DATABASE_URL or
LEDGER_TEST_DATABASE_URL is set). Timings are noisy on a shared machine: compare the ratios,
which are measured in one run, one format right after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_ingest import APPROVER, workload  # noqa: E402

from ledger.importer import Line, import_lines, read_jsonl, read_table  # noqa: E402
from ledger.sheets.headers import TYPE_NAMES_ZH, header_zh  # noqa: E402
from ledger.sheets.xlsx import open_workbook  # noqa: E402
from ledger.storage import open_ledger, store_from_url  # noqa: E402
from ledger.tuning import old_objects_unscanned  # noqa: E402

#: The order of the sheets, and so of the commands in both files.
TYPE_ORDER = ("register_enterprise", "appropriate_budget", "grant_award", "record_disbursement",
              "approve_disbursement")  # fmt: skip


def grouped(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The workload in sheet order: every command of one type, then the next type."""
    by_type: dict[str, list[dict[str, Any]]] = {t: [] for t in TYPE_ORDER}
    for line in lines:
        by_type[line["type"]].append(line)
    return [line for t in TYPE_ORDER for line in by_type[t]]


def write_jsonl(lines: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def _cell(name: str, value: Any) -> Any:
    if name.endswith("_fen"):  # yuan as a number cell with at most two decimals
        return value // 100 if value % 100 == 0 else value / 100
    if name.endswith("_on"):
        return date.fromisoformat(value)
    return value


def write_xlsx(lines: list[dict[str, Any]], path: Path, writer: str = "xlsxwriter") -> None:
    """One sheet per type named in Chinese, Chinese headers, yuan number cells, date cells."""
    if writer == "xlsxwriter":
        _write_like_excel(lines, path)
        return
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for command_type in TYPE_ORDER:
        rows = [line for line in lines if line["type"] == command_type]
        names = [n for n in rows[0] if n != "type"]
        sheet = book.create_sheet(TYPE_NAMES_ZH[command_type])
        sheet.append([header_zh(n) for n in names])
        for row in rows:
            sheet.append([_cell(n, row[n]) for n in names])
    book.save(path)


def _write_like_excel(lines: list[dict[str, Any]], path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for command_type in TYPE_ORDER:
        rows = [line for line in lines if line["type"] == command_type]
        names = [n for n in rows[0] if n != "type"]
        sheet = book.add_worksheet(TYPE_NAMES_ZH[command_type])
        sheet.write_row(0, 0, [header_zh(n) for n in names])
        for number, row in enumerate(rows, start=1):
            for column, name in enumerate(names):
                value = _cell(name, row[name])
                if isinstance(value, date):
                    sheet.write_datetime(number, column, value, date_format)
                else:
                    sheet.write(number, column, value)
    book.close()


def xlsx_lines(path: Path) -> Callable[[], Iterator[Line]]:
    def lines() -> Iterator[Line]:
        with open_workbook(str(path)) as workbook:
            for sheet in workbook.sheets:
                yield from read_table(workbook.rows(sheet), sheet.command_type, sheet.name)

    return lines


def jsonl_lines(path: Path) -> Callable[[], Iterator[Line]]:
    def lines() -> Iterator[Line]:
        with path.open(encoding="utf-8") as stream:
            yield from read_jsonl(stream)

    return lines


def read_only_s(lines: Callable[[], Iterator[Line]]) -> float:
    started = time.perf_counter()
    count = sum(1 for line in lines() if line.error is None)
    elapsed_s = time.perf_counter() - started
    assert count > 0
    return elapsed_s


def import_s(url: str, lines: Callable[[], Iterator[Line]], batch_size: int) -> tuple[float, int]:
    app = open_ledger(url)
    app.define_measures()
    app.register_user("admin", ["admin"], actor="")
    for name, roles in (("olga", ["officer"]), ("oscar", ["officer"]), (APPROVER, ["approver"])):
        app.register_user(name, roles, actor="admin")
    started = time.perf_counter()
    with old_objects_unscanned():  # as `ledger import` runs
        report = import_lines(app, lines(), default_actor=None, batch_size=batch_size)
    elapsed_s = time.perf_counter() - started
    app.close()
    assert not report.rejected, report.rejected[:3]
    return elapsed_s, report.accepted


def store_url(backend: str, tmp: str, pg_url: str | None, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp}/{name}.sqlite3"
    if not pg_url:
        sys.exit("PostgreSQL needs LEDGER_BENCH_DATABASE_URL or LEDGER_TEST_DATABASE_URL")
    return f"{pg_url}{'&' if '?' in pg_url else '?'}schema=bench_{uuid.uuid4().hex[:8]}"


def drop_schema(url: str) -> None:
    import psycopg

    store = store_from_url(url)
    if store.backend != "postgresql":
        return
    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.postgres_schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=100_000, help="Rows in the workload.")
    parser.add_argument("--batch-size", type=int, default=500, help="Commands per transaction.")
    parser.add_argument("--writer", choices=("xlsxwriter", "openpyxl"), default="xlsxwriter",
                        help="How the workbook is written (default: as Excel does, shared strings).")  # fmt: skip
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append",
                        help="Store(s) to measure (default: both, PostgreSQL if a URL is set).")  # fmt: skip
    args = parser.parse_args()
    pg_url = os.environ.get("LEDGER_BENCH_DATABASE_URL") or os.environ.get("LEDGER_TEST_DATABASE_URL")
    backends = args.backend or (["sqlite", "postgresql"] if pg_url else ["sqlite"])
    with tempfile.TemporaryDirectory(prefix="bench-sheets-") as tmp:
        lines = grouped(workload(args.commands))
        jsonl, xlsx = Path(tmp) / "workload.jsonl", Path(tmp) / "workload.xlsx"
        write_jsonl(lines, jsonl)
        started = time.perf_counter()
        write_xlsx(lines, xlsx, args.writer)
        print(f"workload ({args.writer}): {len(lines):,} rows; JSON Lines {jsonl.stat().st_size / 1e6:.1f} MB, "
              f"xlsx {xlsx.stat().st_size / 1e6:.1f} MB (written in {time.perf_counter() - started:.1f} s)")  # fmt: skip
        read_j, read_x = read_only_s(jsonl_lines(jsonl)), read_only_s(xlsx_lines(xlsx))
        print(f"reading only: JSON Lines {read_j:.1f} s, xlsx {read_x:.1f} s, ratio {read_x / read_j:.2f}")
        for backend in backends:
            times = {}
            for fmt, lines_of in (("jsonl", jsonl_lines(jsonl)), ("xlsx", xlsx_lines(xlsx))):
                url = store_url(backend, tmp, pg_url, fmt)
                try:
                    times[fmt], accepted = import_s(url, lines_of, args.batch_size)
                finally:
                    drop_schema(url)
                print(f"{backend:<10} {fmt:<5} import: {accepted:,} rows in {times[fmt]:.1f} s "
                      f"= {accepted / times[fmt]:,.0f} rows/s")  # fmt: skip
            ratio = times["xlsx"] / times["jsonl"]
            verdict = "within" if ratio <= 1.5 else "ABOVE"
            print(f"{backend:<10} ratio xlsx / JSON Lines: {ratio:.2f} ({verdict} the 1.5 target)")


if __name__ == "__main__":
    main()
