#!/usr/bin/env python3
"""Benchmark the exports: every list of the demo year as CSV and as .xlsx, side by side.

For each kind it prints the rows, the time of each format, the ratio xlsx / csv and the peak
Python memory of the export (tracemalloc, in a second run), against a baseline measured in the same run: reading
the same rows from the same snapshot without writing anything (`stream only`). The machine is
shared, so only the ratios mean much.

    .venv/bin/python scripts/bench_exports.py                       # a demo store under var/
    .venv/bin/python scripts/bench_exports.py --database-url postgresql://…/test?schema=bench
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _timed(run: object) -> tuple[float, int]:
    """Seconds of one run (untraced), and the peak traced memory of a second, traced run."""
    started = time.perf_counter()
    run()  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    run()  # type: ignore[operator]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT}/var/bench-exports.sqlite3")
    args = parser.parse_args()

    from ledger.demo import load_demo
    from ledger.storage import open_ledger
    from projections import exports
    from projections.exports.sources import SOURCES
    from projections.queries.snapshot import snapshot
    from projections.runner import catch_up

    (ROOT / "var").mkdir(exist_ok=True)
    app = open_ledger(args.database_url)
    load_demo(app, seed=2025, fiscal_year=2025, password=None)
    catch_up(app)
    print(f"{'kind':<14}{'rows':>8}{'stream s':>10}{'csv s':>8}{'xlsx s':>8}{'xlsx/csv':>10}"
          f"{'csv peak MB':>13}{'xlsx peak MB':>14}")  # fmt: skip
    with tempfile.TemporaryDirectory() as directory:
        for kind in exports.KINDS:
            chosen = exports.filter_for(kind, {})
            done: dict[str, int] = {}

            def stream(kind: str = kind, chosen: object = chosen) -> None:
                with snapshot(app) as view:
                    for _ in SOURCES[kind].rows(app, view, chosen):  # type: ignore[arg-type]
                        pass

            def write(fmt: str, kind: str = kind, chosen: object = chosen, done: dict[str, int] = done) -> None:
                with open(os.path.join(directory, f"{kind}.{fmt}"), "wb") as out:
                    done["rows"] = exports.export(app, kind, chosen, fmt, out).rows  # type: ignore[arg-type]

            figures = {"stream": _timed(stream)}
            for fmt in exports.FORMATS:
                figures[fmt] = _timed(lambda fmt=fmt, write=write: write(fmt))
            print(f"{kind:<14}{done['rows']:>8,}{figures['stream'][0]:>10.2f}{figures['csv'][0]:>8.2f}"
                  f"{figures['xlsx'][0]:>8.2f}{figures['xlsx'][0] / figures['csv'][0]:>10.1f}"
                  f"{figures['csv'][1] / 2**20:>13.1f}{figures['xlsx'][1] / 2**20:>14.1f}")  # fmt: skip
    app.close()


if __name__ == "__main__":
    main()
