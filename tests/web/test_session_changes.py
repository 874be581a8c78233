"""A signed-in session is checked against the store on every request: a role revoked or a
password set anywhere — by `ledger users …` in another process, or by another ledger application
of this one — counts at the session's very next request. (API tokens, unlike sessions, may be
remembered for up to `LEDGER_TOKEN_CACHE_S`; tests/integration/test_token_cache.py.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from processes import run_ledger

from ledger.storage import open_ledger


def page_status(client: Any, path: str) -> int:
    return int(client.get(path).status_code)


def sent_to_sign_in(client: Any, path: str = "/enterprises") -> bool:
    answer = client.get(path)
    return answer.status_code == 302 and "/signin" in answer.headers["Location"]


def test_a_role_revoked_by_another_process_counts_at_the_next_request(
    seeded: Any, database_url: str, as_user: Any, tmp_path: Path
) -> None:
    client = as_user("aud")
    assert page_status(client, "/audit") == 200
    for args in (("grant", "aud", "viewer"), ("revoke", "aud", "auditor")):
        done = run_ledger(database_url, "users", *args, "--as", "admin", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert page_status(client, "/audit") == 403
    assert page_status(client, "/enterprises") == 200  # still a viewer


def test_a_password_set_by_another_process_ends_the_session_at_the_next_request(
    seeded: Any, database_url: str, as_user: Any, tmp_path: Path
) -> None:
    client = as_user("vic")
    assert page_status(client, "/enterprises") == 200
    done = run_ledger(database_url, "users", "password", "vic", "--password-stdin", "--as", "admin",
                      cwd=tmp_path, input_text="a new long password\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sent_to_sign_in(client)
    assert sent_to_sign_in(client)  # the session was ended, not just refused once


def test_a_change_through_another_ledger_of_this_process_counts_at_the_next_request(
    seeded: Any, database_url: str, as_user: Any
) -> None:
    client = as_user("aud")
    assert page_status(client, "/audit") == 200
    other = open_ledger(database_url)  # another ledger application of this process (as the CLI)
    try:
        other.grant_role("aud", "viewer", actor="admin")
        other.revoke_role("aud", "auditor", actor="admin")
        assert page_status(client, "/audit") == 403
        other.set_password("aud", "another long password", actor="admin")
    finally:
        other.close()
    assert sent_to_sign_in(client)


def test_reading_who_is_asking_shares_no_state_with_the_copies_commands_get(seeded: Any) -> None:
    """Authentication reads the repository's cached user without a copy; a copy that code
    changes (as a command changes its aggregate before saving) leaves what it reads alone."""
    assert "auditor" in seeded.users.peek_user("aud").roles
    copy = seeded.get_user("aud")
    copy.roles.discard("auditor")
    assert "auditor" in seeded.users.peek_user("aud").roles
    assert "auditor" in seeded.get_user("aud").roles
    assert seeded.users.peek_user("nobody") is None and seeded.users.peek_user("") is None
