"""Verification split among worker processes (SQLite) computes exactly what one process does."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace
from typing import Any

import pytest

import audit.verify as v
import audit.verify_workers as w
from audit.db import audit_db
from audit.heads import sign_tree_head
from audit.log import update_log


@pytest.fixture
def sqlite_ledger(ledger: Any) -> Any:
    if ledger.store.is_postgres:
        pytest.skip("workers hash SQLite logs only")
    return ledger


def wait_for_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make this process start only once a worker has claimed a chunk (a small log is hashed
    before a worker's interpreter is up, and the workers would never get to do anything)."""
    real_claim = w.claim

    def claim(claims: str, chunk: int) -> bool:
        deadline = time.monotonic() + 20
        while chunk == 0 and not os.listdir(claims) and time.monotonic() < deadline:
            time.sleep(0.01)
        return real_claim(claims, chunk)

    monkeypatch.setattr(w, "claim", claim)


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(w, "PARALLEL_MIN_EVENTS", 0)
    monkeypatch.setattr(w, "ALIGN_LEVEL", 2)
    wait_for_a_worker(monkeypatch)


def recompute(app: Any, workers: int) -> tuple[list[int], list[bytes], list[tuple]]:
    db = audit_db(app)
    with db.read() as cur:
        total = app.log_position()
        stored = v.leaf_count(db, cur)
        positions, hashes, cache = w.recompute(db, cur, 3, total, stored, None, workers)
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
    real_unpack = w.unpack
    monkeypatch.setattr(w, "unpack", lambda data: used.append(1) or real_unpack(data))
    one = recompute(sqlite_ledger, 1)
    assert not used
    many = recompute(sqlite_ledger, 3)
    assert used  # workers delivered chunks
    assert many == one
    assert one[0] == list(range(1, sqlite_ledger.log_position() + 1))


def test_a_worker_that_cannot_start_is_replaced_by_this_process(
    sqlite_ledger: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(w, "PARALLEL_MIN_EVENTS", 0)
    monkeypatch.setattr(w, "ALIGN_LEVEL", 2)
    one = recompute(sqlite_ledger, 1)
    monkeypatch.setattr(w.sys, "executable", "/nonexistent/python")
    assert recompute(sqlite_ledger, 2) == one


def test_chunks_a_failed_worker_claimed_are_hashed_here(
    sqlite_ledger: Any, small_ranges: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = recompute(sqlite_ledger, 1)
    real_worker = w._Worker
    failed: list[Any] = []

    class Failing(real_worker):  # type: ignore[misc, valid-type]
        def __init__(self, db: Any, chunks: Any, claims: str, batch: int) -> None:
            wrong = SimpleNamespace(store=db.store, events_table='"no_such_table"',
                                    position_column=db.position_column)  # fmt: skip
            super().__init__(wrong, chunks, claims, batch)
            failed.append(self)

    monkeypatch.setattr(w, "_Worker", Failing)
    assert recompute(sqlite_ledger, 3) == one
    assert len(failed) == 2
    assert not any(worker.results for worker in failed)
    assert any(b"no such table" in worker.error for worker in failed)  # after claiming a chunk


def test_verify_with_workers_reports_intact_with_progress(
    sqlite_ledger: Any, small_ranges: None
) -> None:
    sign_tree_head(sqlite_ledger)
    seen: list[tuple[int, int]] = []
    report = v.verify(sqlite_ledger, workers=2, progress=lambda n, t: seen.append((n, t)))
    assert report.intact, report.findings
    total = sqlite_ledger.log_position()
    assert report.events_checked == total and seen[-1] == (total, total)
