"""Process-wide performance switches, in one place, for the commands that own their process.

Each switch changes the whole interpreter (every thread), so it is applied only by a command
whose process does nothing else while it holds (`ledger project`, `ledger audit verify`) or at
the start of a process that serves (`ledger serve`'s worker processes), never from library code
nor from a job that shares a scheduler's thread pool (the worker's follow job, the embedded
follower, the scheduled verification run without them).

Measured on this project's two shared cores (load average about 6 while measuring, so
single runs vary by ±30 %; re-check on a quiet machine with the scripts' switches: ``--tuning
command|gc|none`` for scripts/bench_projections.py, ``--untuned`` for scripts/bench_audit.py):

- `cyclic_gc_paused` for `ledger audit verify` — ``scripts/bench_audit.py --events 20000``
  (SQLite, 34,827 events, two runs each): verification at 54-55 % of the raw read rate with
  the collector paused, 22-24 % without (74k and 266k events/s against 62k and 96k). Rows,
  ints and hashes hold no reference cycles; each full collection re-scans hundreds of
  thousands of new objects. Clearly justified.
- `bulk_command` (the paused collector and `short_switch_interval`) for `ledger project` —
  ``scripts/bench_projections.py --events 100000 --backend sqlite --keep URL``, rebuild rate
  as a share of the read-and-decode rate, three runs each: 55-56 % untuned, 56 % with both
  switches, 56-71 % with the collector paused only; at ``--events 20000``: 41-75 % untuned,
  36-67 % with both. No gain shows above the noise here; kept as before (behaviour unchanged)
  because the state in memory grows with the log (each full collection walks it all) and the
  switch interval matters only where a batch commits in a second thread while the next is
  prepared (the view recorders with `commit_in_background`, e.g. PostgreSQL), so a larger log
  on PostgreSQL is where to re-measure before dropping either.
- `old_objects_unscanned` for `ledger import` — ``scripts/bench_ingest.py`` (100,000
  commands, 285,500 events, PostgreSQL, ``--untuned``): 32.0 s with the switch beside 33.7 s
  without in one run (1.05×); timed with gc callbacks in one process that also holds the
  workload, 37 full collections took 6.1 s of a 34.9 s import, and with the switch 28.6 s.
  Every full collection walked the import's carried aggregates (the last 50,000 it saved)
  and found nothing to free, once the ledger's refusals stopped keeping their tracebacks
  (`LedgerError.as_result`); the young generations are still collected, so a file of many
  bad rows takes no more memory than before (30,000 lines, 8,633 refused: 106 MiB peak
  either way).
- `freeze_startup_objects` for `ledger serve`'s worker processes: what a worker makes at
  start (the Flask app, the catalogue, templates, pools) lives as long as the process; frozen,
  it is no longer scanned by full collections that fall in the middle of requests (those were
  most of the slowest requests in scripts/bench_web.py when it was added).
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator

#: The switch interval while a bulk command runs (Python's default is 0.005 s).
BULK_SWITCH_INTERVAL_S = 0.0005


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (reference counting still frees
    everything without cycles); it is enabled again after, if it was before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def old_objects_unscanned() -> Iterator[None]:
    """No full collections during the block: the young generations are still collected as
    usual (a reference cycle made and dropped within a batch is freed), but what lives longer
    (a bulk import's carried aggregates, hundreds of thousands of objects) is no longer
    re-scanned every few thousand commands. The thresholds come back after.

    For a block that makes no long-lived cyclic garbage: the ledger keeps none (a refusal kept
    as a result drops its traceback, `LedgerError.as_result`); what one makes anyway waits
    for the first full collection after the block.
    """
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, _NEVER)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, old)


#: A number of middle-generation collections no block reaches (gc.set_threshold takes a C int).
_NEVER = 2**31 - 1


@contextlib.contextmanager
def short_switch_interval(interval_s: float = BULK_SWITCH_INTERVAL_S) -> Iterator[None]:
    """Let threads take turns with the GIL at most every `interval_s` during the block (never
    longer than the interval already set); the previous interval comes back after."""
    previous_s = sys.getswitchinterval()
    sys.setswitchinterval(min(previous_s, interval_s))
    try:
        yield
    finally:
        sys.setswitchinterval(previous_s)


@contextlib.contextmanager
def bulk_command() -> Iterator[None]:
    """Both switches, for a command that reads and applies the whole log (a rebuild)."""
    with cyclic_gc_paused(), short_switch_interval():
        yield


def freeze_startup_objects() -> None:
    """Collect once, then move every object alive now to the collector's permanent generation:
    for a serving process, once it has made what it keeps for its lifetime."""
    gc.collect()
    gc.freeze()
