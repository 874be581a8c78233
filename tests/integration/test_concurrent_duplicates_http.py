"""The same command sent by many clients at once is recorded once; every other client hears
`duplicate` — never `invalid_state`, never a 5xx.

A real WSGI server (werkzeug, one thread per request) serves the API over one ledger, as
`ledger serve` does in each of its processes; 16 clients post the identical command at the
same moment (a barrier), for several rounds and several command types, on both stores. The
test also counts the write conflicts the ledger met and retried (its debug log), so that it is
known to have raced rather than passed by luck of scheduling.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import factories as f
import pytest
from conflicts import ConflictCounter, counting_conflicts
from werkzeug.serving import make_server

from ledger.application import SupportLedger
from ledger.current_state import award_state, budget_state
from web import create_app

CLIENTS = 16
ROUNDS = 5


@pytest.fixture
def conflicts() -> Iterator[ConflictCounter]:
    with counting_conflicts() as counter:
        yield counter


@pytest.fixture
def server(app: SupportLedger) -> Iterator[tuple[str, int, dict[str, str]]]:
    """(host, port, bearer tokens by user) of the API served over `app`: `olga` is an officer,
    `both` an officer and approver (the API takes commands from officers only)."""
    tokens = {
        "olga": app.issue_token("olga", actor="admin"),
        "both": app.register_user("both", ["officer", "approver"], actor="admin"),
    }
    web = create_app({"LEDGER_APP": app, "TESTING": False, "SECRET_KEY": "test"})
    httpd = make_server("127.0.0.1", 0, web, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", httpd.server_port, tokens
    finally:
        httpd.shutdown()
        thread.join(timeout=30)


def post_at_once(
    server: tuple[str, int, dict[str, str]], command: dict[str, Any], user: str
) -> list[tuple[int, Any]]:
    """POST the same command as `user` from CLIENTS threads released together; (status, body) each."""
    host, port, tokens = server
    token = tokens[user]
    body = json.dumps(command, ensure_ascii=False).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    start = threading.Barrier(CLIENTS)
    answers: list[tuple[int, Any]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=120)
        try:
            connection.connect()  # connected before the barrier, so the posts really overlap
            start.wait()
            connection.request("POST", "/api/v1/commands", body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            try:
                data: Any = json.loads(raw)
            except ValueError:
                data = raw.decode(errors="replace")
            with lock:
                answers.append((response.status, data))
        except BaseException as exc:  # a crash in a client must fail the test
            failures.append(exc)
            start.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    assert not failures, failures
    return answers


def outcome(answer: tuple[int, Any]) -> str:
    """`recorded` / `duplicate` for a 200, else `HTTP <status> <code>`."""
    status, data = answer
    if status == 200 and isinstance(data, dict) and len(data.get("results", ())) == 1:
        return str(data["results"][0]["status"])
    code = data.get("code") if isinstance(data, dict) else str(data)[:80]
    return f"HTTP {status} {code}"


@pytest.mark.slow
def test_identical_commands_from_16_clients_are_recorded_once(
    app: SupportLedger, server: tuple[str, int, dict[str, str]], conflicts: ConflictCounter, backend: str
) -> None:
    (result,) = app.execute_many([(f.budget(amount_fen=50_000_000_000), "olga")])
    assert not isinstance(result, Exception), result
    tally: Counter[str] = Counter()
    for round_no in range(ROUNDS):
        uscc = f.synthetic_uscc(round_no)
        award_ref, payment_ref = f"A-{round_no}", f"D-{round_no}"
        for command, user in (
            (f.enterprise(uscc), "olga"),
            (f.award(award_ref, uscc=uscc, amount_fen=10_000_000), "olga"),
            (f.disbursement(payment_ref, award_reference=award_ref, amount_fen=1_000_000), "olga"),
            (f.approve(payment_ref), "both"),  # not the officer who recorded it
        ):
            outcomes = Counter(outcome(a) for a in post_at_once(server, command, user))
            tally.update({f"{command['type']} {k}": n for k, n in outcomes.items()})
            assert outcomes == {"recorded": 1, "duplicate": CLIENTS - 1}, (round_no, command, outcomes)
    print(f"\n{backend}: {ROUNDS} rounds x 4 commands x {CLIENTS} clients; "
          f"{dict(sorted(tally.items()))}; conflicts retried: {conflicts.conflicts} "
          f"({conflicts.overtaken} of them refusals or assertions overtaken by the recording)")  # fmt: skip
    # Each command was stored once: per round one award of 10万, one approved payment of 1万.
    for round_no in range(ROUNDS):
        state = award_state(app, f"A-{round_no}")
        assert state is not None
        assert (state["granted_fen"], state["paid_fen"], state["pending_fen"]) == (10_000_000, 1_000_000, 0)
    assert budget_state(app, "M10", f.YEAR)["committed_fen"] == ROUNDS * 10_000_000
    # The clients really raced: some of their writes met another's and were retried.
    assert conflicts.conflicts > 0


# -- the same race, made deterministic: another writer records the command between the reads --


@pytest.mark.parametrize(
    ("command", "actor"),
    [
        (f.disbursement("D-9", amount_fen=1_000_000), "olga"),  # today: AssertionError → 500
        (f.approve("D-1"), "ada"),  # today: invalid_state (D-1 is approved, not pending)
        (f.award("A-9", amount_fen=1_000_000), "olga"),
    ],
    ids=lambda v: v["type"] if isinstance(v, dict) else v,
)
def test_a_command_recorded_by_another_writer_between_the_reads_is_a_duplicate(
    app: SupportLedger, database_url: str, monkeypatch: pytest.MonkeyPatch,
    command: dict[str, Any], actor: str,
) -> None:  # fmt: skip
    from ledger import handlers
    from ledger.commands import COMMANDS
    from ledger.storage import open_ledger

    for setup in (f.enterprise(), f.budget(), f.award(), f.disbursement(amount_fen=1_000_000)):
        assert not isinstance(app.execute_many([(setup, "olga")])[0], Exception)
    other = open_ledger(database_url)  # another process's writer
    command_class = COMMANDS[command["type"]]
    handler = handlers.HANDLERS[command_class]
    interleaved: list[Any] = []

    def handler_overtaken_once(uow: Any, cmd: Any, by: str) -> None:
        # Here `app` has found no receipt; the other writer now records the same command.
        if uow.app is app and not interleaved:
            interleaved.append(other.execute(command, actor))
        handler(uow, cmd, by)

    monkeypatch.setitem(handlers.HANDLERS, command_class, handler_overtaken_once)
    try:
        result = app.execute(command, actor)
    finally:
        other.close()
    assert [o.status for o in interleaved] == ["recorded"]
    assert result.status == "duplicate"
