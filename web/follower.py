"""The views kept current by `ledger serve` itself, while no `ledger worker` follows the store.

Every process of a server runs an `EmbeddedFollower`; only the one holding the store's
"serve-follower" lock (projections/locks.py) follows the log, so one process per store
follows however many processes and servers there are. When that process ends, however it
ends, the lock is free and another takes over within `check_interval_s`. While a `ledger
worker` runs (it holds the store's "worker" lock) no server follows: the worker does, with
its scheduled jobs. The hand-over is safe in both directions: two followers of one store
never apply an event twice (a batch commits its rows and its position together, after
checking the position; see projections/recorder.py).

While it follows, the follower also signs a tree head every `sign_interval_s` (60 s unless
LEDGER_AUDIT_SIGN_INTERVAL_S says otherwise) if the log grew, when a signing key is
available (LEDGER_SIGNING_KEY, default var/audit-signing-key.pem).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from projections.locks import StoreLock
from projections.recorder import PositionMoved, open_views
from projections.runner import Runner
from projections.worker import worker_lock

if TYPE_CHECKING:
    from ledger.application import SupportLedger

log = logging.getLogger(__name__)

#: How often the follower looks for new events on SQLite (PostgreSQL notifies it at once).
POLL_INTERVAL_S = 0.2
#: How often a process looks for a running worker and tries to become the follower.
CHECK_INTERVAL_S = 2.0
#: The wait before following again after a failure (the store was unreachable, say).
RETRY_AFTER_FAILURE_S = 5.0
#: The longest wait, when the server stops, for a batch being committed.
STOP_TIMEOUT_S = 10.0
SIGN_INTERVAL_VARIABLE = "LEDGER_AUDIT_SIGN_INTERVAL_S"
DEFAULT_SIGN_INTERVAL_S = 60.0


def sign_interval_s() -> float:
    """Seconds between tree heads while the log grows (LEDGER_AUDIT_SIGN_INTERVAL_S, else 60)."""
    value = os.environ.get(SIGN_INTERVAL_VARIABLE, "").strip()
    return max(1.0, float(value)) if value else DEFAULT_SIGN_INTERVAL_S


class EmbeddedFollower:
    """Keeps the views of `app`'s store current from a thread of this process, when elected."""

    def __init__(
        self,
        app: SupportLedger,
        *,
        poll_interval_s: float = POLL_INTERVAL_S,
        check_interval_s: float = CHECK_INTERVAL_S,
        sign_every_s: float | None = None,
    ) -> None:
        self.app = app
        self.poll_interval_s = poll_interval_s
        self.check_interval_s = check_interval_s
        self.sign_every_s = sign_interval_s() if sign_every_s is None else sign_every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._said: str | None = None
        self._told_no_key = False

    def start(self) -> None:
        assert self._thread is None, "started twice"
        self._thread = threading.Thread(target=self._run, name="ledger-serve-follower",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop following (a batch being committed commits first); safe to call twice."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    # -- the loop -----------------------------------------------------------------------------

    def _say(self, state: str, text: str) -> None:
        """Log `text` when the follower's state changes (not on every check)."""
        if state != self._said:
            self._said = state
            log.info("%s", text)

    def _run(self) -> None:
        store = self.app.store
        election = StoreLock(store, "serve-follower")
        worker = worker_lock(store)
        try:
            while not self._stop.is_set():
                try:
                    if worker.held_elsewhere():
                        self._say("worker", "a `ledger worker` follows this store: this server "
                                            "leaves the views to it")  # fmt: skip
                    elif election.try_acquire():
                        self._follow(election, worker)
                        continue  # look again at once: a worker started, or the server stops
                    else:
                        self._say("other", "another process follows the log for this store")
                except PositionMoved as exc:  # another follower moves the views too (a worker
                    log.info("%s; following again", exc)  # starting): harmless, start afresh
                    self._said = None
                    election.release()
                except Exception:
                    log.exception("following the log failed; trying again in %g s",
                                  RETRY_AFTER_FAILURE_S)  # fmt: skip
                    self._said = None
                    election.release()
                    worker.close()
                    self._stop.wait(RETRY_AFTER_FAILURE_S)
                    continue
                self._stop.wait(self.check_interval_s)
        finally:
            election.release()
            worker.close()

    def _follow(self, election: StoreLock, worker: StoreLock) -> None:
        """Follow the log (projections' runner, in a thread) until the server stops, a worker
        starts, the election lock is lost or the runner fails; sign tree heads meanwhile."""
        runner = Runner(self.app)
        self._say("follow", f"following the log from position {open_views(self.app).position()}"
                            " (no `ledger worker` runs on this store)")  # fmt: skip
        runner_stop = threading.Event()
        failed: list[BaseException] = []

        def follow() -> None:
            try:
                runner.follow(runner_stop, poll_interval_s=self.poll_interval_s)
            except BaseException as exc:  # handed to the loop, which tries again
                failed.append(exc)

        thread = threading.Thread(target=follow, name="ledger-serve-follow", daemon=True)
        thread.start()
        next_sign_at = time.monotonic() + self.sign_every_s
        try:
            while thread.is_alive() and not self._stop.wait(self.check_interval_s):
                if not election.check() or worker.held_elsewhere():
                    break  # a worker follows now (or another process holds the lock)
                if time.monotonic() >= next_sign_at:
                    self._sign()
                    next_sign_at = time.monotonic() + self.sign_every_s
        finally:
            runner_stop.set()
            thread.join(STOP_TIMEOUT_S)
            election.release()
        if failed:
            raise failed[0]

    def _sign(self) -> None:
        from audit.jobs import sign_if_grown
        from audit.keys import key_path

        path = key_path()
        if not path.is_file():
            if not self._told_no_key:
                self._told_no_key = True
                log.info("no signing key at %s: this server signs no tree heads "
                         "(`ledger audit keygen` makes one)", path)  # fmt: skip
            return
        try:
            sign_if_grown(self.app)
        except Exception:
            log.exception("signing a tree head failed; trying again in %g s", self.sign_every_s)
