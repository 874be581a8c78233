"""The Merkle tree of a log read once, front to back, in memory that does not grow with the log.

Verification reads every event once. Instead of keeping every leaf hash, :class:`TreeStream`
keeps the compact range of the leaves seen so far (one subtree root per set bit of their count)
and takes from the stream only what the checks need afterwards: the root at each size a tree
head names (:attr:`TreeStream.roots`), the position at each leaf index a finding may name
(:attr:`TreeStream.positions`), and every complete subtree at the cached levels as it completes,
handed to a :class:`NodeCheck` that compares it with the stored node cache read alongside, a
level at a time.

Leaves arrive in blocks that start at a multiple of a power of two at least as long as the
block (a worker's chunk, or :data:`BLOCK` leaves cut here), with the block's subtrees when they
are known, so a block joins the compact range as at most one subtree per set bit of its length.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from audit.db import NODES, as_bytes
from audit.hashworker import Levels, subtree_levels
from audit.merkle_hash import compact_range_root, node_hash, perfect_root

#: Leaves arriving without their subtrees are hashed up in blocks of this many.
BLOCK = 1 << 13
#: Stored nodes of one level read at a time by :class:`NodeCheck`.
NODE_BATCH = 1024

OnNode = Callable[[int, int, bytes], None]


class TreeStream:
    """The compact range of a stream of leaves (see the module docstring).

    ``sizes``: the tree sizes whose roots to keep; ``indices``: the leaf indexes whose positions
    to keep; ``on_node(level, index, node)`` receives every complete subtree at ``min_level`` or
    above that ends at or before leaf ``node_limit``.
    """

    def __init__(
        self,
        sizes: Iterable[int] = (),
        indices: Iterable[int] = (),
        *,
        min_level: int,
        on_node: OnNode | None = None,
        node_limit: int = 0,
    ) -> None:
        self.count = 0
        self.roots: dict[int, bytes] = {}
        self.positions: dict[int, int] = {}
        self._sizes = sorted({s for s in sizes if s > 0})
        self._indices = sorted({i for i in indices if i >= 0})
        self._min_level = min_level
        self._on_node = on_node
        self._node_limit = node_limit
        self._stack: list[tuple[int, bytes]] = []  # (level, root), levels decreasing
        self._pending_positions: list[int] = []
        self._pending_hashes: list[bytes] = []

    # -- feeding ------------------------------------------------------------------------------

    def add_leaves(self, positions: list[int], hashes: list[bytes]) -> None:
        """Leaves in log order, with nothing known about their subtrees."""
        self._pending_positions += positions
        self._pending_hashes += hashes
        if len(self._pending_hashes) >= BLOCK:
            self._flush(whole_blocks_only=True)

    def add_block(
        self, first_index: int, positions: list[int], hashes: list[bytes], levels: Levels
    ) -> None:
        """Leaves meant to start at ``first_index``, with their subtrees at the cached levels
        (:func:`audit.hashworker.subtree_levels`); taken as plain leaves where they do not start
        where the stream is (events were inserted or removed before them) or are not aligned."""
        n = len(hashes)
        aligned = n and first_index % (1 << (n - 1).bit_length()) == 0
        if first_index != self.count or self._pending_hashes or not aligned:
            self.add_leaves(positions, hashes)
            return
        self._block(positions, hashes, {level: (first, nodes) for level, first, nodes in levels})

    def finish(self) -> None:
        """Take in the leaves still waiting for a whole block."""
        self._flush(whole_blocks_only=False)

    # -- what the checks read -----------------------------------------------------------------

    def root(self) -> bytes | None:
        """The root of every leaf seen so far (None for none)."""
        return compact_range_root(self._stack) if self._stack else None

    # -- inside -------------------------------------------------------------------------------

    def _flush(self, *, whole_blocks_only: bool) -> None:
        positions, hashes = self._pending_positions, self._pending_hashes
        start = 0
        while start < len(hashes):
            # The largest aligned piece that can start where the stream is (a whole BLOCK
            # once the stream is at a multiple of it), or, at the end, what is left.
            count = self.count
            piece = BLOCK if count == 0 else min(BLOCK, count & -count)
            if len(hashes) - start < piece and whole_blocks_only:
                break
            end = min(start + piece, len(hashes))
            block = hashes[start:end]
            levels = subtree_levels(block, count, self._min_level)
            self._block(positions[start:end], block,
                        {level: (first, nodes) for level, first, nodes in levels})  # fmt: skip
            start = end
        self._pending_positions = positions[start:]
        self._pending_hashes = hashes[start:]

    def _block(
        self, positions: list[int], hashes: list[bytes], levels: dict[int, tuple[int, list[bytes]]]
    ) -> None:
        start, n = self.count, len(hashes)
        end = start + n
        lo = bisect.bisect_left(self._indices, start)
        hi = bisect.bisect_left(self._indices, end)
        for index in self._indices[lo:hi]:
            self.positions[index] = positions[index - start]
        if self._on_node is not None:
            for level in sorted(levels):
                first, nodes = levels[level]
                for j, node in enumerate(nodes):
                    if (first + j + 1) << level <= self._node_limit:
                        self._on_node(level, first + j, node)

        def perfect(level: int, offset: int) -> bytes:
            """The subtree of 2**level leaves at ``offset`` in this block."""
            if level == 0:
                return hashes[offset]
            known = levels.get(level)
            if known is not None:
                first, nodes = known
                j = ((start + offset) >> level) - first
                if 0 <= j < len(nodes):
                    return nodes[j]
            return perfect_root(hashes[offset : offset + (1 << level)])

        lo = bisect.bisect_right(self._sizes, start)
        hi = bisect.bisect_left(self._sizes, end)
        for size in self._sizes[lo:hi]:  # heads inside this block: the range up to them
            self.roots[size] = compact_range_root(self._stack + _decompose(size - start, perfect))
        offset = 0
        for level, node in _decompose(n, perfect):
            offset += 1 << level
            self._push(level, node, start + offset)
        self.count = end
        if self._sizes[hi : hi + 1] == [end]:
            self.roots[end] = compact_range_root(self._stack)

    def _push(self, level: int, node: bytes, end: int) -> None:
        """Append a complete subtree ending at leaf ``end``; merging completes larger ones."""
        stack = self._stack
        while stack and stack[-1][0] == level:
            node = node_hash(stack.pop()[1], node)
            level += 1
            if self._on_node is not None and level >= self._min_level and end <= self._node_limit:
                self._on_node(level, (end >> level) - 1, node)
        stack.append((level, node))


def _decompose(n: int, perfect: Callable[[int, int], bytes]) -> list[tuple[int, bytes]]:
    """The subtrees, largest first, that ``n`` leaves from an aligned start fall into."""
    out = []
    offset = 0
    for level in range(n.bit_length() - 1, -1, -1):
        if n >> level & 1:
            out.append((level, perfect(level, offset)))
            offset += 1 << level
    return out


class Roots:
    """The recomputed tree as the head checks use it: its size and its root at head sizes."""

    def __init__(self, size: int, roots: dict[int, bytes]) -> None:
        self._size, self._roots = size, roots

    def __len__(self) -> int:
        return self._size

    def root(self, size: int) -> bytes:
        return self._roots[size]


class Positions:
    """The position of the event at a leaf index: those the stream kept, else looked up."""

    def __init__(self, size: int, known: dict[int, int], look_up: Callable[[int], int]) -> None:
        self._size, self._known, self._look_up = size, known, look_up

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int) -> int:
        if not 0 <= index < self._size:
            raise IndexError(index)
        position = self._known.get(index)
        if position is None:
            position = self._known[index] = self._look_up(index)
        return position


class NodeCheck:
    """The stored node cache compared, node by node, with a tree's subtrees as they complete.

    Stored nodes are read a level at a time, in index order, through a cursor of their own;
    :meth:`expect` is called with each complete subtree in index order per level, and
    :meth:`finish` counts every stored node that no subtree matched (a wrong one, one at a
    level or index the tree has none) and reports them as one ``node`` finding.
    """

    def __init__(self, db: Any, cur: Any) -> None:
        self._db, self._cur = db, cur
        self._select = db.sql(
            f"SELECT idx, node FROM {{t}}{NODES} WHERE level = ? AND idx >= ? "
            f"ORDER BY idx LIMIT {NODE_BATCH}"
        )
        self._rows: dict[int, deque[tuple[int, Any]]] = {}
        self._next: dict[int, int] = {}  # the next index to read, per level
        self._done: dict[int, bool] = {}
        self.bad = 0
        self.first_bad: tuple[int, int, int] | None = None  # (first leaf, level, index)

    def expect(self, level: int, index: int, node: bytes) -> None:
        rows = self._rows.get(level)
        if rows is None:
            rows = self._rows[level] = deque()
            self._next[level], self._done[level] = 0, False
        while True:
            if not rows and not self._read(level, rows):
                return
            stored_index, stored = rows[0]
            if stored_index > index:
                return
            rows.popleft()
            if stored_index < index or as_bytes(stored) != node:
                self._bad(level, stored_index)
            if stored_index == index:
                return

    def _read(self, level: int, rows: deque[tuple[int, Any]]) -> bool:
        if self._done[level]:
            return False
        self._cur.execute(self._select, (level, self._next[level]))
        batch = self._cur.fetchall()
        rows.extend((int(i), node) for i, node in batch)
        if batch:
            self._next[level] = int(batch[-1][0]) + 1
        self._done[level] = len(batch) < NODE_BATCH
        return bool(batch)

    def _bad(self, level: int, index: int, count: int = 1) -> None:
        self.bad += count
        candidate = (index << level, level, index)
        if self.first_bad is None or candidate < self.first_bad:
            self.first_bad = candidate

    def finish(self) -> int:
        """Count the stored nodes no subtree matched; return how many nodes are stored."""
        db, cur = self._db, self._cur
        cur.execute(db.sql(f"SELECT level, COUNT(*), MIN(idx) FROM {{t}}{NODES} GROUP BY level"))
        stored = 0
        for level, count, lowest in cur.fetchall():
            level, count, lowest = int(level), int(count), int(lowest)
            stored += count
            rows = self._rows.get(level)
            if rows is None:  # no subtree at this level: every stored node is extra
                self._bad(level, lowest, count)
                continue
            for index, _node in rows:
                self._bad(level, index)
            if not self._done[level]:
                cur.execute(
                    db.sql(f"SELECT COUNT(*), MIN(idx) FROM {{t}}{NODES} "
                           "WHERE level = ? AND idx >= ?"),
                    (level, self._next[level]),
                )  # fmt: skip
                rest, first = cur.fetchone()
                if int(rest):
                    self._bad(level, int(first), int(rest))
        return stored
