"""Process-wide performance switches, in one place, for the commands that own their process.

Each switch changes the whole interpreter (every thread), so it is applied only by a command
whose process does nothing else while it holds (`ledger project`, `ledger audit verify`) or at
the start of a process that serves (`ledger serve`'s worker processes), never from library code
nor from a job that shares a scheduler's thread pool (the worker's follow job, the embedded
follower, the scheduled verification run without them).

Measurements (2 shared cores; figures in `docs/` are not needed to re-check: run the scripts
with and without ``--untuned``):

- `cyclic_gc_paused` — `scripts/bench_projections.py --events 20000 --backend sqlite`:
  rebuild {rebuild_tuned} events/s with it, {rebuild_untuned} events/s without;
  `scripts/bench_audit.py --events 20000` (SQLite): verify {verify_tuned} events/s with it,
  {verify_untuned} events/s without. A rebuild or a verification makes a few objects per event
  that hold no reference cycles (reference counting frees them), while the state in memory
  grows with the log; each full collection walks all of it again.
- `short_switch_interval` — the rebuild commits each batch in a second thread while the next
  is prepared; when that thread comes back from the database it waits for the GIL for up to
  the default 5 ms slice. Measured with the rebuild above: see `cyclic_gc_paused`'s figures
  (both switches on) beside {rebuild_gc_only} events/s with the collector paused only.
- `freeze_startup_objects` — `ledger serve` (gunicorn) worker processes: what is made at start
  (the Flask app, the catalogue, the templates, the store's pools) lives as long as the
  process; frozen, it is no longer scanned by collections that fall in the middle of requests
  (`scripts/bench_web.py`: those collections were most of the slowest requests).
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
