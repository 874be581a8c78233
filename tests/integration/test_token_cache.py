"""Verified API tokens are remembered briefly, and never past a change to users or credentials.

A process remembers a verified token for at most `token_cache_s` (ledger.users). Any change to
users or credentials made in the process, through any ledger application of it, forgets every
remembered token at once; a change made by another process takes effect here once the
remembered answer is `token_cache_s` old. Time is the `Users.monotonic` clock, moved by the
tests (no sleeping, nothing timed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.credentials import utc_now
from ledger.storage import open_ledger
from ledger.users import parse_token, token_sha256

#: Long enough that only a change, never age, can end a remembered token within a test.
LONG_S = 3600.0


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def clock(app: Any) -> Iterator[Clock]:
    clock = Clock()
    app.users.monotonic, app.users.token_cache_s = clock, LONG_S
    yield clock


@pytest.fixture
def client(app: Any, clock: Clock) -> Any:
    from web import create_app

    return create_app({"LEDGER_APP": app, "SECRET_KEY": "test", "TESTING": True}).test_client()


def status(client: Any, token: str, path: str = "/api/v1/status") -> int:
    return int(client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code)


def in_another_process(database_url: str, code: str) -> None:
    """Run Python code with `app` (a ledger on the store) in a process of its own."""
    root = Path(__file__).resolve().parents[2]
    program = f"from ledger.storage import open_ledger\napp = open_ledger({database_url!r})\n{code}\napp.close()\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["PYTHONPATH"] = str(root)
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_a_token_revoked_through_another_ledger_of_the_process_is_refused_at_once(
    app: Any, database_url: str, client: Any
) -> None:
    token = app.issue_token("olga", actor="admin")
    assert status(client, token) == 200  # now remembered for an hour
    other = open_ledger(database_url)  # another application in this process (as the CLI opens)
    try:
        other.revoke_token("olga", parse_token(token), actor="admin")
    finally:
        other.close()
    assert status(client, token) == 401
    assert app.users.token_holder(token) is None


def test_a_role_granted_or_revoked_in_the_process_counts_at_once(app: Any, database_url: str,
                                                                 client: Any) -> None:  # fmt: skip
    token = app.issue_token("vic", actor="admin")
    assert status(client, token, "/api/v1/events") == 403  # a viewer is no auditor
    other = open_ledger(database_url)
    try:
        other.grant_role("vic", "auditor", actor="admin")
        assert status(client, token, "/api/v1/events") == 200
        other.revoke_role("vic", "auditor", actor="admin")
    finally:
        other.close()
    assert status(client, token, "/api/v1/events") == 403
    assert app.users.token_holder(token).roles == frozenset({"viewer"})


def test_a_password_change_in_the_process_makes_remembered_tokens_read_afresh(app: Any) -> None:
    token = app.issue_token("olga", actor="admin")
    first = app.users.token_holder(token)
    assert app.users.token_holder(token) is first  # remembered
    app.set_password("olga", "a-long-officer-password", actor="admin")
    again = app.users.token_holder(token)
    assert again is not None and again is not first  # read from the store again, still valid


def test_another_process_revoking_a_token_counts_here_once_the_answer_is_as_old_as_the_bound(
    app: Any, database_url: str, clock: Clock
) -> None:
    token = app.issue_token("olga", actor="admin")
    assert app.users.token_holder(token) is not None
    in_another_process(
        database_url, f"app.revoke_token('olga', {parse_token(token)!r}, actor='admin')"
    )
    # remembered: this process has not read the store since (within the documented bound)
    assert app.users.token_holder(token) is not None
    clock.now_s += LONG_S / 2 - 1
    assert app.users.token_holder(token) is not None
    clock.now_s += 1  # half the bound: the next request reads it again
    assert app.users.token_holder(token) is None
    clock.now_s -= 10  # a clock that went back never makes an old answer young
    assert app.users.token_holder(token) is None


def test_a_role_revoked_by_another_process_counts_here_within_the_bound(
    app: Any, database_url: str, clock: Clock
) -> None:
    token = app.issue_token("olga", actor="admin")
    assert app.users.token_holder(token).roles == frozenset({"officer"})
    in_another_process(database_url, "app.grant_role('olga', 'approver', actor='admin')\n"
                                     "app.revoke_role('olga', 'officer', actor='admin')")  # fmt: skip
    clock.now_s += LONG_S
    assert app.users.token_holder(token).roles == frozenset({"approver"})


def test_a_token_issued_by_another_process_works_here_at_once(app: Any, database_url: str,
                                                              clock: Clock, tmp_path: Path) -> None:  # fmt: skip
    bad = app.issue_token("olga", actor="admin")[:-1] + "x"
    assert app.users.token_holder(bad) is None  # refusals are never remembered
    out = tmp_path / "token.json"
    in_another_process(database_url, f"import json\nopen({str(out)!r}, 'w').write(json.dumps("
                                     "app.issue_token('oscar', actor='admin')))")  # fmt: skip
    token = json.loads(out.read_text())
    holder = app.users.token_holder(token)
    assert holder is not None and holder.name == "oscar"


def test_past_the_bound_a_remembered_token_is_read_again(app: Any, database_url: str,
                                                         clock: Clock) -> None:  # fmt: skip
    token = app.issue_token("olga", actor="admin")
    assert app.users.token_holder(token) is not None
    in_another_process(
        database_url, f"app.revoke_token('olga', {parse_token(token)!r}, actor='admin')"
    )
    app.users._refreshing.add(token_sha256(token))  # as if another request were reading it again
    clock.now_s += LONG_S / 2
    assert app.users.token_holder(token) is not None  # that one reads; this one keeps the answer
    clock.now_s += LONG_S / 2  # the bound: every request reads
    assert app.users.token_holder(token) is None


def test_a_remembered_token_still_expires_on_time(app: Any, clock: Clock) -> None:
    token = app.users.issue_token("olga", actor="admin", expires_days=2)
    assert app.users.token_holder(token) is not None
    now = utc_now()
    app.users.clock = lambda: now + timedelta(days=2, minutes=1)
    try:
        assert app.users.token_holder(token) is None
    finally:
        app.users.clock = utc_now


def test_with_no_time_to_remember_every_request_reads_the_store(
    app: Any, database_url: str
) -> None:
    app.users.token_cache_s = 0.0
    token = app.issue_token("olga", actor="admin")
    assert app.users.token_holder(token) is not None
    in_another_process(
        database_url, f"app.revoke_token('olga', {parse_token(token)!r}, actor='admin')"
    )
    assert app.users.token_holder(token) is None


def test_the_web_takes_the_bound_from_its_settings(app: Any) -> None:
    from web import create_app

    create_app({"LEDGER_APP": app, "SECRET_KEY": "test", "LEDGER_TOKEN_CACHE_S": "0.25"})
    assert app.users.token_cache_s == 0.25
    create_app({"LEDGER_APP": app, "SECRET_KEY": "test", "LEDGER_TOKEN_CACHE_S": "600"})
    assert app.users.token_cache_s == 10.0  # at most TOKEN_CACHE_S_MAX
