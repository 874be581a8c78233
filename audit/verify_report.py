"""What a verification found: :class:`Finding` and :class:`Report` (see :mod:`audit.verify`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

INTACT = 0
TAMPERED = 1
OPERATIONAL_ERROR = 2


class VerificationError(RuntimeError):
    """Verification could not be carried out (not: the log was found altered)."""


@dataclass
class Finding:
    """One thing that differs: what kind, where, and a sentence saying so."""

    #: altered | removed | inserted | unindexed | head_signature | head_root | head_beyond_log |
    #: node | truncated | rewritten | head_missing (the last three: against a head kept outside)
    #: | replay_snapshot_mismatch
    kind: str
    message: str
    position: int | None = None
    leaf_index: int | None = None
    head_id: int | None = None
    tree_size: int | None = None


@dataclass
class Report:
    """The outcome of one verification."""

    started_at: str
    finished_at: str = ""
    duration_s: float = 0.0
    events_checked: int = 0
    leaves_checked: int = 0
    heads_checked: int = 0
    nodes_checked: int = 0
    unindexed_events: int = 0
    against_checked: int = 0
    replay_snapshots_checked: int = 0
    ignored_heads: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        return INTACT if self.intact else TAMPERED

    @property
    def first_position(self) -> int | None:
        """The first log position found to differ (None if intact or only a head differs)."""
        positions = [f.position for f in self.findings if f.position is not None]
        return min(positions) if positions else None

    @property
    def first_leaf_index(self) -> int | None:
        """The first leaf index found to differ (also where no position can be named)."""
        indexes = [f.leaf_index for f in self.findings if f.leaf_index is not None]
        return min(indexes) if indexes else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            intact=self.intact,
            exit_code=self.exit_code,
            first_position=self.first_position,
            first_leaf_index=self.first_leaf_index,
        )
        return data

    def summary(self) -> str:
        """One line for people."""
        if self.intact:
            return (
                f"intact: {self.events_checked} events, {self.heads_checked} signed tree heads "
                f"and {self.nodes_checked} cached nodes check out"
                + (f"; the store contains the {self.against_checked} head(s) kept outside it"
                   if self.against_checked else "")
                + (f" ({len(self.ignored_heads)} junk head row(s) ignored as asked)"
                   if self.ignored_heads else "")
            )  # fmt: skip
        first, leaf = self.first_position, self.first_leaf_index
        if first is not None:
            where = f"first differing position: {first}"
        elif leaf is not None:
            where = f"first differing leaf: {leaf} (its event is gone)"
        else:
            where = "see findings"
        return f"TAMPERED: {len(self.findings)} finding(s); {where}"
