"""Who may see and do what: every route for every role, sign-in, sessions and CSRF."""

from __future__ import annotations

import logging
from typing import Any

import factories as f
import pytest

from web.auth import ROLE_RANK

#: Every GET route of the site with an example path and the lowest role that may use it.
PAGES = [
    ("/", "viewer"),
    ("/enterprises?q=测试&town=310117001", "viewer"),
    (f"/enterprises/{f.USCC_A}", "viewer"),
    ("/measures", "viewer"),
    ("/measures/M10", "viewer"),
    ("/transfers", "viewer"),
    ("/financing", "viewer"),
    ("/events/3", "viewer"),
    ("/audit?position=3", "auditor"),
    ("/exports/trail.csv", "auditor"),
    ("/awards?measure=M10", "viewer"), ("/disbursements?status=approved", "viewer"),
    ("/downloads/awards.xlsx?measure=M10", "viewer"), ("/downloads/trail.csv", "auditor"),
    ("/queue", "officer"),
    ("/disbursements/new?award=A-1", "officer"),
    ("/payment-list?from=2025-05-01&to=2025-05-31", "officer"),
    ("/audit/head.json", "auditor"),
    ("/audit/proof.json?position=3", "auditor"),
    ("/indicators?year=2025", "viewer"), ("/indicators.json?year=2025", "viewer"),
    ("/indicators/help", "viewer"),
    ("/reports/annual?year=2025", "viewer"), ("/reports/annual.xlsx?year=2025", "viewer"),
    ("/reports/monthly?year=2025&month=5", "viewer"),
    ("/reports/monthly.xlsx?year=2025&month=5", "viewer"),
]
API = [
    ("/api/v1/status", "viewer"),
    ("/api/v1/enterprises?search=测试", "viewer"),
    (f"/api/v1/enterprises/{f.USCC_A}", "viewer"),
    ("/api/v1/measures/M10", "viewer"),
    ("/api/v1/towns/310117001", "viewer"),
    ("/api/v1/metrics?fiscal_year=2025", "viewer"),
    (f"/api/v1/trail?uscc={f.USCC_A}", "viewer"),
    ("/api/v1/events?after=0&limit=5", "auditor"),
    ("/api/v1/audit/heads", "auditor"),
    ("/api/v1/audit/proofs/3", "auditor"),
    ("/api/v1/audit/consistency?first=2", "auditor"),
    ("/api/v1/awards?measure=M10", "viewer"), ("/api/v1/disbursements?status=pending", "viewer"),
]
#: Routes anyone may use: signing in and out, choosing a language, the API's description, and
#: the log in the C2SP formats (checkpoint, tiles, receipts: what outsiders check it with).
PUBLIC = {"auth.sign_in", "auth.sign_out", "i18n.switch_language", "static",
          "api-docs.openapi_json", "api.commands",
          "tlog.checkpoint", "tlog.tile", "tlog.receipt",
          # the public disclosure (公示), for anyone: tests/web/test_public_pages.py
          "public.awards", "public.package_json", "public.package_csv"}  # fmt: skip
#: Forms that only take POST (who may use them: tests/web/test_queue.py).
POST_ONLY = {"queue.decide", "queue.record_disbursement"}
ROLES = ["viewer", "auditor", "officer", "approver", "admin"]
USER_OF_ROLE = {"viewer": "vic", "auditor": "aud", "officer": "olga", "approver": "ada", "admin": "admin"}


def test_the_lists_above_cover_every_route_of_the_site(web_app: Any) -> None:
    adapter = web_app.url_map.bind("localhost")
    listed = {adapter.match(path.split("?")[0])[0] for path, _ in PAGES + API}
    every = {rule.endpoint for rule in web_app.url_map.iter_rules()}
    assert every - listed - PUBLIC - POST_ONLY == set()


def test_anonymous_visitors_are_sent_to_sign_in_and_api_callers_get_401(client: Any) -> None:
    for path, _ in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/signin?next="), path
    for path, _ in API:
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json["code"] == "unauthenticated"
        assert response.json["message"] and response.json["message_zh"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_what_its_rank_allows_on_pages_and_api(role: str, as_user: Any, token: Any) -> None:
    browser = as_user(USER_OF_ROLE[role])
    headers = token(USER_OF_ROLE[role])
    for path, needed in PAGES:
        expected = 200 if ROLE_RANK[role] >= ROLE_RANK[needed] else 403
        assert browser.get(path).status_code == expected, (role, path)
    for path, needed in API:
        expected = 200 if ROLE_RANK[role] >= ROLE_RANK[needed] else 403
        response = browser.get(path, headers=headers)
        assert response.status_code == expected, (role, path, response.json)
        if expected == 403:
            assert response.json["code"] == "forbidden"


def test_a_session_works_for_api_reads_too(as_user: Any) -> None:
    response = as_user("vic").get("/api/v1/status")
    assert response.status_code == 200
    assert response.json["views_position"] == response.json["log_position"]


def test_an_unknown_or_revoked_token_is_401(client: Any, seeded: Any) -> None:
    response = client.get("/api/v1/status", headers={"Authorization": "Bearer vic.0000.nope"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_sign_in_sets_an_httponly_samesite_cookie_and_goes_to_the_page_asked_for(
    client: Any, csrf: Any
) -> None:
    response = client.post("/signin", data={"name": "vic", "password": "correct horse",
                                            "csrf_token": csrf(client), "next": "/measures"})  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"] == "/measures"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_sign_in_never_redirects_off_the_site(client: Any, csrf: Any) -> None:
    for target in ("//evil.example/", "https://evil.example/", "javascript:alert(1)"):
        response = client.post("/signin", data={"name": "vic", "password": "correct horse",
                                                "csrf_token": csrf(client), "next": target})  # fmt: skip
        assert response.headers["Location"] == "/", target


def test_sign_in_and_sign_out_need_the_csrf_token(client: Any, as_user: Any) -> None:
    response = client.post("/signin", data={"name": "vic", "password": "correct horse"})
    assert response.status_code == 400
    signed_in = as_user("vic")
    assert signed_in.post("/signout").status_code == 400
    assert signed_in.get("/").status_code == 200


def test_sign_out_ends_the_session(as_user: Any, csrf: Any) -> None:
    browser = as_user("vic")
    response = browser.post("/signout", data={"csrf_token": csrf(browser, "/")})
    assert response.status_code == 302
    assert browser.get("/").status_code == 302


def test_failed_sign_ins_are_logged_and_then_slowed_down(
    client: Any, csrf: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="web.auth")
    for _ in range(3):
        response = client.post("/signin", data={"name": "vic", "password": "wrong",
                                                "csrf_token": csrf(client)})  # fmt: skip
        assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    # Now even the right password must wait.
    response = client.post("/signin", data={"name": "vic", "password": "correct horse",
                                            "csrf_token": csrf(client)})  # fmt: skip
    assert response.status_code == 429
    failures = [r for r in caplog.records if "sign-in failed" in r.getMessage()]
    assert len(failures) == 3
    assert any("refused" in r.getMessage() for r in caplog.records)


def test_an_unknown_name_fails_like_a_wrong_password(client: Any, csrf: Any) -> None:
    response = client.post("/signin", data={"name": "nobody", "password": "x",
                                            "csrf_token": csrf(client)})  # fmt: skip
    assert response.status_code == 401


def test_a_password_change_ends_older_sessions(as_user: Any, seeded: Any) -> None:
    browser = as_user("vic")
    seeded.set_password_hash("vic", "pbkdf2:sha256:1000$x$y", actor="admin")
    assert browser.get("/").status_code == 302


def test_a_viewer_cannot_post_anything(as_user: Any, token: Any) -> None:
    browser = as_user("vic")
    response = browser.post("/api/v1/commands", json=f.enterprise(f.USCC_C), headers=token("vic"))
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    for path, _ in PAGES:
        assert browser.post(path.split("?")[0]).status_code in (400, 405), path
