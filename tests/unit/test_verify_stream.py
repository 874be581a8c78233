"""audit.verify_stream: a log streamed once gives the roots and subtrees the whole tree gives.

The reference is RFC 6962's MTH over the whole list (tests.unit.test_merkle_properties). The
stream is fed the way verification feeds it, in random mixtures: plain batches of leaves of any
length, and chunks with their subtrees (as a worker hands them over), aligned or not, with
blocks made tiny so that a small log crosses many of them.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import audit.verify_stream as vs
from audit.hashworker import subtree_levels
from audit.merkle import leaf_hash
from tests.unit.test_merkle_properties import mth

MIN_LEVEL = 2
LEAVES = [leaf_hash(b"event %d" % i) for i in range(300)]


def complete_subtrees(n: int, limit: int) -> list[tuple[int, int, bytes]]:
    """Every complete, aligned subtree at MIN_LEVEL or above that ends at or before ``limit``."""
    out = []
    level = MIN_LEVEL
    while (1 << level) <= min(n, limit):
        for index in range(min(n, limit) >> level):
            first = index << level
            out.append((level, index, mth(LEAVES[first : first + (1 << level)])))
        level += 1
    return out


@st.composite
def feeds(draw: st.DrawFn) -> tuple[int, list[tuple[str, int, int]]]:
    """A log length and how it is fed: ("leaves" | "chunk" | "misplaced chunk", start, end)."""
    n = draw(st.integers(0, 200))
    steps = []
    start = 0
    while start < n:
        kind = draw(st.sampled_from(["leaves", "chunk", "misplaced chunk"]))
        if kind == "leaves":
            end = draw(st.integers(start + 1, n))
        else:  # a worker's chunk: aligned to a power of two at least as long as itself
            size = 1 << draw(st.integers(0, 5))
            if start % size:
                size = start & -start
            end = min(start + size, n)
        steps.append((kind, start, end))
        start = end
    return n, steps


@settings(max_examples=300, deadline=None)
@given(feeds(), st.sampled_from([1, 4, 16, 1 << 13]), st.data())
def test_the_stream_gives_what_the_whole_tree_gives(
    feed: tuple[int, list[tuple[str, int, int]]], block: int, data: st.DataObject
) -> None:
    n, steps = feed
    sizes = data.draw(st.sets(st.integers(0, n + 3), max_size=8))
    indices = data.draw(st.sets(st.integers(0, n + 3), max_size=8))
    limit = data.draw(st.integers(0, n + 3))
    emitted: list[tuple[int, int, bytes]] = []
    positions = [1000 + 3 * i for i in range(n)]  # gaps, as on PostgreSQL
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(vs, "BLOCK", block)
        stream = vs.TreeStream(sizes, indices, min_level=MIN_LEVEL,
                               on_node=lambda *node: emitted.append(node), node_limit=limit)  # fmt: skip
        for kind, start, end in steps:
            hashes, where = LEAVES[start:end], positions[start:end]
            if kind == "leaves":
                stream.add_leaves(where, hashes)
            else:
                claimed = start if kind == "chunk" else start + 1  # misplaced: its subtrees are wrong
                stream.add_block(claimed, where, hashes, subtree_levels(hashes, claimed, MIN_LEVEL))
        stream.finish()
    assert stream.count == n
    assert stream.root() == (mth(LEAVES[:n]) if n else None)
    assert stream.roots == {s: mth(LEAVES[:s]) for s in sizes if 0 < s <= n}
    assert stream.positions == {i: positions[i] for i in indices if i < n}
    assert sorted(emitted) == complete_subtrees(n, limit)
    assert len(set(emitted)) == len(emitted)  # each once
    for level in {lv for lv, _, _ in emitted}:  # in index order per level, as NodeCheck reads
        at_level = [index for lv, index, _ in emitted if lv == level]
        assert at_level == sorted(at_level)


def test_a_chunk_fed_with_its_subtrees_is_not_hashed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The subtrees a worker computed are used, not recomputed (that is the workers' point)."""
    calls: list[int] = []
    real = vs.perfect_root
    monkeypatch.setattr(vs, "perfect_root", lambda nodes: calls.append(len(nodes)) or real(nodes))
    stream = vs.TreeStream([40, 64], min_level=MIN_LEVEL)
    for start in range(0, 64, 16):
        hashes = LEAVES[start : start + 16]
        stream.add_block(start, list(range(start, start + 16)), hashes,
                         subtree_levels(hashes, start, MIN_LEVEL))  # fmt: skip
    stream.finish()
    assert stream.roots == {40: mth(LEAVES[:40]), 64: mth(LEAVES[:64])}
    assert all(size < 1 << MIN_LEVEL for size in calls), calls
