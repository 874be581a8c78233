"""Verification split among worker processes (SQLite) computes exactly what one process does."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import audit.verify as v
from audit.db import audit_db
from audit.heads import sign_tree_head
from audit.log import update_log


@pytest.fixture
def sqlite_ledger(ledger: Any) -> Any:
    if ledger.store.is_postgres:
        pytest.skip("workers hash SQLite logs only")
    return ledger


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(v, "PARALLEL_MIN_EVENTS", 0)
    monkeypatch.setattr(v, "ALIGN_LEVEL", 2)


def recompute(app: Any, workers: int) -> tuple[list[int], list[bytes], list[tuple]]:
    db = audit_db(app)
    with db.read() as cur:
        total = app.log_position()
        stored = v.leaf_count(db, cur)
        positions, hashes, cache = v._recompute(db, cur, 3, total, stored, None, workers)
    tree = v.MerkleTree(v._Leaves(hashes), cache, min_cached_level=v.MIN_CACHED_LEVEL)
    tree.root()
    return positions, hashes, [(lv, i, cache.get(lv, i)) for lv, i in cache.entries()]


@pytest.mark.parametrize("indexed", [True, False], ids=["leaves as hints", "counted out"])
def test_workers_compute_what_one_process_does(
    sqlite_ledger: Any, small_ranges: None, monkeypatch: pytest.MonkeyPatch, indexed: bool
) -> None:
    if indexed:
        update_log(sqlite_ledger)
    used = []
    real_unpack = v.unpack
    monkeypatch.setattr(v, "unpack", lambda data: used.append(1) or real_unpack(data))
    one = recompute(sqlite_ledger, 1)
    assert not used
    many = recompute(sqlite_ledger, 3)
    assert len(used) == 2  # both workers' results were taken, none hashed again here
    assert many == one
    assert one[0] == list(range(1, sqlite_ledger.log_position() + 1))


def test_a_worker_that_cannot_start_is_replaced_by_this_process(
    sqlite_ledger: Any, small_ranges: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = recompute(sqlite_ledger, 1)
    monkeypatch.setattr(v.sys, "executable", "/nonexistent/python")
    assert recompute(sqlite_ledger, 2) == one


def test_a_worker_that_fails_is_replaced_by_this_process(
    sqlite_ledger: Any, small_ranges: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = recompute(sqlite_ledger, 1)
    real_start = v._Range.start
    failed = []

    def start_on_a_missing_file(self: Any, db: Any, batch: int) -> None:
        missing = SimpleNamespace(sqlite_path="/nonexistent/ledger.sqlite3")
        real_start(self, SimpleNamespace(store=missing, events_table=db.events_table,
                                         position_column=db.position_column), batch)  # fmt: skip
        failed.append(self)

    monkeypatch.setattr(v._Range, "start", start_on_a_missing_file)
    assert recompute(sqlite_ledger, 3) == one
    assert len(failed) == 2
    assert all(r.result is None and b"unable to open" in r.error for r in failed)


def test_verify_with_workers_reports_intact_with_progress(
    sqlite_ledger: Any, small_ranges: None
) -> None:
    sign_tree_head(sqlite_ledger)
    seen: list[tuple[int, int]] = []
    report = v.verify(sqlite_ledger, workers=2, progress=lambda n, t: seen.append((n, t)))
    assert report.intact, report.findings
    total = sqlite_ledger.log_position()
    assert report.events_checked == total and seen[-1] == (total, total)
