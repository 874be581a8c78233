"""The runner holds at most so many state rows per view and reads the rest back from the views
(`projections.row_cache`): the views come out the same as with every row in memory, rows of a
batch still being committed are never read back stale, and the rows a batch needs are read
ahead in a few statements."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from projection_helpers import bulk_commands, fresh_ledger, snapshot
from test_projection_properties import SCENARIO, run_and_check

from projections import tables as t
from projections.row_cache import DEFAULT_CAPACITY, RowCache, capacity_from_environment
from projections.runner import Runner

BACKENDS = ["sqlite", "postgres"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_row_per_view_projects_every_kind_of_command_as_recomputed(
    backend: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scenario with every kind of command, caught up three events at a time and rebuilt,
    each runner holding one row per view: the views equal an independent recomputation."""
    monkeypatch.setenv("LEDGER_VIEWS_CACHE_ROWS", "1")
    accepted = run_and_check(backend, tmp_path, SCENARIO)
    assert len(set(accepted)) >= 10


def _execute(app: Any, commands: list[tuple[dict[str, Any], str]]) -> None:
    for command, actor in commands:
        result = app.execute(command, actor)
        assert not isinstance(result, Exception), result


@pytest.mark.parametrize("backend", BACKENDS)
def test_views_with_few_rows_held_equal_views_with_all(backend: str, tmp_path: Any) -> None:
    """Caught up in small batches holding two rows per view, the views equal a rebuild that
    holds every row; no row was read alone (the batch read ahead what it needed); and no
    view held more than its bound plus the rows of the batch not yet committed."""
    with fresh_ledger(backend, tmp_path) as app:
        _execute(app, bulk_commands(30))
        small = Runner(app, batch_size=7, cache_rows=2)
        small.catch_up()
        state = small.state
        assert state is not None
        assert state.cache.single_reads == 0
        for name, rows in state.rows.items():
            assert len(rows) <= 2 + 7 * 3, name  # the bound, or the last batch's rows
        held_few = snapshot(app)
        Runner(app, cache_rows=10**6).rebuild()
        assert snapshot(app) == held_few
        assert len(held_few[t.AWARDS.name]) == 30


@pytest.mark.parametrize("backend", BACKENDS)
def test_rows_of_a_batch_being_committed_are_not_read_back(
    backend: str, tmp_path: Any
) -> None:
    """Each batch commits slowly in the background while the next is prepared, one row held
    per view: the next batch's rows of the same award must come from memory, not from the
    views (which do not have them yet); otherwise its payments would be counted from stale
    balances."""
    with fresh_ledger(backend, tmp_path) as app:
        _execute(app, _two_at_a_time(bulk_commands(6)))
        runner = Runner(app, batch_size=4, cache_rows=1)  # two commands a batch
        assert runner.views.commit_in_background
        commit = runner.views.commit_batch
        overlapped = threading.Event()

        def slow_commit(*args: Any) -> None:
            time.sleep(0.02)  # the next batch is prepared meanwhile
            overlapped.set()
            commit(*args)

        runner.views.commit_batch = slow_commit  # type: ignore[method-assign]
        runner.catch_up()
        assert overlapped.is_set()
        slow = snapshot(app)
        Runner(app, cache_rows=10**6).rebuild()
        assert snapshot(app) == slow


def _two_at_a_time(commands: list[tuple[dict[str, Any], str]]) -> list[tuple[dict[str, Any], str]]:
    """The budget and the enterprises first, then each step for two awards at once (grant,
    grant, record, record, approve, approve): each batch of two commands changes two awards
    and the next batch needs both, the one changed first among them."""
    head = [c for c in commands if c[0]["type"] in ("appropriate_budget", "register_enterprise")]
    steps = [c for c in commands if c not in head]
    per_award = [steps[n : n + 3] for n in range(0, len(steps), 3)]
    out = list(head)
    for first, second in zip(per_award[::2], per_award[1::2], strict=True):
        for a, b in zip(first, second, strict=True):
            out += [a, b]
    return out


def test_a_batch_s_rows_are_kept_until_it_is_committed() -> None:
    """`shrink` lets go of the oldest rows, never of a batch handed over and not committed."""

    class Views:
        def fetch_rows(self, table: t.Table, column: str, values: list[Any]) -> list[Any]:
            return []

    cache = RowCache(Views(), capacity=1)
    rows = cache.rows[t.DISBURSEMENTS.name]
    for n in range(3):
        rows[(f"D{n}",)] = t.DISBURSEMENTS.empty_row((f"D{n}",))
    cache.changed({**{name: set() for name in cache.rows}, t.DISBURSEMENTS.name: {("D0",)}})
    cache.shrink()
    assert list(rows) == [("D0",)]  # D1 and D2 went; D0's batch is not committed yet
    rows[("D3",)] = t.DISBURSEMENTS.empty_row(("D3",))
    cache.committed()
    cache.shrink()
    assert list(rows) == [("D3",)]


def test_a_row_not_held_is_read_once_and_then_known(tmp_path: Any) -> None:
    """A row nobody asked for ahead is read alone, once; a value read ahead with no row is
    known to have none (no statement at all)."""
    reads: list[tuple[str, str, list[Any]]] = []

    class Views:
        def fetch_rows(self, table: t.Table, column: str, values: list[Any]) -> list[Any]:
            reads.append((table.name, column, sorted(values)))
            if column == "reference" and "A1" in values:
                return [{**t.AWARDS.empty_row(("A1",)), "award_id": "id-1"}]
            return []

    cache = RowCache(Views(), capacity=10)
    assert cache.lookup(t.AWARDS, ("A1",))["award_id"] == "id-1"
    assert cache.key_by_id(t.AWARDS, "id-1") == ("A1",)  # learnt from the row
    assert cache.lookup(t.AWARDS, ("A1",)) is not None
    assert reads == [(t.AWARDS.name, "reference", ["A1"])]
    cache.fetch(t.AWARDS, "reference", ["A2", "A3"])
    assert cache.lookup(t.AWARDS, ("A2",)) is None
    assert cache.single_reads == 1 and len(reads) == 2


def test_the_bound_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("LEDGER_VIEWS_CACHE_ROWS", raising=False)
    assert capacity_from_environment() == DEFAULT_CAPACITY
    monkeypatch.setenv("LEDGER_VIEWS_CACHE_ROWS", "250")
    assert capacity_from_environment() == 250
    monkeypatch.setenv("LEDGER_VIEWS_CACHE_ROWS", "0")
    assert capacity_from_environment() == 1
    monkeypatch.setenv("LEDGER_VIEWS_CACHE_ROWS", "很多")
    with caplog.at_level(logging.WARNING):
        assert capacity_from_environment() == DEFAULT_CAPACITY
    assert "LEDGER_VIEWS_CACHE_ROWS" in caplog.text and "whole number" in caplog.text
