"""Verification of the stored leaves and node cache against the leaves recomputed from events.

Every event has a leaf (the recorder indexes it in the transaction that records it), so an event
without one (``unindexed``), a leaf without an event (``removed``), a leaf that differs from its
event (``altered``) or an event between indexed ones (``inserted``) is a finding naming the
position; a cached node that differs from the tree of the stored leaves is a ``node`` finding.
"""

from __future__ import annotations

from typing import Any

from audit.db import LEAVES, as_bytes
from audit.merkle import MerkleTree
from audit.verify_report import Finding, Report


def read_stored_leaves(db: Any, cur: Any, batch: int) -> tuple[list[int], list[bytes]]:
    positions: list[int] = []
    hashes: list[bytes] = []
    select = db.sql(
        f"SELECT position, leaf_hash FROM {{t}}{LEAVES} WHERE leaf_index >= ? "
        "ORDER BY leaf_index LIMIT ?"
    )
    while True:
        cur.execute(select, (len(hashes), batch))
        rows = cur.fetchall()
        for position, leaf in rows:
            positions.append(int(position))
            hashes.append(as_bytes(leaf))
        if len(rows) < batch:
            return positions, hashes



def compare_leaves(
    report: Report,
    stored_positions: list[int],
    stored_hashes: list[bytes],
    positions: list[int],
    hashes: list[bytes],
) -> None:
    common = min(len(stored_hashes), len(hashes))
    report.leaves_checked = len(stored_hashes)
    report.unindexed_events = max(0, len(hashes) - len(stored_hashes))
    if stored_hashes[:common] == hashes[:common] and stored_positions[:common] == positions[:common]:
        if len(stored_hashes) > len(hashes):
            i = len(hashes)
            report.findings.append(
                Finding(
                    "removed",
                    f"the event at position {stored_positions[i]} (leaf {i}) and every later "
                    f"indexed one are gone: the log indexed {len(stored_hashes)} events, "
                    f"only {len(hashes)} remain",
                    position=stored_positions[i],
                    leaf_index=i,
                )
            )
        return
    i = next(
        i for i in range(common)
        if stored_hashes[i] != hashes[i] or stored_positions[i] != positions[i]
    )  # fmt: skip
    stored_pos, pos = stored_positions[i], positions[i]
    later = sum(1 for j in range(i, common) if stored_hashes[j] != hashes[j])
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


def report_unindexed(report: Report, positions: list[int], first: int) -> None:
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


def check_nodes(
    rows: list[tuple], report: Report, tree: MerkleTree, positions: list[int], size: int
) -> None:
    """Compare the persisted node cache (``rows`` of level, index, node) with a tree of the
    stored leaves (``tree``)."""
    if size:
        tree.root(size)  # fills the in-memory cache with every complete subtree
    memory = tree.cache
    bad: list[tuple[int, int]] = []
    report.nodes_checked += len(rows)
    get = memory.get
    for level, index, node in rows:
        level, index = int(level), int(index)
        expected = get(level, index) if (index + 1) << level <= size else None
        if expected is None or (expected != node and expected != as_bytes(node)):
            bad.append((level, index))
    if bad:
        level, index = min(bad, key=lambda li: li[1] << li[0])
        first_leaf = index << level
        report.findings.append(
            Finding(
                "node",
                f"{len(bad)} cached Merkle node(s) differ from the tree of the indexed leaves, "
                f"the first covering leaves {first_leaf}..{((index + 1) << level) - 1}",
                position=positions[first_leaf] if first_leaf < len(positions) else None,
                leaf_index=first_leaf,
            )
        )
