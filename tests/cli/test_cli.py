"""The `ledger` command line, run with click's test runner against a real store (both stores).

Covers init, users, record, import (JSON Lines and CSV, duplicates, bad lines, dry runs),
show, catalogue and demo.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import USCC_A, USCC_B, approve, award, budget, disbursement, enterprise

from ledger.cli import cli


@pytest.fixture
def ledger(database_url: str):  # type: ignore[no-untyped-def]
    """Run `ledger …` against a fresh store set up with `init` and three users."""

    def run(*args: str, actor: str | None = "olga", input: str | None = None) -> Any:
        env = {"LEDGER_DATABASE_URL": database_url, "LEDGER_ACTOR": actor or ""}
        return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)

    assert run("init").exit_code == 0
    assert run("users", "add", "admin", "--role", "admin", actor=None).exit_code == 0
    for name, role in (("olga", "officer"), ("ada", "approver")):
        result = run("users", "add", name, "--role", role, "--json", actor="admin")
        assert result.exit_code == 0, result.output
    return run


def jsonl(path: Path, commands: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in commands), "utf-8")
    return path


def test_users_add_prints_a_token_once_as_json(ledger) -> None:  # type: ignore[no-untyped-def]
    result = ledger("users", "add", "vic", "--role", "viewer", "--json", actor="admin")
    body = json.loads(result.output)
    assert body["name"] == "vic" and body["roles"] == ["viewer"]
    assert body["token"].startswith("sjl_") and "vic" not in body["token"]


def test_a_non_admin_cannot_add_users(ledger) -> None:  # type: ignore[no-untyped-def]
    result = ledger("users", "add", "eve", "--role", "admin")
    assert result.exit_code == 1
    assert "forbidden" in result.output


def test_record_reports_recorded_then_duplicate(ledger) -> None:  # type: ignore[no-untyped-def]
    first = ledger("record", "--json", json.dumps(enterprise()))
    assert json.loads(first.output)["status"] == "recorded"
    second = ledger("record", "--json", json.dumps(enterprise()))
    assert json.loads(second.output)["status"] == "duplicate"


def test_record_reads_standard_input_and_refuses_with_a_code(ledger) -> None:  # type: ignore[no-untyped-def]
    result = ledger("record", "--json", input=json.dumps(award()))
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["code"] == "unknown_enterprise"


def test_record_needs_an_actor(ledger) -> None:  # type: ignore[no-untyped-def]
    result = ledger("record", json.dumps(enterprise()), actor=None)
    assert result.exit_code == 2
    assert "--as" in result.output


def test_importing_the_same_file_twice_records_once(ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = jsonl(tmp_path / "year.jsonl", [
        enterprise(), enterprise(USCC_B, name="另一家"), budget(), award(), disbursement(),
        {**approve(), "actor": "ada"},
    ])  # fmt: skip
    first = ledger("import", str(path), "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output.splitlines()[-1]) == {"accepted": 6, "duplicates": 0, "rejected": []}
    shown = json.loads(ledger("show", "award", "A-1", "--json").output)
    second = ledger("import", str(path), "--json")
    assert json.loads(second.output.splitlines()[-1]) == {"accepted": 0, "duplicates": 6, "rejected": []}
    assert json.loads(ledger("show", "award", "A-1", "--json").output) == shown
    assert shown["paid_fen"] == 5_000_000


def test_a_file_with_bad_lines_records_the_good_ones(ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps(enterprise()),
        "{not json",
        json.dumps(budget()),
        json.dumps(award(amount_fen=12.5)),
        "",
        json.dumps(award()),
        json.dumps(disbursement(amount_fen=99_000_000)),
        json.dumps({**enterprise(USCC_B), "town_code": "999"}),
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    result = ledger("import", str(path), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output.splitlines()[-1])
    assert report["accepted"] == 3
    assert [(r["line"], r["code"]) for r in report["rejected"]] == [
        (2, "validation_error"), (4, "validation_error"), (7, "overpayment"), (8, "invalid_town"),
    ]  # fmt: skip
    assert json.loads(ledger("show", "award", "A-1", "--json").output)["granted_fen"] == 10_000_000


def test_a_dry_run_records_nothing(ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = jsonl(tmp_path / "year.jsonl", [enterprise(), budget(), award()])
    result = ledger("import", str(path), "--dry-run", "--json")
    assert json.loads(result.output.splitlines()[-1])["accepted"] == 3
    assert ledger("show", "enterprise", USCC_A, "--json").exit_code == 1


def test_a_csv_sheet_of_one_command_type_imports_with_yuan_columns(ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ledger("record", json.dumps(enterprise()))
    ledger("record", json.dumps(budget()))
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "reference,uscc,measure,item,fiscal_year,amount_yuan,decision_ref,granted_on\n"
        f'A-1,{USCC_A},M10,high_value_patent_cultivation,2025,"100,000.00",松市监〔2025〕1号,2025-04-01\n'
        f"A-2,{USCC_A},M10,high_value_patent_cultivation,2025,1.234,松市监〔2025〕2号,2025-04-01\n",
        "utf-8",
    )
    result = ledger("import", str(sheet), "--type", "grant_award", "--json")
    report = json.loads(result.output.splitlines()[-1])
    assert report["accepted"] == 1
    assert [(r["line"], r["code"]) for r in report["rejected"]] == [(3, "validation_error")]
    assert json.loads(ledger("show", "award", "A-1", "--json").output)["granted_fen"] == 10_000_000


def test_show_prints_each_aggregate_in_fen(ledger) -> None:  # type: ignore[no-untyped-def]
    for command in (enterprise(), budget(), award()):
        ledger("record", json.dumps(command))
    assert json.loads(ledger("show", "budget", "M10", "2025", "--json").output) == {
        "measure": "M10", "fiscal_year": 2025, "appropriated_fen": 500_000_000, "adjusted_fen": 0,
        "committed_fen": 10_000_000, "released_fen": 0, "remaining_fen": 490_000_000,
    }  # fmt: skip
    shown = json.loads(ledger("show", "enterprise", USCC_A, "--json").output)
    assert shown["committed_fen_by_year"] == {"2025": 10_000_000}
    human = ledger("show", "award", "A-1").output
    assert "100,000.00" in human


def test_the_catalogue_lists_thirteen_measures(ledger) -> None:  # type: ignore[no-untyped-def]
    body = json.loads(ledger("catalogue", "--json").output)
    assert [m["code"] for m in body["measures"]] == [f"M{n:02d}" for n in range(1, 14)]
    assert body["annual_cap_fen"] == 100_000_000


def test_every_command_explains_itself() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("init", "users", "record", "import", "show", "demo", "catalogue"):
        assert name in result.output
        sub = CliRunner().invoke(cli, [name, "--help"])
        assert sub.exit_code == 0 and len(sub.output) > 80
