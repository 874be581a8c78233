"""A batch brings the measures and budgets its commands name up to date from the repository's
cache in one query, and puts them back into the cache once they are saved
(`UnitOfWork.fast_forward_cached`, `UnitOfWork.cache_saved`). Both stores, real writers.

What another writer (another application on the same store, as another process would be)
stores between two batches counts at the next one; a batch run dry, or one whose insert
fails, leaves in the cache what was saved before it, never what it only tried; and what the cache
holds after many batches is what a replay of the store gives.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import factories as f
import pytest

from ledger.application import SupportLedger
from ledger.domain import Budget, Measure
from ledger.storage import open_ledger

BUDGET_ID = Budget.create_id("M10", f.YEAR)


def _state(budget: Any) -> dict[str, Any]:
    return {name: value for name, value in vars(budget).items() if name != "_pending_events"}


def _cached(app: SupportLedger, aggregate_id: UUID) -> Any:
    assert app.repository.cache is not None
    return app.repository.cache.get(aggregate_id)  # KeyError if it is not cached


def _outcomes(results: list[Any]) -> list[str]:
    return [getattr(r, "status", None) or r.code for r in results]


@pytest.fixture
def funded(app: SupportLedger) -> SupportLedger:
    """Three enterprises and a budget with room for three awards of 10万."""
    for uscc in (f.USCC_A, f.USCC_B, f.USCC_C):
        app.execute(f.enterprise(uscc), "olga")
    app.execute(f.budget(amount_fen=30_000_000), "olga")
    return app


def test_another_writers_award_counts_at_the_next_batch(
    funded: SupportLedger, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = funded
    results = app.execute_many(
        [(f.award("A-1", f.USCC_A), "olga"), (f.award("A-2", f.USCC_B), "olga")]
    )
    assert _outcomes(results) == ["recorded", "recorded"]
    assert _cached(app, BUDGET_ID).committed_fen == 20_000_000  # saved, then put back
    other = open_ledger(database_url)
    try:
        assert other.execute(f.award("X-1", f.USCC_C), "oscar").status == "recorded"
    finally:
        other.close()
    asked: list[dict[UUID, int]] = []
    select_events_after = app.select_events_after
    assert select_events_after is not None

    def spy(after: dict[UUID, int]) -> Any:
        asked.append(dict(after))
        return select_events_after(after)

    monkeypatch.setattr(app, "select_events_after", spy)
    cached_version = _cached(app, BUDGET_ID).version
    # The cached budget still says 20万 committed; the store says 30万: the next batch sees 30万.
    results = app.execute_many([(f.award("A-3", f.USCC_A, amount_fen=1), "olga"),
                                (f.enterprise(), "olga")])  # fmt: skip
    assert _outcomes(results) == ["budget_exceeded", "duplicate"]
    assert len(asked) == 1 and asked[0][BUDGET_ID] == cached_version  # one query, from there
    assert set(asked[0]) == {BUDGET_ID, Measure.create_id("M10")}  # the measure and its budget
    assert _cached(app, BUDGET_ID).committed_fen == 30_000_000


def test_a_dry_run_leaves_in_the_cache_what_was_saved(funded: SupportLedger) -> None:
    app = funded
    app.execute_many([(f.award("A-1", f.USCC_A), "olga"), (f.award("A-2", f.USCC_B), "olga")])
    before = _state(_cached(app, BUDGET_ID))
    results = app.execute_many(
        [(f.award("A-3", f.USCC_C), "olga"), (f.award("A-4", f.USCC_C), "olga")], dry_run=True
    )
    assert _outcomes(results) == ["recorded", "budget_exceeded"]
    assert _state(_cached(app, BUDGET_ID)) == before
    results = app.execute_many([(f.award("A-3", f.USCC_C), "olga"), (f.enterprise(), "olga")])
    assert _outcomes(results) == ["recorded", "duplicate"]


def test_a_failed_batch_leaves_in_the_cache_what_was_saved(
    funded: SupportLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = funded
    app.execute_many([(f.award("A-1", f.USCC_A), "olga"), (f.award("A-2", f.USCC_B), "olga")])
    before = _state(_cached(app, BUDGET_ID))

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError("the disk is full")

    monkeypatch.setattr(app.recorder, "insert_events", broken)
    with pytest.raises(OSError):
        app.execute_many([(f.award("A-3", f.USCC_C), "olga"), (f.enterprise(), "olga")])
    monkeypatch.undo()
    assert _state(_cached(app, BUDGET_ID)) == before
    results = app.execute_many([(f.award("A-3", f.USCC_C), "olga"), (f.enterprise(), "olga")])
    assert _outcomes(results) == ["recorded", "duplicate"]


def test_the_cache_holds_what_a_replay_of_the_store_gives(
    funded: SupportLedger, database_url: str
) -> None:
    app = funded
    for n in range(6):  # batches of two: an award and a refused one (the enterprise's cap)
        app.execute_many([(f.award(f"A-{n}", (f.USCC_A, f.USCC_B, f.USCC_C)[n % 3],
                                   amount_fen=1_000_000), "olga"),
                          (f.award(f"B-{n}", f.USCC_A, amount_fen=10**12), "olga")])  # fmt: skip
    replayed = open_ledger(database_url)
    try:
        for aggregate_id in (BUDGET_ID, Measure.create_id("M10")):
            assert _state(_cached(app, aggregate_id)) == _state(
                replayed.repository.get(aggregate_id)
            )
    finally:
        replayed.close()
