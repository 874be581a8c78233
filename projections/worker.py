"""`ledger worker`: an APScheduler process that follows the log and hosts scheduled jobs.

The projection follower is itself a job (restarted by its interval trigger if it ever fails).
Other packages add their jobs through a provider function `add_jobs(scheduler, app)` in a
module listed in `JOB_PROVIDERS`; a provider that is not installed is skipped. Every job is
added with `max_instances=1` and `coalesce=True` and the scheduler's timezone is
Asia/Shanghai. SIGTERM and SIGINT stop the follower between batches and shut the scheduler
down, waiting for running jobs.

While it runs, the worker holds the store's "worker" lock (projections/locks.py), which tells
`ledger serve` that the views are followed and it need not follow them itself. The operating
system or the database releases the lock when the worker ends, however it ends.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from projections.locks import StoreLock
from projections.runner import DEFAULT_BATCH_SIZE, Runner

if TYPE_CHECKING:
    from ledger.application import SupportLedger

log = logging.getLogger(__name__)

TIMEZONE = ZoneInfo("Asia/Shanghai")
#: Modules that may provide `add_jobs(scheduler, app)`; optional.
JOB_PROVIDERS = ("audit.jobs",)
JOB_DEFAULTS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}


def build_scheduler(
    app: SupportLedger,
    stop: threading.Event,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    poll_interval_s: float = 0.2,
    providers: tuple[str, ...] = JOB_PROVIDERS,
    say: Callable[[str], None] = log.info,
) -> Any:
    """A BlockingScheduler with the follower job and every provider's jobs."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(
        timezone=TIMEZONE,
        job_defaults=JOB_DEFAULTS,
        executors={"default": ThreadPoolExecutor(max_workers=4)},
    )

    def follow() -> None:
        runner = Runner(app, batch_size=batch_size)
        say(f"following the log from position {runner.views.position()}")
        runner.follow(stop, poll_interval_s=poll_interval_s)

    scheduler.add_job(
        follow,
        "interval",
        seconds=5,
        id="projections.follow",
        name="keep the views current",
        next_run_time=datetime.now(TIMEZONE),
        max_instances=1,
        coalesce=True,
    )
    for module_name in providers:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                say(f"no job provider {module_name}")
                continue
            raise
        add_jobs = getattr(module, "add_jobs", None)
        if add_jobs is None:
            say(f"{module_name} has no add_jobs(scheduler, app)")
            continue
        add_jobs(scheduler, app)
        say(f"added jobs from {module_name}")
    for job in scheduler.get_jobs():
        # Every job keeps the limits, whatever its provider passed.
        job.modify(max_instances=1, coalesce=True)
    return scheduler


def worker_lock(store: Any) -> StoreLock:
    """The lock every running `ledger worker` of this store holds (shared)."""
    return StoreLock(store, "worker")


def worker_follows(store: Any) -> bool:
    """Whether a `ledger worker` is running on this store (and so keeps its views current)."""
    lock = worker_lock(store)
    try:
        return lock.held_elsewhere()
    finally:
        lock.close()


def run_worker(app: SupportLedger, *, batch_size: int = DEFAULT_BATCH_SIZE, say: Callable[[str], None]) -> None:
    """Run the worker until SIGTERM or SIGINT."""
    stop = threading.Event()
    scheduler = build_scheduler(app, stop, batch_size=batch_size, say=say)

    def on_signal(signum: int, _frame: Any) -> None:
        say(f"received {signal.Signals(signum).name}; stopping")
        stop.set()
        scheduler.shutdown(wait=True)  # waits for running jobs: a batch in progress commits

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    lock = worker_lock(app.store)
    lock.acquire_shared()  # `ledger serve` leaves the views to this worker while it holds it
    try:
        say(f"worker started on {app.store.backend}; jobs: "
            + ", ".join(job.id for job in scheduler.get_jobs()))  # fmt: skip
        scheduler.start()  # returns after shutdown
    finally:
        lock.release()
    say("worker stopped")
