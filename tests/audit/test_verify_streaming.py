"""`ledger audit verify` reads the log as a stream: the node cache checked node by node, and the
same findings however the stream is cut (both stores).

An intruder with database access changes, adds or plants cached Merkle nodes (the persisted
cache proofs are served from); verification names the first leaf the bad nodes cover. And
every check gives the same report with blocks of four leaves, so that a short test log crosses
many blocks and subtrees complete across them as they do in a large log.
"""

from __future__ import annotations

from typing import Any

import pytest

import audit.verify_stream as vs
from audit.heads import sign_tree_head
from audit.verify import verify
from tests.audit.test_tamper_matrix import _enterprises

ZERO = bytes(32)


@pytest.fixture
def signed(ledger: Any) -> Any:
    """A ledger with two signed heads and an unsigned tail."""
    sign_tree_head(ledger)
    _enterprises(ledger, 1, 5)
    sign_tree_head(ledger)
    _enterprises(ledger, 200, 3)
    return ledger


def summary(report: Any) -> dict[str, Any]:
    data = report.to_dict()
    for key in ("started_at", "finished_at", "duration_s"):
        data.pop(key, None)
    return data


def node_findings(report: Any) -> list[Any]:
    return [f for f in report.findings if f.kind == "node"]


def test_a_cached_node_the_intruder_changed_is_named(signed: Any, intruder: Any) -> None:
    intruder.drop_triggers()
    before = verify(signed)
    assert before.intact, before.findings
    assert before.nodes_checked == len(intruder.execute("SELECT level FROM {nodes}")) > 4
    intruder.execute("UPDATE {nodes} SET node = ? WHERE level = 4 AND idx = 2", (ZERO,))
    intruder.execute("UPDATE {nodes} SET node = ? WHERE level = 5 AND idx = 1", (ZERO,))
    report = verify(signed)
    (finding,) = node_findings(report)
    assert report.exit_code == 1
    assert finding.leaf_index == 32  # the first leaf of (level 5, index 1) and of (4, 2)
    assert finding.message.startswith("2 cached Merkle node(s) differ")
    assert "leaves 32..47" in finding.message  # the lower of the two is named
    (position,) = intruder.execute("SELECT position FROM {leaves} WHERE leaf_index = 32")[0]
    assert finding.position == position
    assert report.nodes_checked == before.nodes_checked
    assert not [f for f in report.findings if f.kind != "node"]  # the events are untouched


def test_nodes_planted_where_the_tree_has_none_are_counted(signed: Any, intruder: Any) -> None:
    intruder.drop_triggers()
    stored = len(intruder.execute("SELECT level FROM {nodes}"))
    size = signed.log_position()
    for level, idx in ((4, size), (1, 3), (30, 0)):  # beyond the log, below the cache, too high
        intruder.execute("INSERT INTO {nodes} (level, idx, node) VALUES (?, ?, ?)",
                         (level, idx, ZERO))  # fmt: skip
    report = verify(signed)
    (finding,) = node_findings(report)
    assert finding.message.startswith("3 cached Merkle node(s) differ")
    assert finding.leaf_index == 0  # (30, 0) covers leaf 0 on; (1, 3) starts at 6
    assert report.nodes_checked == stored + 3


def test_a_missing_cached_node_is_no_finding(signed: Any, intruder: Any) -> None:
    """The cache is only a cache: a node that is missing is recomputed, not reported."""
    intruder.drop_triggers()
    intruder.execute("DELETE FROM {nodes} WHERE level = 4 AND idx = 1")
    report = verify(signed)
    assert report.intact, report.findings


def _change_a_byte(intruder: Any) -> None:
    (position, state), *_ = intruder.execute(
        "SELECT {pos}, state FROM {events} ORDER BY {pos} LIMIT 1 OFFSET 37"
    )
    state = bytearray(state)
    state[state.index(b"0")] = ord("9")
    intruder.execute("UPDATE {events} SET state = ? WHERE {pos} = ?", (bytes(state), position))


def _delete_in_the_middle(intruder: Any) -> None:
    ((position,),) = intruder.execute("SELECT {pos} FROM {events} ORDER BY {pos} LIMIT 1 OFFSET 21")
    intruder.execute("DELETE FROM {events} WHERE {pos} = ?", (position,))


def _delete_the_tail(intruder: Any) -> None:
    ((position,),) = intruder.execute("SELECT {pos} FROM {events} ORDER BY {pos} LIMIT 1 OFFSET 50")
    intruder.execute("DELETE FROM {events} WHERE {pos} >= ?", (position,))


def _rewrite_a_leaf_and_its_event(intruder: Any) -> None:
    _change_a_byte(intruder)
    intruder.execute("UPDATE {leaves} SET leaf_hash = ? WHERE leaf_index = 37", (ZERO,))


def _change_a_node(intruder: Any) -> None:
    intruder.execute("UPDATE {nodes} SET node = ? WHERE level = 4 AND idx = 1", (ZERO,))


@pytest.mark.parametrize(
    "tamper",
    [None, _change_a_byte, _delete_in_the_middle, _delete_the_tail,
     _rewrite_a_leaf_and_its_event, _change_a_node],
    ids=["untouched", "a byte", "a middle event", "the tail", "leaf and event", "a node"],
)  # fmt: skip
def test_blocks_of_four_leaves_give_the_same_report(
    tamper: Any, signed: Any, intruder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if tamper is not None:
        intruder.drop_triggers()
        tamper(intruder)
    whole = verify(signed)
    monkeypatch.setattr(vs, "BLOCK", 4)
    cut = verify(signed)
    assert summary(cut) == summary(whole)
    assert cut.intact == (tamper is None)


def test_verify_reports_its_progress_through_the_log_and_the_replay_snapshots(
    signed: Any, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both passes say how far they are (the snapshot check is most of a large log's time)."""
    from audit.replay_snapshots import take_snapshots

    monkeypatch.setenv("LEDGER_REPLAY_SNAPSHOT_EVERY", "10")
    made = take_snapshots(signed)
    assert len(made) >= 3
    result = run_cli("audit", "verify", "--no-record")
    assert result.exit_code == 0, result.output
    total = signed.log_position()
    lines = result.stderr.splitlines()
    assert f"verify: {total}/{total} 个事件 events" in lines
    assert lines[-1] == f"verify: {len(made)}/{len(made)} 个回放快照 replay snapshots"
