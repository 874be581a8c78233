"""`ledger public export` writes the same 360Giving package as `/public/360giving.json`, valid
against the standard; without the funder's id it refuses with a message in both languages."""

from __future__ import annotations

import json
from typing import Any

import factories as f
import pytest
from click.testing import CliRunner
from giving360_schemas import package_validator

from ledger.cli import cli
from projections.runner import catch_up


@pytest.fixture
def store(app: Any, database_url: str) -> str:
    commands = [(f.enterprise(), "olga"), (f.budget(), "olga"), (f.award(), "olga"),
                (f.disbursement(), "olga"), (f.approve(), "ada")]  # fmt: skip
    for name, roles in (("olga", ["officer"]), ("ada", ["approver"])):
        if app.get_user(name) is None:
            app.register_user(name, roles, actor="admin")
    for result in app.execute_many(commands):
        assert not isinstance(result, Exception), result
    catch_up(app)
    return database_url


def test_the_cli_export_is_a_valid_360giving_package(store: str, tmp_path: Any) -> None:
    out = tmp_path / "grants.json"
    result = CliRunner().invoke(
        cli, ["--database-url", store, "public", "export", "-o", str(out)],
        env={"LEDGER_FUNDER_ORG_ID": "CN-USCC-11310117MB0000000X"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    package = json.loads(out.read_text("utf-8"))
    assert [e.message for e in package_validator().iter_errors(package)] == []
    (grant,) = package["grants"]
    assert grant["amountAwarded"] == 100_000 and grant["amountDisbursed"] == 50_000
    assert "exported 1 awards" in result.output


def test_the_validator_is_not_vacuous() -> None:
    broken = {"grants": [{"id": "x", "title": "t", "description": "d", "currency": "RMB",
                          "amountAwarded": "1", "awardDate": "2025/5/1",
                          "recipientOrganization": [{"id": "CN-USCC-1"}],
                          "fundingOrganization": [{"id": "f", "name": "n"}],
                          "dateModified": "yesterday"}]}  # fmt: skip
    found = {e.validator for e in package_validator().iter_errors(broken)}
    # currency, the amount's type, the award date's two forms, the recipient's name, the instant
    assert found >= {"enum", "type", "oneOf", "required", "format"}


def test_without_the_funders_id_the_export_refuses_in_both_languages(store: str) -> None:
    result = CliRunner().invoke(cli, ["--database-url", store, "public", "export"],
                                env={"LEDGER_FUNDER_ORG_ID": ""})  # fmt: skip
    assert result.exit_code == 2
    assert "LEDGER_FUNDER_ORG_ID" in result.output and "公开数据导出" in result.output


def test_public_fields_says_what_is_published(store: str) -> None:
    result = CliRunner().invoke(cli, ["public", "fields"],
                                env={"LEDGER_PUBLIC_FIELDS": "uscc,amount", "LEDGER_FUNDER_ORG_ID": ""})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "uscc, amount" in result.output and "enterprise_name" in result.output
