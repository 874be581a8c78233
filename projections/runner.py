"""Keeping the views current: catch-up in batches, rebuild, and live following.

A batch reads up to `batch_size` events after the views' position, applies them to the state
in memory, and commits the changed rows, the trail rows and the new position in one
transaction. Killing the process at any moment therefore leaves the views at the end of the
last committed batch, and the next run continues from there: nothing is applied twice and
nothing is skipped. Notification-id gaps (PostgreSQL) need no care: the next batch simply
starts after the last id seen.

Live following uses the library's subscription on PostgreSQL (LISTEN/NOTIFY) and polling on
SQLite, and commits whatever has arrived as one batch.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.schema import OwnerRequired
from ledger.waits import while_waiting
from projections.prefetch import prefetch
from projections.recorder import PositionMoved, ViewsOutOfDate, ViewsRecorderMixin, open_views
from projections.row_cache import capacity_from_environment
from projections.state import ViewState

if TYPE_CHECKING:
    from ledger.application import SupportLedger

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 2_000
#: How often a runner starts again after finding that another one moved the views.
MAX_RESTARTS = 20
#: Longest wait for new events before the follower looks at its stop flag again.
IDLE_WAIT_S = 0.25

Progress = Callable[[int, int], None]  # (position reached, last position in the log)


@dataclass(frozen=True)
class Batch:
    """What one transaction writes: changed state rows, trail rows and the new position."""

    expected_position: int
    new_position: int
    changed: dict[Any, list[tuple[Any, ...]]]
    trail: list[tuple[Any, ...]]

    def commit(self, views: ViewsRecorderMixin) -> None:
        views.commit_batch(self.expected_position, self.new_position, self.changed, self.trail)


class Runner:
    """Applies the event log to the views, exactly once, many events per transaction."""

    def __init__(
        self,
        app: SupportLedger,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Progress | None = None,
        cache_rows: int | None = None,
    ) -> None:
        assert 1 <= batch_size <= 100_000, batch_size
        self.app = app
        self.views: ViewsRecorderMixin = open_views(app)
        self.batch_size = batch_size
        self.progress = progress
        self.state: ViewState | None = None
        self.position = 0
        #: State rows held per view table (`projections.row_cache`).
        self.cache_rows = capacity_from_environment() if cache_rows is None else cache_rows

    # -- one batch ----------------------------------------------------------------------------

    def _load(self) -> ViewState:
        if self.state is None:
            try:
                self.position, _ = self.views.load(rows=False)
            except ViewsOutOfDate as exc:
                self._rebuild_tables(exc)
                self.position, _ = self.views.load(rows=False)
            self.state = ViewState(
                source=self.views, capacity=self.cache_rows, empty=self.position == 0
            )
        return self.state

    def _rebuild_tables(self, out_of_date: ViewsOutOfDate) -> None:
        """Views made by an older version of this code (a column added since): recreate their
        tables empty at position 0, so this catch-up rebuilds them from the log. Where this
        user may not create tables (PostgreSQL's application role) that is said plainly."""
        log.warning("%s: recreating the views and applying the log again", out_of_date)
        try:
            self.views.reset()
            self.views.create_indexes()
        except Exception as error:
            raise OwnerRequired(
                "views_out_of_date",
                f"{out_of_date}, and this database user may not recreate them ({error}): run "
                "`ledger project --rebuild` as the owner, then scripts/create_app_role.sql again",
                "视图表由旧版本创建，当前数据库用户无权重建：请以所有者身份运行 "
                "`ledger project --rebuild`，然后重新运行 scripts/create_app_role.sql",
            ) from error

    def _prepare(self, notifications: Sequence[Any]) -> Batch | None:
        """Apply notifications that follow the position to the state in memory and return
        what to commit; the position moves on optimistically (a failed commit must set
        `self.state` to None, which makes the next load read the position again)."""
        state = self._load()
        if notifications and notifications[0].id <= self.position:
            notifications = [n for n in notifications if n.id > self.position]
        if not notifications:
            return None
        to_domain_event = self.app.mapper.to_domain_event
        try:
            state.cache.shrink()  # only rows of committed batches go
            events = [to_domain_event(n) for n in notifications]
            prefetch(state.cache, events)
            trail = [state.apply(e, n.id) for e, n in zip(events, notifications, strict=True)]
            batch = Batch(self.position, notifications[-1].id, state.take_changed(), trail)
        except BaseException:
            self.state = None  # the state in memory may be half-changed: load it again
            raise
        self.position = batch.new_position
        return batch

    def apply(self, notifications: Sequence[Any]) -> int:
        """Apply notifications that follow the views' position and commit them as one batch.

        Returns how many were applied (0 if another runner had moved the position: the
        state is then reloaded and the caller simply reads again).
        """
        batch = self._prepare(notifications)
        if batch is None:
            return 0
        try:
            batch.commit(self.views)
        except PositionMoved as exc:
            log.info("%s", exc)
            self.state = None
            return 0
        except BaseException:
            self.state = None
            raise
        self._committed()
        return len(batch.trail)

    def _committed(self) -> None:
        """The oldest batch prepared and not yet committed is committed now."""
        if self.state is not None:
            self.state.cache.committed()

    def _read(self) -> list[Any]:
        self._load()
        return self.app.recorder.select_notifications(
            start=self.position, limit=self.batch_size, inclusive_of_start=False
        )

    def step(self) -> int:
        """Read and apply the next batch; returns how many events it applied."""
        for _attempt in range(MAX_RESTARTS):
            notifications = self._read()
            if not notifications:
                return 0
            applied = self.apply(notifications)
            if applied or self.state is not None:
                return applied
            # someone else moved the position: carry on from theirs
        raise PositionMoved("the views keep moving under this runner; is another one running?")

    # -- catch-up and rebuild -----------------------------------------------------------------

    def catch_up(self, stop: threading.Event | None = None) -> int:
        """Apply every event recorded so far, batch by batch; returns how many were applied.

        A batch commits in a second thread while this one reads and prepares the next: the
        database does most of a commit's work without Python's GIL (the server on PostgreSQL;
        on SQLite the library's C code, given multi-row statements — with `executemany` the
        driver took the GIL again after every row, and a committing thread was slower).
        """
        if self.views.commit_in_background:
            return self._catch_up_committing_behind(stop)
        total = 0
        end = self.app.recorder.max_notification_id() or 0
        while stop is None or not stop.is_set():
            applied = self.step()
            if applied == 0:
                break
            total += applied
            if self.progress is not None:
                self.progress(self.position, max(end, self.position))
        return total

    def _catch_up_committing_behind(self, stop: threading.Event | None) -> int:
        """`catch_up` with each batch committed while the next one is prepared.

        Batches still commit one at a time and in order, each checking the position it
        expects; when one fails, the batch prepared after it is thrown away with the state.
        """
        total = 0
        end = self.app.recorder.max_notification_id() or 0
        restarts = 0
        with _BackgroundCommits(self.views) as commits:
            while True:
                batch = None
                if stop is None or not stop.is_set():
                    notifications = self._read()
                    batch = self._prepare(notifications) if notifications else None
                try:
                    done = commits.wait()
                except PositionMoved as exc:  # someone else moved the position: carry on
                    log.info("%s", exc)  # from theirs (the batch just made is thrown away)
                    self.state = None
                    restarts += 1
                    if restarts >= MAX_RESTARTS:
                        raise PositionMoved(
                            "the views keep moving under this runner; is another one running?"
                        ) from exc
                    continue
                except BaseException:
                    self.state = None
                    raise
                if done is not None:
                    self._committed()
                    total += len(done.trail)
                    if self.progress is not None:
                        self.progress(done.new_position, max(end, done.new_position))
                if batch is None:
                    return total
                commits.submit(batch)

    def rebuild(self, stop: threading.Event | None = None) -> int:
        """Empty every view and apply the whole log again."""
        self.views.reset()
        self.state = None
        applied = self.catch_up(stop)
        self.views.create_indexes()
        return applied

    # -- following ----------------------------------------------------------------------------

    def follow(self, stop: threading.Event, poll_interval_s: float = 0.2) -> None:
        """Keep the views current until `stop` is set."""
        if self.app.store.backend == "postgresql":
            while not stop.is_set():
                self._follow_subscription(stop)
        else:
            while not stop.is_set():
                if self.catch_up(stop) == 0:
                    stop.wait(poll_interval_s)

    def _follow_subscription(self, stop: threading.Event) -> None:
        """Follow with LISTEN/NOTIFY until stopped, or until another runner moves the views."""
        self.catch_up(stop)
        arrived: queue.Queue[Any] = queue.Queue(maxsize=self.batch_size * 4)
        failed: list[BaseException] = []
        subscription = self.app.recorder.subscribe(gt=self.position)

        def listen() -> None:
            try:
                with subscription:
                    for notification in subscription:
                        while True:
                            try:
                                arrived.put(notification, timeout=IDLE_WAIT_S)
                                break
                            except queue.Full:
                                if stop.is_set():
                                    return
            except BaseException as exc:  # handed to the main loop
                failed.append(exc)

        listener = threading.Thread(target=listen, name="projections-listen", daemon=True)
        listener.start()
        try:
            while not stop.is_set() and not failed:
                try:
                    first = arrived.get(timeout=IDLE_WAIT_S)
                except queue.Empty:
                    continue
                batch = [first]
                while len(batch) < self.batch_size:
                    try:
                        batch.append(arrived.get_nowait())
                    except queue.Empty:
                        break
                expected = self.position
                self.apply(batch)
                if self.state is None or self.position < expected:
                    return  # the views moved under us: start again from their position
        finally:
            subscription.stop()
            listener.join(timeout=5)
        if failed:
            raise failed[0]


class _BackgroundCommits:
    """Commits batches in a second thread, one at a time, while the caller prepares the next.

    (`ledger project` shortens Python's switch interval meanwhile, so that the committing
    thread, back from the server, gets the GIL soon: see `ledger.tuning`.)
    """

    def __init__(self, views: ViewsRecorderMixin) -> None:
        self.views = views
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="projections-commit")
        self.in_flight: tuple[Future[None], Batch] | None = None

    def __enter__(self) -> _BackgroundCommits:
        return self

    def submit(self, batch: Batch) -> None:
        assert self.in_flight is None
        self.in_flight = (self.executor.submit(batch.commit, self.views), batch)

    def wait(self) -> Batch | None:
        """The batch that was in flight once it has committed (None if there was none); raises
        what its commit raised."""
        if self.in_flight is None:
            return None
        future, batch = self.in_flight
        self.in_flight = None
        future.result()
        return batch

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self.in_flight is not None:  # leaving on an error: let the commit finish
                with contextlib.suppress(BaseException):
                    self.in_flight[0].result()
                self.in_flight = None
        finally:
            self.executor.shutdown(wait=True)


def catch_up(app: SupportLedger, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Bring every view up to the end of the log; returns how many events were applied."""
    return Runner(app, batch_size=batch_size).catch_up()


def rebuild(app: SupportLedger, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Rebuild every view from the whole log; returns how many events were applied."""
    return Runner(app, batch_size=batch_size).rebuild()


def wait_for_position(app: SupportLedger, position: int, timeout_s: float) -> None:
    """Wait, polling, until the views have reached `position`; raise `ViewsBehind` after
    `timeout_s`."""
    views = open_views(app)
    deadline = time.monotonic() + timeout_s
    sleep_s = 0.01
    while True:
        reached = views.position()
        if reached >= position:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ViewsBehind(position, reached, timeout_s)
        with while_waiting():  # a web read lends its slot out meanwhile (ledger.waits)
            time.sleep(min(sleep_s, remaining))
        sleep_s = min(sleep_s * 2, 0.2)


class ViewsBehind(TimeoutError):
    """The views did not reach a requested position in time (is `ledger worker` running?)."""

    def __init__(self, wanted: int, reached: int, timeout_s: float) -> None:
        super().__init__(
            f"the views reached position {reached}, not {wanted}, within {timeout_s:g} s; "
            "is `ledger worker` running? (`ledger project` catches up once)"
        )
        self.wanted = wanted
        self.reached = reached
