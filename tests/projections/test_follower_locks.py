"""Who follows the log: the store's advisory locks (both stores), and two followers of one
store at once, which the hand-over between `ledger serve` and `ledger worker` relies on."""

from __future__ import annotations

import threading
from pathlib import Path

import factories as f
from projection_helpers import bulk_commands, fresh_ledger, snapshot
from servers import wait_until

from ledger.application import SupportLedger
from ledger.storage import open_ledger
from projections.locks import StoreLock
from projections.recorder import PositionMoved
from projections.runner import Runner
from projections.worker import worker_follows, worker_lock


def test_workers_share_their_lock_and_others_see_it_held_until_it_is_released(
    app: SupportLedger,
) -> None:
    first, second, observer = (worker_lock(app.store) for _ in range(3))
    try:
        assert not observer.held_elsewhere()
        assert not worker_follows(app.store)
        first.acquire_shared()
        assert second.try_acquire(shared=True)  # several workers may run
        assert observer.held_elsewhere() and worker_follows(app.store)
        first.release()
        assert observer.held_elsewhere()  # the second worker still runs
        second.release()
        assert not observer.held_elsewhere() and not worker_follows(app.store)
    finally:
        for lock in (first, second, observer):
            lock.close()


def test_one_process_at_a_time_wins_the_serve_follower_lock(app: SupportLedger) -> None:
    one, other = StoreLock(app.store, "serve-follower"), StoreLock(app.store, "serve-follower")
    try:
        assert one.try_acquire()
        assert not other.try_acquire()
        assert one.check()
        one.release()
        assert other.try_acquire()
    finally:
        one.close()
        other.close()


def test_locks_of_one_store_do_not_hold_another(database_url: str, tmp_path: Path) -> None:
    with fresh_ledger("sqlite" if database_url.startswith("sqlite") else "postgres",
                      tmp_path) as other_store:  # fmt: skip
        here = open_ledger(database_url)
        lock = worker_lock(here.store)
        try:
            lock.acquire_shared()
            assert not worker_follows(other_store.store)
        finally:
            lock.release()
            here.close()


def test_two_followers_of_one_store_at_once_apply_every_event_exactly_once(
    app: SupportLedger,
) -> None:
    app.execute_many([(f.budget(), "olga")])
    Runner(app).catch_up()  # the view tables exist (as `ledger init` leaves them)
    stop = threading.Event()
    failures: list[BaseException] = []

    restarts: list[PositionMoved] = []

    def follow() -> None:
        # As the real followers do: a runner that keeps finding the views moved under it
        # gives up, and is started again (the worker's interval trigger, serve's retry).
        try:
            while not stop.is_set():
                try:
                    Runner(app, batch_size=7).follow(stop, poll_interval_s=0.01)
                except PositionMoved as exc:
                    restarts.append(exc)
        except BaseException as exc:
            failures.append(exc)

    followers = [threading.Thread(target=follow) for _ in range(2)]
    for thread in followers:
        thread.start()
    try:
        commands = bulk_commands(60)
        for start in range(0, len(commands), 25):  # the log grows while both follow
            results = app.execute_many(commands[start : start + 25])
            assert not any(isinstance(r, Exception) for r in results)
        end = app.recorder.max_notification_id()
        views = Runner(app).views
        wait_until(lambda: views.position() >= end, "the followers reach the end of the log")
    finally:
        stop.set()
        for thread in followers:
            thread.join(30)
    assert not failures, failures
    followed = snapshot(app)
    assert followed["position"] == [{"position": end}]
    assert [row["position"] for row in followed["pv_trail"]] == [
        n.id for n in app.recorder.select_notifications(start=None, limit=end + 1)
    ]  # every event once in the trail, none twice
    Runner(app).rebuild()
    assert snapshot(app) == followed
