"""A rebuild or a catch-up run from library code (as the worker's follow job and the web's
follower run it, in threads that share a pool) leaves the process-wide switches alone: only the
`ledger project` command applies them (ledger/tuning.py). Both stores."""

from __future__ import annotations

import gc
import sys

from factories import USCC_A, USCC_B, enterprise

from ledger.application import SupportLedger
from projections.runner import Runner


def test_a_rebuild_run_by_library_code_keeps_the_collector_and_the_switch_interval(
    app: SupportLedger,
) -> None:
    for uscc in (USCC_A, USCC_B):
        app.execute(enterprise(uscc), actor="olga")
    interval_s = sys.getswitchinterval()
    seen: list[tuple[bool, float]] = []

    def progress(_position: int, _end: int) -> None:
        seen.append((gc.isenabled(), sys.getswitchinterval()))

    runner = Runner(app, batch_size=2, progress=progress)
    assert runner.rebuild() > 0
    assert len(seen) > 1
    assert set(seen) == {(True, interval_s)}
