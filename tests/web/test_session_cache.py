"""A signed-in session's user is remembered briefly, like a verified token, never past a change.

`Users.signed_in` remembers who a signed-in name is (roles, password marker) for at most
`token_cache_s`. A change made in this process (through any ledger application of it) counts at
the next request; one made by another process (`ledger users …` from a shell) once the
remembered answer is as old as the bound. Time is the `Users.monotonic` clock, moved by the
tests (no sleeping, nothing timed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from processes import run_ledger

from ledger.storage import open_ledger

#: Long enough that only a change, never age, ends a remembered answer within a test.
LONG_S = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def clock(seeded: Any) -> Clock:
    clock = Clock()
    seeded.users.monotonic, seeded.users.token_cache_s = clock, LONG_S
    return clock


def page_status(client: Any, path: str) -> int:
    return int(client.get(path).status_code)


def test_a_role_revoked_by_another_process_counts_within_the_bound(
    seeded: Any, database_url: str, as_user: Any, clock: Clock, tmp_path: Path
) -> None:
    client = as_user("aud")
    assert page_status(client, "/audit") == 200  # the answer is now remembered
    done = run_ledger(database_url, "users", "grant", "aud", "viewer", "--as", "admin", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = run_ledger(database_url, "users", "revoke", "aud", "auditor", "--as", "admin", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert page_status(client, "/audit") == 200  # remembered: within the documented bound
    clock.now_s += LONG_S / 2  # half the bound: the next request reads the store again
    assert page_status(client, "/audit") == 403
    assert page_status(client, "/enterprises") == 200  # still a viewer


def test_a_password_set_by_another_process_ends_the_session_within_the_bound(
    seeded: Any, database_url: str, as_user: Any, clock: Clock, tmp_path: Path
) -> None:
    client = as_user("vic")
    assert page_status(client, "/enterprises") == 200
    done = run_ledger(database_url, "users", "password", "vic", "--password-stdin", "--as", "admin",
                      cwd=tmp_path, input_text="a new long password\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert page_status(client, "/enterprises") == 200  # remembered: within the bound
    clock.now_s += LONG_S  # the bound: every request reads the store
    answer = client.get("/enterprises")
    assert answer.status_code == 302 and "/signin" in answer.headers["Location"]
    assert page_status(client, "/enterprises") == 302  # the session was ended, not just refused


def test_a_change_in_this_process_counts_at_the_next_request(
    seeded: Any, database_url: str, as_user: Any, clock: Clock
) -> None:
    client = as_user("aud")
    assert page_status(client, "/audit") == 200
    other = open_ledger(database_url)  # another ledger application of this process (as the CLI)
    try:
        other.grant_role("aud", "viewer", actor="admin")
        other.revoke_role("aud", "auditor", actor="admin")
    finally:
        other.close()
    assert page_status(client, "/audit") == 403  # no time has passed on the clock
    seeded.set_password("aud", "another long password", actor="admin")
    answer = client.get("/enterprises")
    assert answer.status_code == 302 and "/signin" in answer.headers["Location"]


def test_a_user_who_is_not_there_is_never_remembered(seeded: Any, clock: Clock) -> None:
    assert seeded.users.signed_in("nobody") is None
    seeded.register_user("nobody", ["viewer"], actor="admin")
    found = seeded.users.signed_in("nobody")
    assert found is not None and found.roles == frozenset({"viewer"})
    assert found.password_marker is None  # no password: no session can match it
    assert seeded.users.signed_in("nobody") is found  # remembered now
