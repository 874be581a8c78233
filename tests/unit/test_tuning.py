"""The process-wide performance switches live in ledger/tuning.py only, restore what they
change, and shared library paths (a rebuild run by the worker's or the web's follower) leave
them alone."""

from __future__ import annotations

import gc
import re
import sys
from pathlib import Path

import pytest

from ledger import tuning

ROOT = Path(__file__).resolve().parents[2]
SWITCHES = re.compile(r"\bgc\.(disable|enable|freeze|unfreeze|set_threshold)\(|\bsetswitchinterval\(")


def test_the_switches_are_flipped_in_ledger_tuning_only() -> None:
    found = []
    for package in ("ledger", "projections", "audit", "web"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "ledger" / "tuning.py":
                continue
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                if SWITCHES.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_the_collector_is_paused_in_the_block_and_enabled_after() -> None:
    assert gc.isenabled()
    with tuning.cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), tuning.cyclic_gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_paused_before_stays_paused() -> None:
    gc.disable()
    try:
        with tuning.cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_switch_interval_is_shortened_in_the_block_and_restored_after() -> None:
    before_s = sys.getswitchinterval()
    with tuning.short_switch_interval(0.001):
        assert sys.getswitchinterval() == pytest.approx(min(before_s, 0.001))
        with tuning.short_switch_interval(1.0):  # never lengthened
            assert sys.getswitchinterval() == pytest.approx(min(before_s, 0.001))
    assert sys.getswitchinterval() == before_s
    with tuning.bulk_command():
        assert not gc.isenabled()
        assert sys.getswitchinterval() <= tuning.BULK_SWITCH_INTERVAL_S
    assert gc.isenabled() and sys.getswitchinterval() == before_s


def test_freezing_moves_what_lives_now_to_the_permanent_generation() -> None:
    try:
        tuning.freeze_startup_objects()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_old_objects_go_unscanned_in_the_block_while_young_cycles_are_still_freed() -> None:
    before = gc.get_threshold()
    with tuning.old_objects_unscanned():
        young, middle, old = gc.get_threshold()
        assert (young, middle) == before[:2] and old > 10**9
        collected = []

        def count(phase: str, info: dict) -> None:
            if phase == "stop":
                collected.append((info["generation"], info["collected"]))

        gc.callbacks.append(count)
        try:
            for _ in range(young * 20):  # each a cycle, dropped at once
                cycle: list = []
                cycle.append(cycle)
        finally:
            gc.callbacks.remove(count)
        assert sum(n for generation, n in collected if generation < 2) > 0
        assert all(generation < 2 for generation, _n in collected)
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), tuning.old_objects_unscanned():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before
