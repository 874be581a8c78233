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
SWITCHES = re.compile(r"\bgc\.(disable|enable|freeze|unfreeze)\(|\bsetswitchinterval\(")


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
