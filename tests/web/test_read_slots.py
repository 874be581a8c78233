"""Read slots (web.read_slots): at most N reads of a process at once, commands never held, and
a read that waits for the views lends its slot out meanwhile."""

from __future__ import annotations

import threading
import time
from typing import Any

import factories as f
import pytest
from flask import Flask

from ledger.waits import while_waiting
from web import create_app
from web.read_slots import ReadSlots

WAIT_S = 5.0


class Blocking:
    """A WSGI application whose requests stay inside until released; it counts how many are
    inside at once, and a request to /wait waits (lending its slot) until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        self.inside = 0
        self.most_inside = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        self.entered.release()
        try:
            if environ["PATH_INFO"] == "/wait":
                with while_waiting():
                    assert self.release.wait(2 * WAIT_S)
            else:
                assert self.release.wait(2 * WAIT_S)
        finally:
            with self._lock:
                self.inside -= 1
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]


def call(app: Any, method: str, path: str = "/") -> threading.Thread:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path}
    thread = threading.Thread(target=app, args=(environ, lambda status, headers: None))
    thread.start()
    return thread


def test_a_read_waits_while_the_slots_are_taken() -> None:
    inner = Blocking()
    app = ReadSlots(inner, slots=1)
    first = call(app, "GET")
    assert inner.entered.acquire(timeout=WAIT_S)
    second = call(app, "GET")
    assert not inner.entered.acquire(timeout=0.3)  # the one slot is held: the second waits
    assert inner.inside == 1
    inner.release.set()
    assert inner.entered.acquire(timeout=WAIT_S)  # the first done, the second runs
    for thread in (first, second):
        thread.join(WAIT_S)
    assert inner.most_inside == 1


def test_as_many_reads_as_slots_run_side_by_side() -> None:
    inner = Blocking()
    app = ReadSlots(inner, slots=2)
    threads = [call(app, "GET") for _ in range(3)]
    for _ in range(2):
        assert inner.entered.acquire(timeout=WAIT_S)
    assert not inner.entered.acquire(timeout=0.3)
    assert inner.inside == 2
    inner.release.set()
    for thread in threads:
        thread.join(WAIT_S)
    assert inner.most_inside == 2


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_commands_and_other_writes_are_never_held(method: str) -> None:
    inner = Blocking()
    app = ReadSlots(inner, slots=1)
    read = call(app, "GET")
    assert inner.entered.acquire(timeout=WAIT_S)
    write = call(app, method)
    assert inner.entered.acquire(timeout=WAIT_S)  # in beside the read holding the only slot
    assert inner.inside == 2
    inner.release.set()
    for thread in (read, write):
        thread.join(WAIT_S)


def test_a_waiting_read_lends_its_slot_and_takes_it_back() -> None:
    inner = Blocking()
    app = ReadSlots(inner, slots=1)
    waiting = call(app, "GET", "/wait")
    assert inner.entered.acquire(timeout=WAIT_S)
    other = call(app, "GET")
    assert inner.entered.acquire(timeout=WAIT_S)  # the slot was lent out
    inner.release.set()
    for thread in (waiting, other):
        thread.join(WAIT_S)
    assert not waiting.is_alive() and not other.is_alive()
    # both gave their slot back: a third read gets in at once
    inner.release.clear()
    third = call(app, "GET")
    assert inner.entered.acquire(timeout=WAIT_S)
    inner.release.set()
    third.join(WAIT_S)


def test_zero_slots_are_refused() -> None:
    with pytest.raises(ValueError):
        ReadSlots(Blocking(), slots=0)


def test_the_application_has_two_slots_by_default_and_none_with_zero(seeded: Any) -> None:
    default = create_app({"LEDGER_APP": seeded, "SECRET_KEY": "test"})
    assert isinstance(default.wsgi_app, ReadSlots) and default.wsgi_app.slots == 2
    unlimited = create_app({"LEDGER_APP": seeded, "SECRET_KEY": "test", "LEDGER_READS_AT_ONCE": 0})
    assert not isinstance(unlimited.wsgi_app, ReadSlots)


def test_the_setting_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, seeded: Any
) -> None:
    monkeypatch.setenv("LEDGER_READS_AT_ONCE", "3")
    app = create_app({"LEDGER_APP": seeded, "SECRET_KEY": "test"})
    assert isinstance(app.wsgi_app, ReadSlots) and app.wsgi_app.slots == 3
    monkeypatch.setenv("LEDGER_READS_AT_ONCE", "lots")  # not a number: the default
    app = create_app({"LEDGER_APP": seeded, "SECRET_KEY": "test"})
    assert isinstance(app.wsgi_app, ReadSlots) and app.wsgi_app.slots == 2


def test_a_read_waiting_for_the_views_does_not_stall_other_reads(seeded: Any, token: Any) -> None:
    """One slot; a read waits for a position the views have not reached (no worker runs);
    meanwhile another read is answered, long before the waiting one gives up with 503."""
    app: Flask = create_app({"LEDGER_APP": seeded, "SECRET_KEY": "test", "LEDGER_READS_AT_ONCE": 1,
                             "LEDGER_READ_TIMEOUT_S": 3.0})  # fmt: skip
    headers = token("olga")
    written = app.test_client().post("/api/v1/commands", json=f.award("A-9"), headers=headers)
    position = written.json["log_position"]
    answers: dict[str, tuple[int, float]] = {}

    def get(name: str, path: str) -> None:
        started = time.monotonic()
        response = app.test_client().get(path, headers=headers)
        answers[name] = (response.status_code, time.monotonic() - started)

    waiting = threading.Thread(
        target=get, args=("waiting", f"/api/v1/enterprises/{f.USCC_A}?min_position={position}")
    )
    waiting.start()
    time.sleep(0.3)  # the waiting read holds (and has lent) the only slot
    get("quick", f"/api/v1/enterprises/{f.USCC_A}")
    waiting.join(10)
    assert answers["quick"][0] == 200
    assert answers["waiting"][0] == 503  # views_behind, after its full wait
    assert answers["quick"][1] < 2.0 < answers["waiting"][1]


def test_slots_are_taken_in_the_order_asked_for_even_by_one_that_just_gave_its_own_back() -> None:
    """First come, first served: a freed slot goes to the longest waiter, not to a request that
    arrives at that moment, nor back to the read that freed it (web.read_slots.FairSlots)."""
    from web.read_slots import FairSlots

    slots = FairSlots(1)
    order: list[str] = []
    d_queued = threading.Event()

    def queued(count: int) -> None:
        deadline = time.monotonic() + WAIT_S
        while len(slots._waiting) < count:
            assert time.monotonic() < deadline, "a waiter never queued"
            time.sleep(0.001)

    def reader(name: str) -> None:
        slots.acquire()
        order.append(name)
        if name == "a":
            assert d_queued.wait(WAIT_S)  # d asks while a holds the slot, behind b and c
            slots.release()
            slots.acquire()  # a asks again at once: it goes behind d
            order.append("a again")
        slots.release()

    slots.acquire()  # the slot is taken: everyone below waits
    threads = []
    for count, name in enumerate("abc", start=1):
        threads.append(threading.Thread(target=reader, args=(name,), daemon=True))
        threads[-1].start()
        queued(count)
    slots.release()  # to a
    queued(2)  # b and c still wait; a holds the slot
    threads.append(threading.Thread(target=reader, args=("d",), daemon=True))
    threads[-1].start()
    queued(3)
    d_queued.set()
    for thread in threads:
        thread.join(WAIT_S)
    assert order == ["a", "b", "c", "d", "a again"]
    slots.acquire()  # every slot came back
    slots.release()
