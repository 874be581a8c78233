"""Counting the concurrent-write conflicts the ledger retried, to prove a concurrency test raced.

The ledger logs one line per conflict it retries ("conflict on attempt N of a batch of M: …",
at DEBUG, on a logger under ``ledger``); :func:`counting_conflicts` counts those lines in this
process for the duration of a block. A race test that saw none proved nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

#: How the ledger's retry loop begins its log line for a conflict (RecordConflictError, or a
#: refused command that another writer recorded meanwhile).
CONFLICT_LINE = "conflict on attempt "


class ConflictCounter(logging.Handler):
    """Counts the conflict lines logged under ``ledger`` (from any thread of this process)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.conflicts = 0
        #: of which: refusals (or handler assertions) overtaken by another writer's recording
        self.overtaken = 0

    def emit(self, record: logging.LogRecord) -> None:  # called holding the handler's own lock
        message = record.getMessage()
        if message.startswith(CONFLICT_LINE):
            self.conflicts += 1
            self.overtaken += "recorded meanwhile" in message


@contextlib.contextmanager
def counting_conflicts() -> Iterator[ConflictCounter]:
    logger = logging.getLogger("ledger")
    counter = ConflictCounter()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
