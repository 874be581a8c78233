"""`ledger queue`: the payments waiting for approval, as JSON (fen, codes) and for people
(yuan, names, Beijing time), on both stores."""

from __future__ import annotations

import json
from typing import Any

import factories as f
from click.testing import CliRunner

from ledger.cli import cli
from projections.runner import catch_up


def _queue(database_url: str, *args: str) -> Any:
    env = {"LEDGER_DATABASE_URL": database_url, "LEDGER_ACTOR": ""}
    return CliRunner().invoke(cli, ["queue", *args], env=env, catch_exceptions=False)


def _record(app: Any, commands: list[tuple[dict[str, Any], str]]) -> None:
    for result in app.execute_many(commands):
        assert not isinstance(result, Exception), result


def test_queue_json_lists_every_waiting_payment_oldest_first_with_count_and_total(
    app: Any, database_url: str
) -> None:
    _record(app, [
        (f.enterprise(), "olga"), (f.enterprise(f.USCC_B, name="上海松江精密电子有限公司"), "olga"),
        (f.budget(), "olga"), (f.award(), "olga"), (f.award("A-2", uscc=f.USCC_B), "olga"),
        (f.disbursement("D-1", amount_fen=123_456), "olga"),
        (f.disbursement("D-2", "A-2", amount_fen=100), "oscar"),
        (f.disbursement("D-3", amount_fen=5), "oscar"),
        (f.approve("D-3"), "ada"),
    ])  # fmt: skip
    catch_up(app)
    result = _queue(database_url, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["count"] == 2 and body["total_fen"] == 123_556
    assert body["views_position"] == body["log_position"] == app.log_position()
    first, second = body["items"]
    assert (first["reference"], first["recorded_by"], first["amount_fen"]) == ("D-1", "olga", 123_456)
    assert (second["reference"], second["uscc"], second["enterprise_name"]) == (
        "D-2", f.USCC_B, "上海松江精密电子有限公司",
    )  # fmt: skip
    assert first["status"] == "pending" and first["recorded_at"].endswith("+00:00")
    assert first["recorded_at"] <= second["recorded_at"] and first["age_s"] >= 0


def test_queue_for_people_shows_yuan_names_and_beijing_time_and_says_when_views_lag(
    app: Any, database_url: str
) -> None:
    _record(app, [(f.enterprise(), "olga"), (f.budget(), "olga"), (f.award(), "olga"),
                  (f.disbursement("D-1", amount_fen=123_456), "olga")])  # fmt: skip
    catch_up(app)
    result = _queue(database_url)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "1,234.56" in out and "上海测试科技有限公司" in out and f.USCC_A in out
    assert "(UTC+8)" in out and "经办人 Recorded by" in out
    assert "待审批 1 笔，合计 1,234.56 元 / 1 payment(s) waiting for approval" in out
    assert "pending" not in out and "123456" not in out
    assert result.stderr == ""
    _record(app, [(f.disbursement("D-2", amount_fen=1), "olga")])  # the views are not told
    lagging = _queue(database_url)
    assert "D-2" not in lagging.stdout and "ledger project" in lagging.stderr


def test_an_empty_queue_says_so(app: Any, database_url: str) -> None:
    catch_up(app)
    result = _queue(database_url)
    assert result.exit_code == 0
    assert "待审批 0 笔" in result.stdout
    assert json.loads(_queue(database_url, "--json").stdout)["items"] == []
