"""Malformed input, case by case, over HTTP (test client and a real WSGI server) and at the CLI,
on both stores: each gets a stable code (a 4xx over HTTP, exit 1 at the CLI, exit 2 for a file
refused as a whole) and the log does not move.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import factories as f
import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from ledger.cli import cli
from ledger.storage import open_ledger
from web import create_app

DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5000

#: (name, command) → the code it is refused with.
MALFORMED: list[tuple[str, Any, str]] = [
    ("type is a number", {"type": 5}, "validation_error"),
    ("type is a list", {"type": ["grant_award"]}, "validation_error"),
    ("type is an object", {"type": {"a": 1}}, "validation_error"),
    ("name is a list", {**f.enterprise(), "name": ["x"]}, "validation_error"),
    ("name is an object", {**f.enterprise(), "name": {"zh": "x"}}, "validation_error"),
    ("town is a list", {**f.enterprise(), "town_code": ["310117001"]}, "validation_error"),
    ("lone surrogate", {**f.enterprise(), "name": "松江\ud800"}, "validation_error"),
    ("NUL", {**f.enterprise(), "name": "松江\x00电子"}, "validation_error"),
    ("over the limit", {**f.enterprise(), "name": "松" * 201}, "validation_error"),
    ("compact date", {**f.award(), "granted_on": "20250203"}, "validation_error"),
    ("week date", {**f.award(), "granted_on": "2025-W05-1"}, "validation_error"),
    ("date before 2000", {**f.award(), "granted_on": "1999-12-31"}, "validation_error"),
    ("date after 2100", {**f.award(), "granted_on": "2101-01-01"}, "validation_error"),
    ("fiscal year 1999", {**f.budget(), "fiscal_year": 1999}, "validation_error"),
    ("fiscal year a bool", {**f.budget(), "fiscal_year": True}, "validation_error"),
    ("huge fiscal year", {**f.budget(), "fiscal_year": 10**4000}, "validation_error"),
    ("huge amount", {**f.budget(), "amount_fen": 10**4000}, "validation_error"),
    ("amount a bool", {**f.budget(), "amount_fen": True}, "validation_error"),
    ("rate a bool", {**f.financing(), "annual_rate_bp": True}, "validation_error"),
    ("term a bool", {**f.financing(), "term_months": True}, "validation_error"),
    ("huge term", {**f.financing(), "term_months": 10**4000}, "validation_error"),
    ("bad credit code", f.enterprise("91310117000000000X"), "invalid_uscc"),
    ("credit code a list", {**f.enterprise(), "uscc": [f.USCC_A]}, "validation_error"),
    *[
        (f"U+{ord(c):04X} in a name", {**f.enterprise(), "name": f"松江{c}电子"}, "validation_error")
        for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        "\u200b\u200c\u200d\u2060\ufeff\u2028\u2029"
    ],
    ("U+202E in a reason", {**f.approve(), "type": "reject_disbursement", "reason": "ok\u202e"},
     "validation_error"),
]  # fmt: skip
#: Raw bodies that are not plain JSON.
RAW_BODIES = [
    ("invalid UTF-8", b'{"type": "register_enterprise", "name": "\xff\xfe"}'),
    ("100,000-deep nesting", DEEP.encode()),
    ("deep inside a command", ('{"type": "grant_award", "basis": ' + DEEP + "}").encode()),
    ("thousands of digits", ('{"type": "appropriate_budget", "amount_fen": ' + HUGE + "}").encode()),
    ("raw NUL", b'{"type": "register_enterprise", "name": "a\x00b"}'),
    ("not JSON", b"{"),
]


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)  # escapes lone surrogates as \ud800


@pytest.fixture
def ledger_app(app: Any) -> Any:
    for result in app.execute_many([(f.enterprise(), "olga"), (f.budget(), "olga")]):
        assert not isinstance(result, Exception), result
    return app


@pytest.fixture
def api(ledger_app: Any) -> Any:
    flask_app = create_app({"LEDGER_APP": ledger_app, "TESTING": True, "SECRET_KEY": "t"})
    return flask_app.test_client(), {"Authorization": f"Bearer {ledger_app.issue_token('olga', actor='admin')}"}


@pytest.mark.parametrize(("name", "command", "code"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_command_gets_a_4xx_with_its_code(api: Any, ledger_app: Any, name: str,
                                                      command: Any, code: str) -> None:  # fmt: skip
    client, headers = api
    before = ledger_app.log_position()
    response = client.post("/api/v1/commands", data=dumps(command), headers=headers,
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["code"] == code
    assert response.json["message"] and response.json["message_zh"]
    assert ledger_app.log_position() == before


@pytest.mark.parametrize(("name", "body"), RAW_BODIES, ids=[b[0] for b in RAW_BODIES])
def test_a_body_that_is_not_plain_json_is_a_400_validation_error(api: Any, ledger_app: Any,
                                                                 name: str, body: bytes) -> None:  # fmt: skip
    client, headers = api
    before = ledger_app.log_position()
    response = client.post("/api/v1/commands", data=body, headers=headers, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    assert response.json["code"] == "validation_error"
    assert ledger_app.log_position() == before


def test_in_a_list_each_bad_command_gets_its_own_outcome(api: Any, ledger_app: Any) -> None:
    client, headers = api
    bad = [command for _, command, _ in MALFORMED]
    body = [*bad[:10], f.enterprise(f.USCC_B, name="另一家"), *bad[10:]]
    response = client.post("/api/v1/commands", data=dumps(body), headers=headers,
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["status"] for r in results].count("recorded") == 1
    assert results[10]["status"] == "recorded"
    assert [r["error"]["code"] for r in results if not r["ok"]] == [code for _, _, code in MALFORMED]


def test_an_api_4xx_is_json_never_html(api: Any) -> None:
    client, headers = api
    for path in ("/api/v1/nope", "/api", "/api/v1/enterprises/%00", "/api/v1/trail?uscc=%00",
                 "/api/v1/enterprises?search=a%00b", "/api/v1/enterprises/x?as_of=%C2%B9"):  # fmt: skip
        response = client.get(path, headers=headers)
        assert 400 <= response.status_code < 500, path
        assert response.content_type == "application/json", path
        assert response.json["code"] in {"not_found", "validation_error"}, path


# -- a real WSGI server ------------------------------------------------------------------------


@pytest.fixture
def server(ledger_app: Any) -> Iterator[tuple[int, dict[str, str]]]:
    flask_app = create_app({"LEDGER_APP": ledger_app, "SECRET_KEY": "t"})
    httpd = make_server("127.0.0.1", 0, flask_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port, {"Authorization": f"Bearer {ledger_app.issue_token('olga', actor='admin')}"}
    httpd.shutdown()
    thread.join()


def post_raw(port: int, headers: dict[str, str], body: bytes) -> tuple[int, str, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/api/v1/commands", body=body,
                       headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type") or "", json.loads(data)


@pytest.mark.parametrize(("name", "body"), RAW_BODIES, ids=[b[0] for b in RAW_BODIES])
def test_raw_bytes_over_a_real_server_get_a_400(server: Any, ledger_app: Any, name: str, body: bytes) -> None:
    port, headers = server
    before = ledger_app.log_position()
    status, content_type, data = post_raw(port, headers, body)
    assert (status, content_type, data["code"]) == (400, "application/json", "validation_error")
    assert ledger_app.log_position() == before
    good = post_raw(port, headers, dumps(f.enterprise(f.USCC_B, name="另一家")).encode())
    assert good[0] == 200 and good[2]["recorded"] == 1  # the server still serves


# -- the CLI -----------------------------------------------------------------------------------


@pytest.fixture
def run(database_url: str) -> Any:
    def invoke(*args: str, input: str | bytes | None = None, actor: str = "olga") -> Any:
        env = {"LEDGER_DATABASE_URL": database_url, "LEDGER_ACTOR": actor}
        return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)

    assert invoke("init").exit_code == 0
    assert invoke("users", "add", "admin", "--role", "admin", actor="").exit_code == 0
    assert invoke("users", "add", "olga", "--role", "officer", actor="admin").exit_code == 0
    assert invoke("record", dumps(f.enterprise())).exit_code == 0
    return invoke


def log_position(database_url: str) -> int:
    ledger = open_ledger(database_url)
    try:
        return ledger.log_position()
    finally:
        ledger.close()


@pytest.mark.parametrize(("name", "command", "code"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_ledger_record_exits_1_with_the_code(run: Any, database_url: str, name: str,
                                             command: Any, code: str) -> None:  # fmt: skip
    before = log_position(database_url)
    result = run("record", "--json", dumps(command))
    assert result.exit_code == 1, result.output
    assert json.loads(result.output)["error"]["code"] == code
    assert log_position(database_url) == before


@pytest.mark.parametrize(("name", "body"), RAW_BODIES, ids=[b[0] for b in RAW_BODIES])
def test_ledger_record_from_stdin_refuses_raw_bytes(run: Any, database_url: str, name: str,
                                                    body: bytes) -> None:  # fmt: skip
    before = log_position(database_url)
    for args in (("record", "--json", "-"), ("record", "--json")):
        result = run(*args, input=body)
        assert result.exit_code == 1, result.output
        assert json.loads(result.output)["error"]["code"] == "validation_error"
    assert log_position(database_url) == before


def test_ledger_record_dash_reads_standard_input(run: Any, database_url: str) -> None:
    result = run("record", "--json", "-", input=dumps(f.budget()))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "recorded"


UNREADABLE = [
    ("binary", "data.jsonl", bytes(range(256)) * 4),
    ("NUL bytes", "data.jsonl", (dumps(f.budget()) + "\n").encode() + b"\x00\n"),
    ("invalid UTF-8", "data.jsonl", (dumps(f.budget()) + "\n").encode() + b'{"name": "\xc3\x28"}\n'),
    # GBK/GB18030 CSV is read since issue 9 (tests/cli/test_import_sheets.py); this is neither
    ("neither UTF-8 nor GB18030", "data.csv", "type,名称\nregister_enterprise,松江\n".encode("gbk") + b"\xff\n"),
    ("not JSON Lines", "data.jsonl", b"hello\nworld\n"),
    ("not a CSV of commands", "data.csv", b"colour,size\nred,3\n"),
]


@pytest.mark.parametrize(("name", "filename", "content"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_an_unreadable_file_is_refused_whole_with_exit_2(run: Any, database_url: str, tmp_path: Path,
                                                         name: str, filename: str, content: bytes) -> None:  # fmt: skip
    path = tmp_path / filename
    path.write_bytes(content)
    before = log_position(database_url)
    result = run("import", "--json", str(path))
    assert result.exit_code == 2, result.output
    error = json.loads(result.output)["error"]
    assert error["code"] == "unreadable_file" and error["message"] and error["message_zh"]
    assert log_position(database_url) == before
    piped = run("import", "-", "--format", "csv" if filename.endswith(".csv") else "jsonl", input=content)
    assert piped.exit_code == 2 and "unreadable_file" in piped.output
    assert log_position(database_url) == before


def test_import_reports_each_malformed_line_and_records_the_good_ones(run: Any, database_url: str,
                                                                      tmp_path: Path) -> None:  # fmt: skip
    lines = [dumps(command) for _, command, _ in MALFORMED]
    lines += [DEEP, '{"type": "appropriate_budget", "amount_fen": ' + HUGE + "}",
              dumps({**f.budget("B-Y"), "actor": ["olga"]}), dumps({**f.budget("B-Z"), "amount_yuan": []}),
              dumps(f.budget())]  # fmt: skip
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = log_position(database_url)
    result = run("import", "--json", str(path))
    assert result.exit_code == 1, result.output
    report = json.loads(result.output.splitlines()[-1])
    assert report["accepted"] == 1
    assert [r["line"] for r in report["rejected"]] == list(range(1, len(lines)))
    codes = [r["code"] for r in report["rejected"]]
    assert codes == [code for _, _, code in MALFORMED] + ["validation_error"] * 4
    after = log_position(database_url)
    assert after > before  # the one good line
    # and only it: recording it again by hand changes nothing
    assert json.loads(run("record", "--json", dumps(f.budget())).output)["status"] == "duplicate"
    assert log_position(database_url) == after


def test_a_csv_cell_of_thousands_of_digits_is_a_rejected_line(run: Any, database_url: str,
                                                               tmp_path: Path) -> None:  # fmt: skip
    budget = f.budget()
    header = ",".join(budget)
    row = ",".join(HUGE if name == "amount_fen" else str(value) for name, value in budget.items())
    path = tmp_path / "budget.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    result = run("import", "--json", str(path))
    assert result.exit_code == 1, result.output
    assert json.loads(result.output.splitlines()[-1])["rejected"][0]["code"] == "validation_error"
