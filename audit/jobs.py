"""The audit's scheduled jobs, added to ``ledger worker``'s APScheduler by :func:`add_jobs`.

* ``audit-sign`` (every 60 s by default, ``LEDGER_AUDIT_SIGN_INTERVAL_S``): sign a tree head,
  only when the log has grown since the latest genuine head, so that heads are at most a minute
  apart while the log grows and none is signed while it does not (:func:`sign_if_grown`, which
  ``ledger serve``'s embedded follower may call as well: it costs one read transaction when
  nothing grew), then submit the newest checkpoint to the witnesses that have not cosigned it
  (:func:`audit.witness_client.submit_pending`: every interval retries a witness that was down);
  when it signed, it also stores the replay snapshots that are due (:func:`take_replay_snapshots`);
* ``audit-verify`` (nightly at ``LEDGER_AUDIT_VERIFY_HOUR``, default 02:00 in the scheduler's
  timezone): run the full verification and store its outcome for the web view
  (:func:`audit.verify.last_verification`).

Each job runs one instance at a time and coalesces missed runs. A job that fails logs the
reason and leaves the next run to try again; a missing signing key is reported, not fatal.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.application import SupportLedger

log = logging.getLogger(__name__)

DEFAULT_SIGN_INTERVAL_S = 60
DEFAULT_VERIFY_HOUR = 2


def sign_if_grown(app: SupportLedger) -> dict[str, Any] | None:
    """Sign a tree head if the log grew since the latest genuine one (the every-minute job).

    Cheap when nothing grew (one read transaction, no write lock); a missing key is logged.
    """
    from audit.heads import sign_tree_head
    from audit.keys import SigningKeyError

    try:
        head = sign_tree_head(app, only_if_grown=True)
    except SigningKeyError as exc:
        log.error("audit-sign: %s", exc)
        return None
    if head is not None:
        log.info("audit-sign: tree head #%s of size %s", head["id"], head["tree_size"])
        take_replay_snapshots(app)
    submit_to_witnesses(app)
    return head


def take_replay_snapshots(app: SupportLedger) -> None:
    """Store the replay snapshots that are due (every ``LEDGER_REPLAY_SNAPSHOT_EVERY`` leaves;
    :mod:`audit.replay_snapshots`); a failure is logged and the next growth tries again."""
    from audit.replay_snapshots import take_snapshots

    try:
        for snapshot in take_snapshots(app):
            log.info("audit-sign: replay snapshot at size %s", snapshot.tree_size)
    except Exception:
        log.exception("audit-sign: storing a replay snapshot failed; trying again next time")


def submit_to_witnesses(app: SupportLedger) -> None:
    """Submit the newest checkpoint to the witnesses that lack it (bounded timeouts; a witness
    down is logged and tried again at the next interval, never an error of the job)."""
    from audit.witness_client import submit_pending

    try:
        submit_pending(app)
    except Exception:
        log.exception("audit-sign: submitting to the witnesses failed; trying again next time")


def verify_and_record(app: SupportLedger) -> int:
    """Verify the whole log and store the outcome (the nightly job); returns the exit code.

    It indexes nothing first: an event without a leaf is itself a finding (the recorder indexes
    every event in the transaction that records it).
    """
    from audit.heads import utc_timestamp
    from audit.verify import OPERATIONAL_ERROR, VerificationError, record, record_error, verify

    started_at = utc_timestamp()
    try:
        report = verify(app)
    except (VerificationError, OSError) as exc:
        log.error("audit-verify could not verify: %s", exc)
        record_error(app, started_at, exc)
        return OPERATIONAL_ERROR
    record(app, report)
    (log.info if report.intact else log.error)("audit-verify: %s", report.summary())
    return report.exit_code


def sign_interval_s() -> int:
    """``LEDGER_AUDIT_SIGN_INTERVAL_S`` (a whole number of seconds, at least 1), else 60."""
    text = os.environ.get("LEDGER_AUDIT_SIGN_INTERVAL_S", "").strip()
    if not text:
        return DEFAULT_SIGN_INTERVAL_S
    if not text.isdigit() or int(text) < 1:
        log.error(
            "LEDGER_AUDIT_SIGN_INTERVAL_S=%r is not a whole number of seconds >= 1; using %s",
            text, DEFAULT_SIGN_INTERVAL_S,
        )
        return DEFAULT_SIGN_INTERVAL_S
    return int(text)


def add_jobs(scheduler: Any, app: SupportLedger) -> None:
    """Add the audit's jobs to a scheduler (each with max_instances=1, coalesce=True)."""
    interval_s = sign_interval_s()
    verify_hour = int(os.environ.get("LEDGER_AUDIT_VERIFY_HOUR", DEFAULT_VERIFY_HOUR))
    scheduler.add_job(
        sign_if_grown, "interval", seconds=interval_s, args=[app], id="audit-sign",
        name="sign a tree head when the log has grown", max_instances=1, coalesce=True,
        replace_existing=True,
    )  # fmt: skip
    scheduler.add_job(
        verify_and_record, "cron", hour=verify_hour, minute=0, args=[app], id="audit-verify",
        name="verify the Merkle log and the tree heads", max_instances=1, coalesce=True,
        replace_existing=True,
    )  # fmt: skip
