"""Verification of the signed tree heads: those stored beside the log, and those kept outside it.

A stored head row whose signature does not verify under a trusted key is reported (kind
``head_signature``) and otherwise ignored, so later genuine heads still verify. A genuine head
whose root the recomputed events no longer match is reported as ``head_root``; one that vouches
for more events than remain as ``head_beyond_log``. Heads kept outside the store (``verify
--against``) detect truncation, rollback and wipes (``truncated``, ``rewritten``,
``head_missing``).
"""

from __future__ import annotations

from typing import Any

from audit.merkle import EMPTY_ROOT, MerkleTree
from audit.verify_report import Finding, Report


def _root_hex(tree: MerkleTree, size: int) -> str:
    return (tree.root(size) if size else EMPTY_ROOT).hex()


def _junk_head(head_id: int, size: int) -> Finding:
    return Finding(
        "head_signature",
        f"tree head row #{head_id} (size {size}) does not carry a valid signature "
        "of a trusted key: it was altered, or inserted by someone without the "
        "signing key (a junk row); it vouches for nothing and later heads are "
        f"checked without it (once investigated, --ignore-head {head_id} leaves it "
        "out)",
        head_id=head_id,
        tree_size=size,
    )


def _head_root_finding(
    head_id: int, size: int, positions: list[int], good_size: int, leaf_diff: int | None
) -> Finding:
    """A genuine head whose root the events no longer match: at ``leaf_diff`` where the stored
    leaves named the first difference (inside the head), else somewhere after ``good_size``, the
    largest size a valid head vouches for."""
    if leaf_diff is not None:
        return Finding(
            "head_root",
            f"the events no longer hash to the root signed in tree head #{head_id} "
            f"(size {size}), as the difference at leaf {leaf_diff} implies",
            position=positions[leaf_diff] if leaf_diff < len(positions) else None,
            leaf_index=leaf_diff,
            head_id=head_id,
            tree_size=size,
        )
    low = positions[good_size] if good_size < len(positions) else None
    high = positions[size - 1]
    return Finding(
        "head_root",
        f"the events no longer hash to the root signed in tree head #{head_id} "
        f"(size {size}): something between positions {low} and {high} was "
        "rewritten, with its indexed leaves",
        position=low,
        leaf_index=good_size,
        head_id=head_id,
        tree_size=size,
    )


def check_heads(
    report: Report,
    heads: list[dict[str, Any]],
    signed: dict[int, bool],
    tree: MerkleTree,
    positions: list[int],
    stored_positions: list[int],
    leaf_diff: int | None,
) -> None:
    """``signed``: whether each head (by ``id()``) carries a valid signature of a trusted key."""
    good_size = 0  # the largest size a valid head vouches for so far
    for head in sorted(heads, key=lambda h: (h["tree_size"], h["id"])):
        report.heads_checked += 1
        size, head_id = head["tree_size"], head["id"]
        if not signed[id(head)]:
            report.findings.append(_junk_head(head_id, size))
            continue
        if size > len(tree):
            i = len(tree)
            position = stored_positions[i] if i < len(stored_positions) else None
            report.findings.append(
                Finding(
                    "head_beyond_log",
                    f"tree head #{head_id} vouches for {size} events but only {len(tree)} remain",
                    position=position,
                    leaf_index=i,
                    head_id=head_id,
                    tree_size=size,
                )
            )
            continue
        if _root_hex(tree, size) != head["root_hash"]:
            explained = leaf_diff is not None and leaf_diff < size
            report.findings.append(
                _head_root_finding(
                    head_id, size, positions, good_size, leaf_diff if explained else None
                )
            )
            if not explained:  # a rewritten range: this head vouches for nothing
                continue
        good_size = max(good_size, size)


def _head_key(head: dict[str, Any]) -> tuple:
    return (
        int(head["tree_size"]),
        str(head["root_hash"]).lower(),
        str(head["timestamp"]),
        str(head["signature"]).lower(),
    )


def _matching_sizes(
    kept: list[dict[str, Any]], genuine: list[dict[str, Any]], tree: MerkleTree
) -> list[int]:
    """The sizes of the genuine heads, stored or kept, whose roots the events still match."""
    matching = [0]
    for head in [*kept, *genuine]:
        size = int(head["tree_size"])
        if size <= len(tree) and _root_hex(tree, size) == str(head["root_hash"]).lower():
            matching.append(size)
    return matching


def check_kept(
    report: Report,
    kept: list[dict[str, Any]],
    heads: list[dict[str, Any]],
    signed: dict[int, bool],
    tree: MerkleTree,
    positions: list[int],
    leaf_diff: int | None,
) -> None:
    """Does the store still contain each head kept outside it (signatures checked already)?

    Where the stored leaves named the first differing leaf (``leaf_diff``), that is the first
    bad position. Otherwise it is bounded below by the largest genuine head — stored or kept —
    whose root the recomputed events still match: every genuine head is a prefix of the same
    append-only log, so the events agree with the kept head at least that far.
    """
    genuine = [h for h in heads if signed.get(id(h))]
    stored = {_head_key(h) for h in genuine}
    matching = _matching_sizes(kept, genuine, tree)
    for head in kept:
        report.against_checked += 1
        size = int(head["tree_size"])
        label = f"the kept tree head of size {size} signed at {head['timestamp']}"
        if size > len(tree):
            good = max(m for m in matching if m <= len(tree))
            report.findings.append(
                Finding(
                    "truncated",
                    f"{label} vouches for {size} events but the store holds only {len(tree)}: "
                    f"the log was truncated or wiped; leaf {len(tree)} (of {size}) on is gone"
                    + (f"; only the first {good} events are still vouched for by a genuine head"
                       if good < len(tree) else ""),
                    leaf_index=len(tree),
                    tree_size=size,
                )
            )  # fmt: skip
        elif _root_hex(tree, size) != str(head["root_hash"]).lower():
            good = max(m for m in matching if m < size)
            if leaf_diff is not None and leaf_diff < size:
                good = leaf_diff
            report.findings.append(
                Finding(
                    "rewritten",
                    f"the first {size} stored events no longer hash to the root of {label}: "
                    f"the log was rolled back or rewritten between positions {positions[good]} "
                    f"(leaf {good}) and {positions[size - 1]}",
                    position=positions[good],
                    leaf_index=good,
                    tree_size=size,
                )
            )
        if _head_key(head) not in stored:
            report.findings.append(
                Finding(
                    "head_missing",
                    f"{label} is not among the stored tree heads: heads were deleted",
                    tree_size=size,
                )
            )
