"""``ledger audit monitor URL``: what an auditor runs against a published log (tlog-tiles).

It trusts nothing the log says without checking it:

1. the checkpoint at ``URL/checkpoint`` must carry a valid signature of the log's verifier key
   (``--vkey``, whose name is the origin) — and, with ``--witness VKEY … --quorum K``, valid
   cosignatures of at least K of those witnesses;
2. the tiles must agree with it: the root computed from the served hash tiles equals the
   checkpoint's root;
3. it must extend the last checkpoint this monitor saw (kept in ``--state FILE``): not smaller
   (*truncation*), the same root at the same size and, from the tiles, the old root at the old
   size (*fork* otherwise);
4. every entry since the last run (every entry on the first run, or with ``--recheck``) is
   fetched from the entry bundles and hashed: each leaf must equal its level-0 tile hash
   (*rewritten entry* otherwise), and the leaves, appended to the compact range kept in the
   state, must give the checkpoint's root.

Only when all of that holds is the new state written (to a temporary file, then renamed). The
state keeps every checkpoint seen, signed, so two monitors can compare notes (``--compare``):
two checkpoints of one size with different roots, or one inconsistent with the other's tiles,
are a fork with the two signed checkpoints as its evidence.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.merkle_hash import EMPTY_ROOT, compact_range_root, leaf_hash, node_hash
from audit.monitor_fetch import Fetcher, FetchError, TileReader
from audit.note import NoteError, Verifier, parse_note, parse_vkey
from audit.tiles import TILE_WIDTH, TileError, TileRef, decode_bundle

OK, FOUND, ERROR = 0, 1, 2
#: How many checkpoints a state file remembers.
HISTORY_MAX = 1_000

MESSAGES = {
    "bad_signature": ("检查点签名无效", "the checkpoint's signature does not verify"),
    "not_cosigned": ("见证人联署不足法定数", "fewer valid witness cosignatures than the quorum"),
    "truncation": ("日志被截短", "the log is smaller than a checkpoint seen before"),
    "fork": ("日志分叉", "the log is not consistent with a checkpoint seen before"),
    "tile_mismatch": ("瓦片与检查点不符", "the tiles do not agree with the checkpoint"),
    "rewritten_entry": ("条目被改写", "an entry does not hash to its leaf in the tree"),
    "malformed": ("资源格式错误", "a resource served is malformed"),
}


@dataclass
class Finding:
    code: str
    detail: str

    def text(self) -> str:
        zh, en = MESSAGES[self.code]
        return f"[{self.code}] {zh} / {en}: {self.detail}"


@dataclass
class Report:
    url: str
    origin: str = ""
    tree_size: int | None = None
    previous_size: int | None = None
    entries_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return ERROR if self.error else FOUND if self.findings else OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url, "origin": self.origin, "tree_size": self.tree_size,
            "previous_size": self.previous_size, "entries_checked": self.entries_checked,
            "findings": [{"code": f.code, "detail": f.detail} for f in self.findings],
            "error": self.error, "exit_code": self.exit_code,
        }  # fmt: skip


class MonitorError(Exception):
    """Monitoring could not be done (network, state file, arguments): exit 2."""


# -- the compact range: the hashes of the complete subtrees of a tree, left to right ---------


def frontier_append(frontier: list[tuple[int, bytes]], leaf: bytes) -> None:
    """Append one leaf hash to a compact range of ``(subtree size, hash)`` pairs."""
    frontier.append((1, leaf))
    while len(frontier) > 1 and frontier[-1][0] == frontier[-2][0]:
        (size, right), (_, left) = frontier.pop(), frontier.pop()
        frontier.append((2 * size, node_hash(left, right)))


# -- the state file -------------------------------------------------------------------------


def load_state(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        state["frontier_pairs"] = [(int(s), base64.b64decode(h)) for s, h in state["frontier"]]
        int(state["tree_size"])
        base64.b64decode(state["root_hash"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MonitorError(f"状态文件无法读取 / cannot read the state file {path}: {exc}") from None
    return state


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write the state atomically: a temporary file beside it, flushed, then renamed over it."""
    data = {k: v for k, v in state.items() if k != "frontier_pairs"}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _new_state(origin: str, vkey: str, checkpoint: Checkpoint, note: str,
               frontier: list[tuple[int, bytes]], history: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    seen = {"tree_size": checkpoint.tree_size,
            "root_hash": base64.b64encode(checkpoint.root_hash).decode(), "checkpoint": note}  # fmt: skip
    if not history or history[-1]["checkpoint"] != note:
        history = [*history, seen][-HISTORY_MAX:]
    return {
        "origin": origin, "vkey": vkey, "tree_size": checkpoint.tree_size,
        "root_hash": seen["root_hash"], "checkpoint": note,
        "frontier": [[s, base64.b64encode(h).decode()] for s, h in frontier],
        "history": history,
    }  # fmt: skip


# -- monitoring -----------------------------------------------------------------------------


def _cosignatures_ok(note: str, witnesses: list[Verifier], quorum: int) -> tuple[bool, int]:
    parsed = parse_note(note)
    message = parsed.text.encode()
    known = {(w.name, w.key_id): w for w in witnesses}
    good = {
        sig.name for sig in parsed.signatures
        if (sig.name, sig.key_id) in known
        and known[(sig.name, sig.key_id)].verify(message, sig.signature)
    }  # fmt: skip
    return len(good) >= quorum, len(good)


def monitor(
    url: str, vkey: str, state_path: str | os.PathLike[str], *,
    witnesses: list[Verifier] | None = None, quorum: int = 0, recheck: bool = False,
    compare: list[str] | None = None, fetcher: Fetcher | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:  # fmt: skip
    """Check the log at ``url`` against its key and the state; save the state when all holds."""
    report = Report(url)
    try:
        _monitor(report, url, vkey, Path(state_path), witnesses or [], quorum, recheck,
                 compare or [], fetcher or Fetcher(url), progress)  # fmt: skip
    except (MonitorError, FetchError) as exc:
        report.error = str(exc)
    return report


def _monitor(report: Report, url: str, vkey: str, state_path: Path, witnesses: list[Verifier],
             quorum: int, recheck: bool, compare: list[str], fetcher: Fetcher,
             progress: Callable[[int, int], None] | None) -> None:  # fmt: skip
    try:
        verifier = parse_vkey(vkey)
    except NoteError as exc:
        raise MonitorError(f"验证公钥无效 / not a log verifier key: {exc}") from None
    report.origin = origin = verifier.name
    state = load_state(state_path)
    if state is not None and state.get("origin") != origin:
        raise MonitorError(f"状态文件属于另一日志 / the state file is of {state.get('origin')!r}")
    raw = fetcher.get("checkpoint")
    try:
        note = raw.decode("utf-8")
        checkpoint, _, _ = open_checkpoint(note, [verifier], origin=origin)
    except UnicodeDecodeError:
        report.findings.append(Finding("malformed", "the checkpoint is not UTF-8 text"))
        return
    except NoteError as exc:
        report.findings.append(Finding("bad_signature", f"{exc.code}: {exc}"))
        return
    report.tree_size = size = checkpoint.tree_size
    ok, got = _cosignatures_ok(note, witnesses, quorum)
    if not ok:
        report.findings.append(Finding("not_cosigned", f"{got} of the {quorum} needed"))
    reader = TileReader(fetcher, size)
    old_size, old_root = 0, EMPTY_ROOT
    if state is not None:
        report.previous_size = old_size = int(state["tree_size"])
        old_root = base64.b64decode(state["root_hash"])
    try:
        _check_against_previous(report, reader, checkpoint, old_size, old_root)
        if not report.findings:
            frontier = _check_entries(report, fetcher, reader, checkpoint, state, recheck,
                                      progress)  # fmt: skip
            if not report.findings:
                history = [] if state is None else state.get("history", [])
                save_state(state_path, _new_state(origin, vkey, checkpoint, note, frontier,
                                                  history))  # fmt: skip
        for other in compare:
            _compare(report, reader, verifier, checkpoint, Path(other))
    except TileError as exc:
        report.findings.append(Finding("malformed", str(exc)))


def _check_against_previous(report: Report, reader: TileReader, checkpoint: Checkpoint,
                            old_size: int, old_root: bytes) -> None:  # fmt: skip
    size, root = checkpoint.tree_size, checkpoint.root_hash
    if size < old_size:
        report.findings.append(Finding("truncation",
                               f"the log shows {size} entries; this monitor saw {old_size}"))  # fmt: skip
        return
    if size == old_size and root != old_root:
        report.findings.append(Finding("fork", f"two checkpoints of size {size}, different roots"))
        return
    if reader.root(size) != root:
        report.findings.append(Finding("tile_mismatch", f"the tiles' root at {size} differs"))
        return
    if old_size and reader.root(old_size) != old_root:
        report.findings.append(Finding("fork", f"the tiles' root at {old_size} (seen before) "
                                               "differs from the checkpoint seen then"))  # fmt: skip


def _check_entries(report: Report, fetcher: Fetcher, reader: TileReader, checkpoint: Checkpoint,
                   state: dict[str, Any] | None, recheck: bool,
                   progress: Callable[[int, int], None] | None) -> list[tuple[int, bytes]]:  # fmt: skip
    """Hash every entry from the last size (or from 0); return the new compact range."""
    size = checkpoint.tree_size
    start = 0 if state is None or recheck else int(state["tree_size"])
    frontier = [] if start == 0 else list(state["frontier_pairs"])  # type: ignore[index]
    for bundle_index in range(start // TILE_WIDTH, (size + TILE_WIDTH - 1) // TILE_WIDTH):
        first = bundle_index * TILE_WIDTH
        width = min(TILE_WIDTH, size - first)
        try:
            entries = decode_bundle(fetcher.tile(TileRef(None, bundle_index, width)))
        except TileError as exc:
            report.findings.append(Finding("malformed", f"entry bundle {bundle_index}: {exc}"))
            return frontier
        if len(entries) != width:
            report.findings.append(Finding("malformed", f"entry bundle {bundle_index} holds "
                                                        f"{len(entries)} entries, not {width}"))  # fmt: skip
            return frontier
        leaves = reader.level0(bundle_index, width)
        for offset in range(max(start, first) - first, width):
            computed = leaf_hash(entries[offset])
            if computed != leaves[offset]:
                report.findings.append(Finding("rewritten_entry", f"entry {first + offset}"))
            frontier_append(frontier, computed)
            report.entries_checked += 1
        if progress is not None:
            progress(first + width, size)
    if report.findings:
        return frontier
    if compact_range_root(frontier) != checkpoint.root_hash:
        report.findings.append(Finding("tile_mismatch", "the entries do not hash to the root"))
    return frontier


def _compare(report: Report, reader: TileReader, verifier: Verifier, checkpoint: Checkpoint,
             other_path: Path) -> None:  # fmt: skip
    """Compare with another monitor's state: every signed checkpoint it saw must fit ours."""
    other = load_state(other_path)
    if other is None:
        raise MonitorError(f"没有这个状态文件 / no state file {other_path}")
    for seen in other.get("history", []):
        try:
            theirs, _, _ = open_checkpoint(seen["checkpoint"], [verifier], origin=verifier.name)
        except (NoteError, KeyError):
            continue  # not signed by the log: no evidence of anything
        if theirs.tree_size > checkpoint.tree_size:
            continue  # the other monitor, ahead of this one, checks that one against ours
        if theirs.tree_size == checkpoint.tree_size and theirs.root_hash != checkpoint.root_hash:
            report.findings.append(Finding("fork", f"{other_path} saw another checkpoint of "
                                                   f"size {theirs.tree_size}"))  # fmt: skip
        elif reader.root(theirs.tree_size) != theirs.root_hash:
            report.findings.append(Finding("fork", f"{other_path} saw a checkpoint of size "
                                                   f"{theirs.tree_size} inconsistent with this log"))  # fmt: skip
