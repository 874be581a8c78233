"""Verification of the stored leaves and node cache against the leaves recomputed from events.

Every event has a leaf (the recorder indexes it in the transaction that records it), so an event
without one (``unindexed``), a leaf without an event (``removed``), a leaf that differs from its
event (``altered``) or an event between indexed ones (``inserted``) is a finding naming the
position; a cached node that differs from the tree of the stored leaves is a ``node`` finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from audit.db import LEAVES, as_bytes
from audit.verify_report import Finding, Report
from audit.verify_stream import NodeCheck


def stored_leaf_batches(db: Any, cur: Any, batch: int) -> Iterator[tuple[list[int], list[bytes]]]:
    """The stored leaves, ``(positions, hashes)`` a batch at a time, in leaf order."""
    select = db.sql(
        f"SELECT position, leaf_hash FROM {{t}}{LEAVES} WHERE leaf_index >= ? "
        "ORDER BY leaf_index LIMIT ?"
    )
    done = 0
    while True:
        cur.execute(select, (done, batch))
        rows = cur.fetchall()
        if rows:
            yield [int(position) for position, _ in rows], [as_bytes(leaf) for _, leaf in rows]
        done += len(rows)
        if len(rows) < batch:
            return


def stored_position_at(db: Any, cur: Any) -> Callable[[int], int]:
    """Look up the position a stored leaf names, by its index."""
    select = db.sql(f"SELECT position FROM {{t}}{LEAVES} WHERE leaf_index = ?")

    def look_up(index: int) -> int:
        cur.execute(select, (index,))
        return int(cur.fetchone()[0])

    return look_up


def _each(batches: Iterable[tuple[list[int], list[bytes]]]) -> Iterator[tuple[int, bytes]]:
    for positions, hashes in batches:
        yield from zip(positions, hashes, strict=True)


def compare_leaves(
    report: Report,
    recomputed: Iterable[tuple[list[int], list[bytes]]],
    stored: Iterable[tuple[list[int], list[bytes]]],
    *,
    total: int,
    stored_size: int,
    positions: dict[int, int],
) -> None:
    """Compare the stored leaves with those recomputed from the events, one by one, in order.

    Both come as batches of ``(positions, hashes)``; ``stored`` is read to its end (whoever
    gave it may be building the tree of the stored leaves from it), ``recomputed`` only as far
    as the stored leaves go. The recomputed position at a leaf a finding names is put into
    ``positions``.
    """
    common = min(stored_size, total)
    report.leaves_checked = stored_size
    report.unindexed_events = max(0, total - stored_size)
    ours, theirs = _each(recomputed), _each(stored)
    first: tuple[int, int, int] | None = None  # (leaf, recomputed position, stored position)
    later = 0  # leaves whose hash differs, from the first difference on
    for i in range(common):
        pos, leaf = next(ours)
        stored_pos, stored_leaf = next(theirs)
        if first is None and (leaf != stored_leaf or pos != stored_pos):
            first = (i, pos, stored_pos)
        if first is not None and leaf != stored_leaf:
            later += 1
    beyond = next(theirs, None)  # the stored leaf after the last event, if any
    for _ in theirs:
        pass
    if first is None:
        if beyond is not None:
            i = total
            report.findings.append(
                Finding(
                    "removed",
                    f"the event at position {beyond[0]} (leaf {i}) and every later "
                    f"indexed one are gone: the log indexed {stored_size} events, "
                    f"only {total} remain",
                    position=beyond[0],
                    leaf_index=i,
                )
            )
        return
    i, pos, stored_pos = first
    positions[i] = pos
    if stored_pos == pos:
        finding = Finding(
            "altered",
            f"the event at position {pos} (leaf {i}) differs from what was indexed",
            position=pos,
            leaf_index=i,
        )
    elif pos < stored_pos:
        finding = Finding(
            "inserted",
            f"an event at position {pos} is not in the Merkle log: it was inserted after "
            f"leaf {i} (position {stored_pos}) was indexed",
            position=pos,
            leaf_index=i,
        )
    else:
        finding = Finding(
            "removed",
            f"the event at position {stored_pos} (leaf {i}) is missing",
            position=stored_pos,
            leaf_index=i,
        )
    if later > 1:
        finding.message += f"; {later} leaves differ from there on"
    report.findings.append(finding)


def report_unindexed(report: Report, positions: Any, first: int) -> None:
    """Events after the last leaf that have none: the recorder writes every leaf with its event."""
    count = len(positions) - first
    report.findings.append(
        Finding(
            "unindexed",
            f"{count} event(s) from position {positions[first]} (leaf {first}) on have no leaf "
            "in the Merkle log: the ledger indexes every event in the transaction that records "
            "it, so these were written around it (if this store was made before leaves were "
            "indexed that way, `ledger audit sign` indexes them once)",
            position=positions[first],
            leaf_index=first,
        )
    )


def report_nodes(report: Report, nodes: NodeCheck, positions: Any) -> None:
    """The outcome of comparing the persisted node cache with the tree of the stored leaves
    (``positions``: the position each stored leaf names, by index)."""
    report.nodes_checked += nodes.finish()
    if not nodes.bad or nodes.first_bad is None:
        return
    first_leaf, level, index = nodes.first_bad
    report.findings.append(
        Finding(
            "node",
            f"{nodes.bad} cached Merkle node(s) differ from the tree of the indexed leaves, "
            f"the first covering leaves {first_leaf}..{((index + 1) << level) - 1}",
            position=positions[first_leaf] if first_leaf < len(positions) else None,
            leaf_index=first_leaf,
        )
    )
