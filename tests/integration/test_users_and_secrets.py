"""No secrets in the event log; users and tokens that work (issue 8, items 1 and 2).

Legacy stores are made by writing the old event shapes (`PasswordSet` with a hash, `TokenIssued`
version 1 with the token's SHA-256) straight through the recorder, as the code before this
change stored them. HTTP goes through a real WSGI server (werkzeug's, threaded) on a free port.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import factories as f
import pytest
from click.testing import CliRunner
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent
from werkzeug.security import generate_password_hash

from ledger.cli import cli
from ledger.credentials import TABLE, utc_now
from ledger.disclosure import ALLOWED, public_fields
from ledger.domain import User
from ledger.storage import open_ledger

LEGACY_PASSWORD = "legacy-password-1"
HEX64 = re.compile(rb"[0-9a-f]{64}")


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


class OldUser(Aggregate):
    """The `User` aggregate as it was before this change, hashes inside its events (its event
    methods copied from the old ledger/domain/user.py)."""

    @event("Registered")
    def __init__(self, name: str, roles: list[str], actor: str) -> None:
        self.name = name
        self.roles = set(roles)

    @event("TokenIssued")
    def _issue_token(self, token_id: str, token_sha256: str, actor: str) -> None:
        pass

    @event("PasswordSet")
    def _set_password_hash(self, password_hash: str, actor: str) -> None:
        pass


def write_legacy_user(app: Any, name: str, roles: list[str]) -> dict[str, str]:
    """Register `name` the way the code before this change did: a password hash in a
    `PasswordSet` event and a token's SHA-256 in a version-1 `TokenIssued` event, stored under
    the permanent topics of `ledger.domain.user`.

    Returns the legacy token, its hash and the password hash that are now in the log.
    """
    token_id = secrets.token_hex(4)
    token = f"{name}.{token_id}.{secrets.token_urlsafe(24)}"
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    password_hash = generate_password_hash(LEGACY_PASSWORD, method="pbkdf2:sha256:1000")
    old = OldUser(name=name, roles=roles, actor="system")
    assert old.id != User.create_id(name)
    old._id = User.create_id(name)  # the old code derived this id from the name, as today
    old._set_password_hash(password_hash=password_hash, actor="system")
    old._issue_token(token_id=token_id, token_sha256=token_hash, actor="system")
    transcoder = app.mapper.transcoder
    stored = []
    for old_event in old.collect_events():
        s = app.mapper.to_stored_event(old_event)
        state = transcoder.decode(s.state)
        state["originator_id"] = User.create_id(name)
        if "originator_topic" in state:
            state["originator_topic"] = _topic(User)
        topic = "ledger.domain.user:User." + s.topic.rpartition(".")[2]
        stored.append(StoredEvent(User.create_id(name), s.originator_version, topic,
                                  transcoder.encode(state)))  # fmt: skip
    assert [e.topic for e in stored] == [_topic(User.Registered), _topic(User.PasswordSet),
                                         _topic(User.TokenIssued)]  # fmt: skip
    app.recorder.insert_events(stored)
    return {"token": token, "token_sha256": token_hash, "password_hash": password_hash}


def stored_events(app: Any) -> Iterator[Any]:
    last = None
    while True:
        page = app.recorder.select_notifications(start=last, limit=5000, inclusive_of_start=False)
        yield from page
        if len(page) < 5000:
            return
        last = page[-1].id


def run_cli(database_url: str, *args: str, actor: str = "", input: str | None = None,
            env: dict[str, str] | None = None) -> Any:  # fmt: skip
    environment = {"LEDGER_DATABASE_URL": database_url, "LEDGER_ACTOR": actor,
                   "LEDGER_NEW_PASSWORD": "", **(env or {})}  # fmt: skip
    return CliRunner().invoke(cli, list(args), env=environment, input=input,
                              catch_exceptions=False)  # fmt: skip


@pytest.fixture
def server(app: Any) -> Iterator[str]:
    """A real (threaded) WSGI server over the web of the shared ledger, on a free port."""
    from werkzeug.serving import make_server

    from web import create_app

    flask_app = create_app({"LEDGER_APP": app, "SECRET_KEY": "test"})
    wsgi = make_server("127.0.0.1", 0, flask_app, threaded=True)
    thread = threading.Thread(target=wsgi.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{wsgi.server_port}"
    wsgi.shutdown()
    thread.join()
    wsgi.server_close()


def http(url: str, token: str | None = None, body: Any = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# -- the event shapes -------------------------------------------------------------------------


def test_new_user_events_hold_no_secret(app) -> None:  # type: ignore[no-untyped-def]
    token = app.issue_token("olga", actor="admin")
    app.set_password("olga", "a-long-officer-password", actor="admin")
    secret_hash = hashlib.sha256(token.encode()).hexdigest().encode()
    for n in stored_events(app):
        if n.topic.startswith("ledger.domain.user:"):
            assert b"hash" not in n.state and b"sha256" not in n.state, n.topic
            assert b"pbkdf2:" not in n.state and b"scrypt:" not in n.state
            assert secret_hash not in n.state and token.encode() not in n.state
            assert not HEX64.search(n.state), n.state
    topics = {n.topic.rpartition(":")[2] for n in stored_events(app)}
    assert {"User.TokenIssued", "User.PasswordChanged"} <= topics
    assert "User.PasswordSet" not in topics


def test_legacy_user_events_load_without_their_secrets_and_never_authenticate(app) -> None:  # type: ignore[no-untyped-def]
    legacy = write_legacy_user(app, "lao.li", ["viewer"])
    user = app.get_user("lao.li")
    assert user.roles == {"viewer"} and user.password_set and user.needs_rotation
    assert list(user.tokens.values()) == [None]
    for n in stored_events(app):
        if n.originator_id == user.id:
            event = app.mapper.to_domain_event(n)
            assert "token_sha256" not in vars(event) and "password_hash" not in vars(event)
    assert app.user_for_token(legacy["token"]) is None
    assert app.users.check_password("lao.li", LEGACY_PASSWORD) is None
    assert app.users.needing_rotation() == ["lao.li"]


# -- nothing secret is shown --------------------------------------------------------------------


def test_the_allow_list_names_only_fields_the_events_have() -> None:
    import inspect

    from eventsourcing.domain import CanMutateAggregate

    import ledger.domain as domain

    declared = {}
    for aggregate in (getattr(domain, n) for n in domain.__all__ if n != "ROLES"):
        for value in vars(aggregate).values():
            if inspect.isclass(value) and issubclass(value, CanMutateAggregate):
                fields: dict[str, Any] = {}
                for cls in reversed(value.__mro__):
                    fields.update(getattr(cls, "__annotations__", {}))
                declared[_topic(value)] = set(fields)
    for topic, allowed in ALLOWED.items():
        assert set(allowed) <= declared[topic], topic
    assert public_fields("ledger.domain.user:User.TokenIssued",
                         {"token_id": "t", "token_sha256": "x" * 64, "actor": "a"}) == {
        "token_id": "t", "actor": "a"}  # fmt: skip
    assert public_fields(_topic(User.PasswordSet), {"password_hash": "pbkdf2:x", "actor": "a"}) == {
        "actor": "a"}  # fmt: skip
    assert public_fields("somewhere:Unknown.Event", {"anything": 1}) == {}


def test_legacy_hashes_are_shown_nowhere(app, database_url, server) -> None:  # type: ignore[no-untyped-def]
    from audit.trail import trail
    from projections.runner import catch_up

    legacy = write_legacy_user(app, "lao.li", ["viewer"])
    for result in app.execute_many([(f.enterprise(), "olga"), (f.budget(), "olga")]):
        assert not isinstance(result, Exception), result
    catch_up(app)
    secrets_in_log = [legacy["token_sha256"], legacy["password_hash"], "token_sha256",
                      "password_hash", "pbkdf2:"]  # fmt: skip
    auditor = app.register_user("aud", ["auditor"], actor="admin")

    def clean(text: str) -> None:
        for secret in secrets_in_log:
            assert secret not in text

    user_id = User.create_id("lao.li")
    positions = [n.id for n in stored_events(app) if n.originator_id == user_id]
    assert len(positions) == 3
    for position in positions:
        status, page = http(f"{server}/events/{position}", auditor)
        assert status == 200, page
        clean(page)
    status, page = http(f"{server}/events/{positions[2]}", auditor)
    assert "签发令牌" in page and "令牌编号" in page  # the facts are still shown, in words
    status, body = http(f"{server}/api/v1/events?after=0&limit=500", auditor)
    assert status == 200 and "TokenIssued" in body
    clean(body)
    status, body = http(f"{server}/api/v1/trail?actor=system&limit=500", auditor)
    assert status == 200, body
    clean(body)
    entries = trail(app, actor="system", limit=1000)
    assert any(e["event_type"] == "TokenIssued" for e in entries)
    clean(json.dumps(entries, ensure_ascii=False))
    csv_out = run_cli(database_url, "audit", "trail", "--actor", "system", "--csv")
    assert csv_out.exit_code == 0 and "TokenIssued" in csv_out.output
    clean(csv_out.output)
    replayed = run_cli(database_url, "audit", "replay", "--json")
    assert replayed.exit_code == 0, replayed.output
    clean(replayed.output)


# -- rotation ---------------------------------------------------------------------------------


def test_init_on_a_legacy_store_says_to_rotate_and_rotate_replaces_everything(
    app, database_url, server
) -> None:  # type: ignore[no-untyped-def]
    legacy = write_legacy_user(app, "lao.li", ["viewer"])
    before = app.issue_token("olga", actor="admin")
    assert app.user_for_token(before) is not None
    warned = run_cli(database_url, "init")
    assert warned.exit_code == 0
    assert "users rotate" in warned.output and "轮换" in warned.output
    assert "must be rotated" in warned.output

    refused = run_cli(database_url, "users", "rotate", actor="olga")
    assert refused.exit_code == 1 and "forbidden" in refused.output
    done = run_cli(database_url, "users", "rotate", "--json", actor="admin")
    assert done.exit_code == 0, done.output
    rotated = {row["name"]: row for row in json.loads(done.output)["users"]}
    assert set(rotated) == {"admin", "olga", "oscar", "ada", "vic", "lao.li"}
    assert app.user_for_token(before) is None
    assert app.user_for_token(legacy["token"]) is None
    for name, row in rotated.items():
        assert app.user_for_token(row["token"]).name == name
        assert app.users.check_password(name, row["password"]).name == name
        assert len(row["password"]) >= 10
    assert app.get_user("lao.li").needs_rotation is False
    status, _ = http(f"{server}/api/v1/status", rotated["lao.li"]["token"])
    assert status == 200
    status, _ = http(f"{server}/api/v1/status", before)
    assert status == 401
    again = run_cli(database_url, "init")
    assert again.exit_code == 0 and "rotate" not in again.output
    # recorded through the normal events, and none of them holds a secret
    kinds = [n.topic.rpartition(":")[2] for n in stored_events(app)]
    assert kinds.count("User.PasswordChanged") >= 6 and "User.TokenRevoked" in kinds
    for n in stored_events(app):
        for row in rotated.values():
            assert row["token"].encode() not in n.state and row["password"].encode() not in n.state


# -- tokens -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["wang.fang", "王芳"])
def test_tokens_work_over_http_for_any_valid_name(app, server, name) -> None:  # type: ignore[no-untyped-def]
    token = app.register_user(name, ["officer"], actor="admin")
    assert token.startswith("sjl_") and name not in token
    status, body = http(f"{server}/api/v1/status", token)
    assert status == 200, body
    status, body = http(f"{server}/api/v1/commands", token, f.enterprise())
    assert status == 200, body
    assert json.loads(body)["recorded"] == 1
    assert any(vars(app.mapper.to_domain_event(n)).get("actor") == name for n in stored_events(app))
    status, _ = http(f"{server}/api/v1/status", token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert status == 401


def test_expired_and_revoked_tokens_are_refused(app, database_url, server) -> None:  # type: ignore[no-untyped-def]
    issued = run_cli(database_url, "users", "token", "wang.fang", "--json", actor="admin")
    assert issued.exit_code == 1  # no such user yet: unknown_actor
    assert "unknown_actor" in issued.output
    app.register_user("wang.fang", ["viewer"], actor="admin")
    issued = run_cli(database_url, "users", "token", "wang.fang", "--expires-days", "2", "--json",
                     actor="admin")  # fmt: skip
    assert issued.exit_code == 0, issued.output
    token, token_id = json.loads(issued.output)["token"], json.loads(issued.output)["token_id"]
    assert http(f"{server}/api/v1/status", token)[0] == 200

    now = utc_now()
    app.users.clock = lambda: now + timedelta(days=2, minutes=1)
    try:
        assert http(f"{server}/api/v1/status", token)[0] == 401
        yearly = app.issue_token("wang.fang", actor="admin")  # default: 365 days
        assert http(f"{server}/api/v1/status", yearly)[0] == 200
        app.users.clock = lambda: now + timedelta(days=368)
        assert http(f"{server}/api/v1/status", yearly)[0] == 401
    finally:
        app.users.clock = utc_now

    revoked = run_cli(database_url, "users", "revoke-token", "wang.fang", token_id, actor="admin")
    assert revoked.exit_code == 0, revoked.output
    assert http(f"{server}/api/v1/status", token)[0] == 401
    twice = run_cli(database_url, "users", "revoke-token", "wang.fang", token_id, actor="admin")
    assert twice.exit_code == 1 and "invalid_state" in twice.output
    listed = json.loads(run_cli(database_url, "users", "list", "--json").output)["users"]
    tokens = {t["token_id"]: t for u in listed if u["name"] == "wang.fang" for t in u["tokens"]}
    assert tokens[token_id]["revoked_at"] is not None and tokens[token_id]["usable"] is False


def test_users_list_shows_no_secret(app, database_url) -> None:  # type: ignore[no-untyped-def]
    app.set_password("olga", "a-long-officer-password", actor="admin")
    write_legacy_user(app, "lao.li", ["viewer"])
    result = run_cli(database_url, "users", "list", "--json")
    assert result.exit_code == 0, result.output
    users = {u["name"]: u for u in json.loads(result.output)["users"]}
    assert users["olga"]["roles"] == ["officer"] and users["olga"]["password_set"] is True
    assert users["vic"]["password_set"] is False
    assert users["lao.li"]["needs_rotation"] is True and users["lao.li"]["password_set"] is False
    assert all(t["expires_at"] for t in users["olga"]["tokens"])
    assert "hash" not in result.output and "pbkdf2:" not in result.output
    assert "scrypt:" not in result.output and not HEX64.search(result.output.encode())
    text = run_cli(database_url, "users", "list")
    assert text.exit_code == 0 and "olga" in text.output and "lao.li" in text.output


# -- passwords --------------------------------------------------------------------------------


def test_password_policy_and_non_argv_routes(app, database_url) -> None:  # type: ignore[no-untyped-def]
    short = run_cli(database_url, "users", "add", "bob", "--role", "viewer", "--password-stdin",
                    "--json", actor="admin", input="short-pw\n")  # fmt: skip
    assert short.exit_code == 1
    error = json.loads(short.output)["error"]
    assert error["code"] == "validation_error" and "10" in error["message"]
    assert "密码" in error["message_zh"]
    assert app.get_user("bob") is None  # nothing was recorded
    named = run_cli(database_url, "users", "add", "bob", "--role", "viewer", "--password-stdin",
                    actor="admin", input="My-BOB-password\n")  # fmt: skip
    assert named.exit_code == 1 and "validation_error" in named.output
    assert app.get_user("bob") is None
    argv = run_cli(database_url, "users", "add", "bob", "--role", "viewer", "--password",
                   "a-long-password", actor="admin")  # fmt: skip
    assert argv.exit_code == 2  # a password on the command line is refused
    good = run_cli(database_url, "users", "add", "bob", "--role", "viewer", "--password-stdin",
                   actor="admin", input="a-long-password\n")  # fmt: skip
    assert good.exit_code == 0, good.output
    assert app.users.check_password("bob", "a-long-password").name == "bob"

    bad = run_cli(database_url, "users", "password", "bob", "--password-stdin", actor="admin",
                  input="Bob\n")  # fmt: skip
    assert bad.exit_code == 1 and "validation_error" in bad.output
    assert app.users.check_password("bob", "a-long-password") is not None  # unchanged
    prompted = run_cli(database_url, "users", "password", "bob", actor="bob",
                       input="prompted-password\nprompted-password\n")  # fmt: skip
    assert prompted.exit_code == 0, prompted.output
    assert app.users.check_password("bob", "prompted-password") is not None
    from_env = run_cli(database_url, "users", "password", "bob", actor="admin",
                       env={"LEDGER_NEW_PASSWORD": "from-the-environment"})  # fmt: skip
    assert from_env.exit_code == 0, from_env.output
    assert app.users.check_password("bob", "from-the-environment") is not None
    assert app.users.check_password("bob", "prompted-password") is None


def test_a_changed_password_ends_older_sessions(app) -> None:  # type: ignore[no-untyped-def]
    app.set_password("vic", "first-long-password", actor="admin")
    assert app.users.password_marker("vic") is not None
    first = app.users.password_marker("vic")
    app.set_password("vic", "second-long-password", actor="admin")
    assert app.users.password_marker("vic") != first
    assert app.users.check_password("vic", "first-long-password") is None
    assert app.users.password_marker("ada") is None


# -- --as and LEDGER_ACTOR --------------------------------------------------------------------


def test_as_wins_over_ledger_actor_before_and_after_the_subcommand(app, database_url) -> None:  # type: ignore[no-untyped-def]
    before = run_cli(database_url, "--as", "admin", "users", "grant", "vic", "auditor", actor="olga")
    assert before.exit_code == 0, before.output
    after = run_cli(database_url, "users", "grant", "vic", "officer", "--as", "admin", actor="olga")
    assert after.exit_code == 0, after.output
    # the subcommand's --as wins over the group's
    inner = run_cli(database_url, "--as", "admin", "users", "revoke", "vic", "officer",
                    "--as", "olga")  # fmt: skip
    assert inner.exit_code == 1 and "forbidden" in inner.output
    # without --as, LEDGER_ACTOR acts
    env_only = run_cli(database_url, "users", "revoke", "vic", "officer", actor="olga")
    assert env_only.exit_code == 1 and "forbidden" in env_only.output
    env_admin = run_cli(database_url, "users", "revoke", "vic", "officer", actor="admin")
    assert env_admin.exit_code == 0, env_admin.output
    recorded = run_cli(database_url, "--as", "olga", "record", "--json", json.dumps(f.enterprise()),
                       actor="admin")  # fmt: skip
    assert json.loads(recorded.output)["status"] == "recorded"
    actors = [vars(app.mapper.to_domain_event(n)).get("actor") for n in stored_events(app)]
    assert actors[-1] == "olga"
    assert app.get_user("vic").roles == {"viewer", "auditor"}


# -- the demo store ---------------------------------------------------------------------------


def test_a_demo_store_holds_no_hash_material(database_url) -> None:  # type: ignore[no-untyped-def]
    from ledger.credentials import Credentials
    from ledger.demo import DEMO_PASSWORD, DEMO_USERS, load_demo

    app = open_ledger(database_url)
    try:
        load_demo(app)
        extra = app.issue_token("wang.fang", actor="admin")
        hashes: list[bytes] = []
        credentials = Credentials(app)
        for name in DEMO_USERS:
            rows = credentials.of_user(name)
            assert {r.kind for r in rows} == {"password", "token"}, name
            hashes += [r.secret_hash.encode() for r in rows]
            assert app.users.check_password(name, DEMO_PASSWORD) is not None
        assert len(hashes) >= 2 * len(DEMO_USERS)
        forbidden = [b"scrypt:", b"pbkdf2:", extra.encode(), extra.split("_", 2)[2].encode(),
                     DEMO_PASSWORD.encode(), *hashes]  # fmt: skip
        count = 0
        for n in stored_events(app):
            count += 1
            for needle in forbidden:
                assert needle not in n.state, (n.id, n.topic, needle)
            if n.topic.startswith("ledger.domain.user:"):
                assert not HEX64.search(n.state), (n.id, n.topic)
        assert count == app.log_position() > 10_000
    finally:
        app.close()


def test_the_credentials_table_is_created_by_init_in_the_store(database_url) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(database_url, "init")
    assert result.exit_code == 0, result.output
    app = open_ledger(database_url)
    try:
        from ledger.credentials import Credentials

        assert Credentials(app).exists()
        if app.store.is_postgres:
            import psycopg

            with psycopg.connect(app.store.postgres_conninfo()) as conn:
                row = conn.execute("SELECT to_regclass(%s)",
                                   (f'"{app.store.postgres_schema}".{TABLE}',)).fetchone()  # fmt: skip
            assert row[0] is not None
    finally:
        app.close()
