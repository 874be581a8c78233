"""The views survive being killed at any moment: nothing applied twice, nothing skipped.

A catch-up runs in a separate process that is killed with SIGKILL again and again while it
works through a few thousand events in small batches (each batch pauses inside its
transaction, after writing its rows and before moving the position, so kills often land
there). After each kill the views must sit exactly at a batch boundary; when a run finally
finishes, the views must equal a rebuild from scratch.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from projection_helpers import bulk_commands, snapshot

from ledger.storage import open_ledger
from projections.recorder import open_views
from projections.runner import Runner

CATCH_UP_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from ledger.storage import open_ledger
    from projections.runner import Runner

    app = open_ledger(sys.argv[1])
    runner = Runner(app, batch_size=int(sys.argv[2]))
    write_trail = runner.views._write_trail

    def slow_write_trail(cursor, rows):
        write_trail(cursor, rows)
        time.sleep(0.01)  # inside the batch's transaction: a kill here must lose the batch

    runner.views._write_trail = slow_write_trail
    print("started", flush=True)
    runner.catch_up()
    """
)


def load_events(url: str, enterprises: int) -> int:
    app = open_ledger(url)
    try:
        commands = bulk_commands(enterprises)
        for start in range(0, len(commands), 400):
            results = app.execute_many(commands[start : start + 400])
            assert all(not isinstance(r, Exception) for r in results), results[:3]
        return app.log_position()
    finally:
        app.close()


@pytest.mark.slow
def test_a_catch_up_killed_again_and_again_ends_equal_to_a_rebuild(
    database_url: str, tmp_path: Path
) -> None:
    # Users as the shared `app` fixture makes them, in a store this test alone opens.
    app = open_ledger(database_url)
    app.define_measures()
    app.register_user("admin", ["admin"], actor="")
    app.register_user("olga", ["officer"], actor="admin")
    app.register_user("ada", ["approver"], actor="admin")
    app.close()
    end = load_events(database_url, enterprises=350)
    assert end > 3_000

    script = tmp_path / "catch_up.py"
    script.write_text(CATCH_UP_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    rng = random.Random(7)
    observer = open_ledger(database_url)
    views = open_views(observer)
    positions = [0]
    kills_mid_way = 0
    for _attempt in range(40):
        process = subprocess.Popen(
            [sys.executable, str(script), database_url, "25"],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"started"
        time.sleep(rng.uniform(0.05, 0.6))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        returncode = process.wait()
        position = views.position()
        assert position >= positions[-1]
        positions.append(position)
        if returncode == 0:
            break
        assert returncode == -signal.SIGKILL
        if 0 < position < end:
            kills_mid_way += 1
    else:
        pytest.fail(f"the catch-up never finished; positions reached: {positions}")

    assert positions[-1] == end
    assert kills_mid_way >= 3, positions
    # Every committed batch is whole: each position reached is an event's position, and
    # the trail holds exactly the events up to it.
    caught_up = snapshot(observer)
    assert [row["position"] for row in caught_up["pv_trail"]] == [
        n.id for n in observer.recorder.select_notifications(start=None, limit=end + 1)
    ]
    Runner(observer, batch_size=500).rebuild()
    assert snapshot(observer) == caught_up
    observer.close()
