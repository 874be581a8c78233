"""Group commit (ledger/group_commit.py): requests waiting while a transaction is in flight are
performed together in the next one, each checked against the state the ones before it leave,
each answered with its own outcome; one request cannot fail the others. Both stores.

The batches are made deterministic by holding the committer inside its first transaction (a
gate around `execute_many`) until the other requests are queued; then they must go through as
one batch, in arrival order.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import factories as f
import pytest
from werkzeug.serving import make_server

from ledger import handlers
from ledger.application import SupportLedger
from ledger.commands import COMMANDS
from ledger.current_state import budget_state
from ledger.domain import Enterprise
from ledger.group_commit import GroupCommitter
from web import create_app

Results = list[Any]


class Gated:
    """`app.execute_many`, held at its first call until `release()`; records every batch."""

    def __init__(self, app: SupportLedger, monkeypatch: pytest.MonkeyPatch) -> None:
        self.inner = app.execute_many
        self.batches: list[list[Any]] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        monkeypatch.setattr(app, "execute_many", self)

    def __call__(self, items: list[Any], **kw: Any) -> Results:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.entered.set()
            assert self.gate.wait(60), "the gate was never opened"
        return self.inner(items, **kw)

    def release(self) -> None:
        self.gate.set()


def queue_behind_first(committer: GroupCommitter, gated: Gated, first: list[Any],
                       rest: list[list[Any]]) -> tuple[Any, list[Any]]:  # fmt: skip
    """Send `first`, wait until the committer holds it, queue every request of `rest` (in that
    order) behind it, then let it go; (first's answer, the others' answers in order)."""
    answers: dict[int, Any] = {}

    def send(index: int, items: list[Any]) -> None:
        try:
            answers[index] = committer.execute_many(items)
        except BaseException as exc:
            answers[index] = exc

    threads = [threading.Thread(target=send, args=(-1, first))]
    threads[0].start()
    assert gated.entered.wait(30)
    for index, items in enumerate(rest):
        thread = threading.Thread(target=send, args=(index, items))
        thread.start()
        threads.append(thread)
        _wait_for(lambda n=index + 1: len(committer._waiting) == n)  # arrival order is fixed
    gated.release()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads)
    return answers[-1], [answers[i] for i in range(len(rest))]


def _wait_for(condition: Callable[[], bool]) -> None:
    import time

    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "not within 30 s"
        time.sleep(0.005)


@pytest.fixture
def committer(app: SupportLedger) -> GroupCommitter:
    return GroupCommitter(app, committers=1)


def test_requests_waiting_during_a_transaction_go_together_into_the_next(
    app: SupportLedger, committer: GroupCommitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    gated = Gated(app, monkeypatch)
    rest = [[(f.enterprise(f.synthetic_uscc(n)), "olga")] for n in range(1, 6)]
    first, answers = queue_behind_first(committer, gated, [(f.enterprise(f.synthetic_uscc(0)), "olga")], rest)
    assert [len(batch) for batch in gated.batches] == [1, 5]  # one transaction for the five
    assert first[0].status == "recorded"
    for n, answer in enumerate(answers, start=1):  # each its own outcome, in its own order
        assert [(r.key, r.status) for r in answer] == [(f.synthetic_uscc(n), "recorded")]
    positions = [answer[0].position for answer in answers]
    assert positions == sorted(positions) and len(set(positions)) == 5
    assert (committer.batches, committer.commands) == (2, 6)


def test_each_is_checked_against_the_state_the_ones_before_it_leave(
    app: SupportLedger, committer: GroupCommitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A budget with room for two awards of 30万; five requests for one each, and the same
    # enterprise registered twice: in one batch, exactly what one-by-one sending would give.
    for setup in (f.enterprise(), f.budget(amount_fen=60_000_000)):
        assert app.execute(setup, "olga").status == "recorded"
    gated = Gated(app, monkeypatch)
    rest = [[(f.award(f"A-{n}", amount_fen=30_000_000), "olga")] for n in range(5)]
    rest.append([(f.enterprise(), "oscar")])
    rest.append([(f.enterprise(name="另一个名称有限公司"), "oscar")])
    _first, answers = queue_behind_first(committer, gated, [(f.enterprise(f.USCC_B), "olga")], rest)
    assert len(gated.batches[1]) == 7
    outcomes = [getattr(a[0], "status", None) or a[0].code for a in answers]
    assert outcomes == ["recorded", "recorded", "budget_exceeded", "budget_exceeded",
                        "budget_exceeded", "duplicate", "reference_conflict"]  # fmt: skip
    assert budget_state(app, "M10", f.YEAR)["committed_fen"] == 60_000_000


def test_a_request_that_breaks_the_batch_fails_alone(
    app: SupportLedger, committer: GroupCommitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    command_class = COMMANDS["register_enterprise"]
    handler = handlers.HANDLERS[command_class]

    def broken_for_one(uow: Any, cmd: Any, actor: str) -> None:
        if cmd.key == f.synthetic_uscc(13):
            raise RuntimeError("a bug met by one command")
        handler(uow, cmd, actor)

    monkeypatch.setitem(handlers.HANDLERS, command_class, broken_for_one)
    gated = Gated(app, monkeypatch)
    rest = [[(f.enterprise(f.synthetic_uscc(n)), "olga")] for n in (11, 12, 13, 14)]
    first, answers = queue_behind_first(committer, gated, [(f.enterprise(f.synthetic_uscc(10)), "olga")], rest)
    assert first[0].status == "recorded"
    assert isinstance(answers[2], RuntimeError)  # the culprit gets the error...
    for index in (0, 1, 3):  # ...the others their own outcomes, recorded
        assert answers[index][0].status == "recorded", answers[index]
    # the batch of four was tried, then each request on its own
    assert [len(batch) for batch in gated.batches] == [1, 4, 1, 1, 1, 1]
    assert app.find(Enterprise, f.synthetic_uscc(13)) is None
    assert all(app.find(Enterprise, f.synthetic_uscc(n)) is not None for n in (10, 11, 12, 14))


# -- over HTTP: many clients at once, each hears its own answer ----------------------------------


@pytest.fixture
def served(app: SupportLedger) -> Iterator[tuple[int, str]]:
    web = create_app({"LEDGER_APP": app, "TESTING": False, "SECRET_KEY": "test"})
    httpd = make_server("127.0.0.1", 0, web, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_port, app.issue_token("olga", actor="admin")
    finally:
        httpd.shutdown()
        thread.join(timeout=30)


def test_concurrent_http_clients_each_get_their_own_outcome(app: SupportLedger, served: tuple[int, str]) -> None:
    port, token = served
    clients, per_client = 12, 4
    start = threading.Barrier(clients)
    answers: dict[str, tuple[int, Any]] = {}
    failures: list[BaseException] = []

    def client(c: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            start.wait()
            for k in range(per_client):
                uscc = f.synthetic_uscc(100 + c * per_client + k)
                command = f.enterprise(uscc) if k != 2 else [f.enterprise(uscc), {"type": "nope"}]
                connection.request("POST", "/api/v1/commands", body=json.dumps(command).encode(),
                                   headers={"Authorization": f"Bearer {token}",
                                            "Content-Type": "application/json"})  # fmt: skip
                response = connection.getresponse()
                answers[uscc] = (response.status, json.loads(response.read()))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert len(answers) == clients * per_client
    for uscc, (status, body) in answers.items():
        assert status == 200, body
        assert body["results"][0]["key"] == uscc and body["results"][0]["status"] == "recorded"
        if len(body["results"]) == 2:  # a list: its second command refused, on its own
            assert body["results"][1]["error"]["code"] == "validation_error"
            assert (body["recorded"], body["rejected"]) == (1, 1)
        assert body["log_position"] >= body["results"][0]["position"]
    positions = [body["results"][0]["position"] for _status, body in answers.values()]
    assert len(set(positions)) == len(positions)
