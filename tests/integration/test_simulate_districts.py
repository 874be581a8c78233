"""`scripts/simulate_districts.py`, run small on both stores: what it reports is what it stored.

Not a timing test: the script runs two districts with a few dozen commands, keeps its stores,
and every count in its JSON is read back from each district's own store (events, tree heads,
cosignatures, the origin its checkpoints carry) or recomputed from the workload (the committed
amounts in the federated city total).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stores import postgres_base_url

from audit.db import HEADS, audit_db
from audit.witness_tables import COSIGNATURES
from ledger.storage import open_ledger

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "simulate_districts.py"
DISTRICTS = 2
COMMANDS = 60
BURST = 3


def load_script() -> Any:
    spec = importlib.util.spec_from_file_location("simulate_districts", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The JSON report of a small run whose stores are kept; PostgreSQL databases dropped after."""
    args = ["--backend", "sqlite"]
    base = None
    if request.param == "postgres":
        base = postgres_base_url()
        args = ["--backend", "postgresql", "--database-url", base]
    command = [sys.executable, str(SCRIPT), "--districts", str(DISTRICTS), "--commands", str(COMMANDS),
               "--batch-size", "10", "--sign-every-s", "0.2", "--witness-burst", str(BURST),
               "--keep", "--work-dir", str(tmp_path_factory.mktemp("districts")), *args]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    yield figures
    if base is not None:
        names = [url.rsplit("/", 1)[1].split("?")[0] for url in figures["stores"].values()]
        load_script().drop_databases(base, names)


def count(app: Any, table: str) -> int:
    db = audit_db(app)
    with db.read() as cur:
        cur.execute(db.sql(f"SELECT COUNT(*) FROM {{t}}{table}"))
        return int(cur.fetchone()[0])


def stored_positions(app: Any) -> list[int]:
    positions, last = [], None
    while True:
        page = app.recorder.select_notifications(
            start=last, limit=1000, inclusive_of_start=last is None
        )
        if not page:
            return positions
        positions += [n.id for n in page]
        last = page[-1].id


def test_every_count_the_simulation_reports_is_stored_in_its_district(
    report: dict[str, Any],
) -> None:
    assert len(report["per_district"]) == DISTRICTS
    for district in report["per_district"]:
        app = open_ledger(report["stores"][district["district"]], create=False)
        try:
            positions = stored_positions(app)
            assert district["log_size_after"] == positions[-1] == len(positions)
            workload = [p for p in positions if p > district["log_size_after"] - district["events"]]
            assert district["events"] == len(workload) > district["accepted"]
            assert district["accepted"] == district["commands"] and district["rejected"] == 0
            assert district["heads_signed"] == count(app, HEADS) >= 1
            assert district["cosignatures"] == count(app, COSIGNATURES) >= 1
        finally:
            app.close()
        assert district["origin"] == f"ledger.{district['district']}.sh.gov.cn/qsip-2025"
    raw = report["raw"]
    assert raw["rows"] == sum(d["events"] for d in report["per_district"])
    assert report["aggregate"]["events"] == raw["rows"]
    assert report["witness_burst"]["checkpoints"] == DISTRICTS * BURST


def test_the_federated_city_total_is_the_sum_of_each_districts_awards(
    report: dict[str, Any],
) -> None:
    script = load_script()
    federated = report["federated_read"]
    committed = {}
    for name, pinyin, region in script.DISTRICTS[:DISTRICTS]:
        calls = script.district_calls(name, region, COMMANDS, 10)
        committed[pinyin] = sum(c["amount_fen"] for call in calls for c, _actor in call
                                if c["type"] == "grant_award")  # fmt: skip
        assert federated["per_district"][pinyin]["committed_fen"] == committed[pinyin] > 0
    assert federated["city_total"]["committed_fen"] == sum(committed.values())
    assert federated["city_total"]["awards"] == sum(
        d["awards"] for d in federated["per_district"].values()
    )


def test_each_district_signs_its_checkpoints_under_its_own_origin(report: dict[str, Any]) -> None:
    from audit.checkpoint_log import CHECKPOINTS

    for district in report["per_district"]:
        app = open_ledger(report["stores"][district["district"]], create=False)
        try:
            db = audit_db(app)
            with db.read() as cur:
                cur.execute(db.sql(f"SELECT note FROM {{t}}{CHECKPOINTS} ORDER BY id"))
                notes = [row[0] for row in cur.fetchall()]
        finally:
            app.close()
        assert len(notes) == district["heads_signed"]
        assert all(note.startswith(district["origin"] + "\n") for note in notes)
