"""The web's cache of rendered bodies: kept per views position, never across languages, roles
or sessions, and never stale once the views move."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import factories as f

from web.cache import PositionCache


def _catch_up(ledger: Any) -> None:
    from projections.runner import catch_up

    catch_up(ledger)


def test_an_enterprise_page_is_kept_until_the_views_move(
    as_user: Any, seeded: Any, web_app: Any
) -> None:
    cache = web_app.extensions["web_cache"]
    vic = as_user("vic")
    first = vic.get(f"/enterprises/{f.USCC_A}").get_data(as_text=True)
    hits = cache.hits
    again = vic.get(f"/enterprises/{f.USCC_A}").get_data(as_text=True)
    # The frame's CSRF token carries its signing second, so only the kept body must be the same.
    assert _without_csrf_token(again) == _without_csrf_token(first)
    assert cache.hits == hits + 1
    assert "A-9" not in first

    assert not isinstance(
        seeded.execute_many([(f.award("A-9", amount_fen=3_000_000), "olga")])[0], Exception
    )
    behind = vic.get(f"/enterprises/{f.USCC_A}").get_data(as_text=True)
    assert "A-9" not in behind  # the views have not seen it yet...
    # ...and the frame, drawn for each request, says so
    assert re.search(r"另有 \d+ 个较新事件尚未显示", behind)

    _catch_up(seeded)
    assert "A-9" in vic.get(f"/enterprises/{f.USCC_A}").get_data(as_text=True)


def test_kept_pages_differ_by_language_and_frame_each_session_with_its_own_csrf(
    as_user: Any, csrf: Any
) -> None:
    vic, aud = as_user("vic"), as_user("aud")
    zh = vic.get(f"/enterprises/{f.USCC_A}").get_data(as_text=True)
    assert "vic （查阅人员）" in zh
    other = aud.get(f"/enterprises/{f.USCC_A}").get_data(as_text=True)
    assert "aud （审计人员）" in other and "vic （查阅人员）" not in other
    assert csrf(vic, f"/enterprises/{f.USCC_A}") != csrf(aud, f"/enterprises/{f.USCC_A}")
    vic.get("/lang/en")
    en = vic.get(f"/enterprises/{f.USCC_A}").get_data(as_text=True)
    assert "Balances by fiscal year" in en and "Balances by fiscal year" not in zh


def test_a_missing_enterprise_stays_404_and_the_dashboard_follows_the_views(
    as_user: Any, seeded: Any
) -> None:
    vic = as_user("vic")
    assert vic.get(f"/enterprises/{f.USCC_C}").status_code == 404
    assert vic.get(f"/enterprises/{f.USCC_C}").status_code == 404
    dashboard = vic.get("/").get_data(as_text=True)
    assert _without_csrf_token(vic.get("/").get_data(as_text=True)) == _without_csrf_token(dashboard)
    commands = [(f.enterprise(f.USCC_C, name="上海松江缓存测试有限公司"), "olga")]
    assert not isinstance(seeded.execute_many(commands)[0], Exception)
    _catch_up(seeded)
    assert "上海松江缓存测试有限公司" in vic.get(f"/enterprises/{f.USCC_C}").get_data(as_text=True)


def test_the_balances_api_body_is_kept_and_equals_what_the_schema_dumps(
    client: Any, token: Any, seeded: Any, web_app: Any
) -> None:
    headers = token("vic")
    first = client.get(f"/api/v1/enterprises/{f.USCC_A}", headers=headers)
    assert first.status_code == 200 and first.mimetype == "application/json"
    again = client.get(f"/api/v1/enterprises/{f.USCC_A}", headers=headers)
    assert again.get_json() == first.get_json()
    granted = sum(b["granted_fen"] for b in first.get_json()["balances"])

    assert not isinstance(
        seeded.execute_many([(f.award("A-8", amount_fen=1_000_000), "olga")])[0], Exception
    )
    _catch_up(seeded)
    later = client.get(f"/api/v1/enterprises/{f.USCC_A}", headers=headers).get_json()
    assert sum(b["granted_fen"] for b in later["balances"]) == granted + 1_000_000
    assert client.get(f"/api/v1/enterprises/{f.USCC_C}", headers=headers).status_code == 404
    # a min_position the views have not reached is still waited for (503 after the timeout)
    assert not isinstance(
        seeded.execute_many([(f.award("A-7", amount_fen=1_000), "olga")])[0], Exception
    )
    url = f"/api/v1/enterprises/{f.USCC_A}?min_position={seeded.log_position()}"
    assert client.get(url, headers=headers).status_code == 503
    _catch_up(seeded)
    assert client.get(url, headers=headers).status_code == 200


def test_the_cache_is_bounded_and_keeps_nothing_made_while_the_views_moved() -> None:
    cache = PositionCache(max_entries=3, max_chars=1_000)
    for n in range(5):
        cache.get_or_make(n, lambda n=n: f"body {n}")
    assert len(cache) == 3
    assert cache.get_or_make(0, lambda: "again") == "again"  # 0 was pushed out
    assert cache.get_or_make("moved", lambda: "x", lambda: False) == "x"
    assert cache.get_or_make("moved", lambda: "y") == "y"
    big = PositionCache(max_entries=10, max_chars=80)
    big.get_or_make("huge", lambda: "z" * 50)  # over an eighth of the bound: not kept
    assert len(big) == 0


def test_concurrent_requests_for_a_missing_body_make_it_once() -> None:
    cache = PositionCache()
    made = []

    def make() -> str:
        made.append(1)
        time.sleep(0.2)
        return "body"

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_make("k", make)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["body"] * 8
    assert len(made) == 1


def _without_csrf_token(page: str) -> str:
    """A page with its CSRF token's value blanked (the token is signed with a timestamp)."""
    return re.sub(r'(name="csrf_token" value=")[^"]*"', r'\1"', page)
