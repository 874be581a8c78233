"""Replay from signed periodic snapshots: the same result as a full replay, and never a forged one.

Every tampering is done as an intruder with database access would: raw SQL around the app.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import eventsourcing.domain
import pytest

from audit.jobs import sign_if_grown
from audit.keys import generate_key, load_private_key
from audit.replay import replay
from audit.replay_snapshots import (
    MISMATCH,
    Snapshot,
    base_for,
    snapshot_message,
    stored_snapshots,
    take_snapshots,
)
from audit.verify import verify
from ledger import commands
from tests import factories as f

T0 = datetime(2025, 6, 1, 1, 0, tzinfo=UTC)
EVERY = 7


class Clock:
    """A controlled clock for the events' recorded time (it may go backwards)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = T0
        monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", lambda: self.now)


def record_history(app: Any, clock: Clock, enterprises: int = 6) -> list[datetime]:
    """Budgets, awards and payments (approved, rejected, reversed), a revocation; the clock
    steps forward an hour per command, and each award is granted three hours before that (as
    a slower concurrent writer would), so timestamps do not rise with the position (they do
    within each aggregate). Returns the instants used."""
    instants = []
    step = 0

    def run(command: dict[str, Any], actor: str = "olga") -> None:
        nonlocal step
        step += 1
        back = command["type"] == commands.GrantAward.type
        clock.now = T0 + timedelta(hours=step) - timedelta(hours=3 if back else 0)
        instants.append(clock.now)
        app.execute(command, actor)

    run(f.budget())
    run(f.budget("B-M06", measure="M06"))
    for i in range(enterprises):
        uscc = f.synthetic_uscc(i)
        run(f.enterprise(uscc))
        run(f.award(f"A-{i}", uscc=uscc, amount_fen=2_000_000))
        run(f.disbursement(f"D-{i}-1", award_reference=f"A-{i}", amount_fen=200_000))
        run(f.approve(f"D-{i}-1"), "ada")
        run(f.disbursement(f"D-{i}-2", award_reference=f"A-{i}", amount_fen=300_000))
        if i % 2:
            reject = {
                "type": commands.RejectDisbursement.type,
                "reference": f"D-{i}-2",
                "reason": "重复",
            }
            run(reject, "ada")
        else:
            run(f.approve(f"D-{i}-2"), "ada")
            run(
                {
                    "type": commands.ReverseDisbursement.type,
                    "reference": f"D-{i}-2",
                    "reason": "退票",
                }
            )
    run({"type": commands.RevokeAward.type, "award_reference": "A-1",
         "decision_ref": "松市监〔2025〕99号", "reason": "不符合条件"})  # fmt: skip
    return instants


def full(app: Any, monkeypatch: pytest.MonkeyPatch, **target: Any) -> dict[str, Any]:
    """A replay from the start of the log (snapshots turned off)."""
    monkeypatch.setenv("LEDGER_REPLAY_SNAPSHOT_EVERY", "0")
    try:
        return replay(app, **target)
    finally:
        monkeypatch.setenv("LEDGER_REPLAY_SNAPSHOT_EVERY", str(EVERY))


def last_position(app: Any) -> int:
    return app.recorder.max_notification_id() or 0


@pytest.fixture
def history(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    monkeypatch.setenv("LEDGER_REPLAY_SNAPSHOT_EVERY", str(EVERY))
    return record_history(app, Clock(monkeypatch))


def test_snapshot_replay_equals_full_replay_at_every_position_and_many_instants(
    app, history, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    end = last_position(app)
    instants = sorted(set(history))
    probes = [T0 - timedelta(hours=1), *instants, *(t + timedelta(minutes=1) for t in instants),
              *(t - timedelta(microseconds=1) for t in instants), T0 + timedelta(days=30)]  # fmt: skip
    expected_positions = {p: full(app, monkeypatch, position=p) for p in range(0, end + 1)}
    expected_instants = {t: full(app, monkeypatch, as_of=t) for t in probes}
    expected_whole = full(app, monkeypatch)

    made = take_snapshots(app)
    assert len(made) >= 4 and [s.tree_size for s in made] == list(
        range(EVERY, EVERY * (len(made) + 1), EVERY)
    )
    used_for_positions = 0
    for p, expected in expected_positions.items():
        assert replay(app, position=p) == expected, p
        used_for_positions += base_for(app, position=p)[0] is not None
    used_for_instants = 0
    for t, expected in expected_instants.items():
        assert replay(app, as_of=t) == expected, t
        assert replay(app, as_of=t.isoformat()) == expected, t
        used_for_instants += base_for(app, instant=t)[0] is not None
    assert replay(app) == expected_whole
    # the snapshots were really used, exactly at and between them
    assert used_for_positions > end // 2
    assert used_for_instants > len(probes) // 3
    # out-of-order timestamps: some snapshot is not usable for an instant after its position's
    assert any(
        s.segment_min_timestamp is not None and before.max_timestamp is not None
        and s.segment_min_timestamp < before.max_timestamp
        for before, s in itertools.pairwise(made)
    )  # fmt: skip
    # nothing due twice; verification recomputes each and finds them right
    assert take_snapshots(app) == []
    report = verify(app)
    assert report.intact, report.findings
    assert report.replay_snapshots_checked == len(made)


def test_snapshot_replay_continues_after_the_newest_snapshot(app, history, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    take_snapshots(app)
    app.execute(f.disbursement("D-late", award_reference="A-0", amount_fen=50_000), "olga")
    assert replay(app) == full(app, monkeypatch)
    assert replay(app, as_of=T0 + timedelta(days=400)) == full(
        app, monkeypatch, as_of=T0 + timedelta(days=400)
    )


def _tamper_state(app: Any, intruder: Any, snapshot: Snapshot) -> None:
    """Change a sum in a stored snapshot and recompute its digest (the signature stays)."""
    table = intruder.table("audit_replay_snapshots")
    (state,) = intruder.execute(f"SELECT state FROM {table} WHERE id = ?", (snapshot.id,))[0]
    data = json.loads(zlib.decompress(bytes(state)))
    data["enterprise"][0][2][0] += 1_000_000  # granted_fen of the first enterprise-year
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    from ledger.guards import drop_guards

    drop_guards(app.store, ["audit_replay_snapshots"])
    intruder.execute(
        f"UPDATE {table} SET state = ?, state_digest = ? WHERE id = ?",
        (zlib.compress(encoded), hashlib.sha256(encoded).hexdigest(), snapshot.id),
    )


def test_a_tampered_snapshot_is_not_used_and_verify_names_it(
    app, history, monkeypatch, intruder
) -> None:  # type: ignore[no-untyped-def]
    made = take_snapshots(app)
    newest = made[-1]
    expected = full(app, monkeypatch)
    at_newest = full(app, monkeypatch, position=newest.position)
    _tamper_state(app, intruder, newest)

    assert replay(app) == expected
    assert replay(app, position=newest.position) == at_newest
    base, _, _ = base_for(app)
    assert base is not None and base.id == made[-2].id  # fell back to the one before
    report = verify(app)
    assert not report.intact
    (finding,) = report.findings
    assert finding.kind == MISMATCH and f"#{newest.id}" in finding.message
    assert "state_digest" in finding.message or "signature" in finding.message


def test_a_forged_snapshot_is_not_used_without_the_key_and_caught_with_it(
    app, history, monkeypatch, intruder, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    made = take_snapshots(app)
    newest = made[-1]
    expected = full(app, monkeypatch)
    table = intruder.table("audit_replay_snapshots")
    columns = ("tree_size, position, root_hash, last_replayed, events, max_timestamp, "
               "previous_position, segment_min_timestamp, state_digest, signature, public_key, "
               "created_at, state")  # fmt: skip
    (row,) = intruder.execute(f"SELECT {columns} FROM {table} WHERE id = ?", (newest.id,))
    data = json.loads(zlib.decompress(bytes(row[12])))
    data["measure"][0][2][8] -= 7  # appropriated_fen
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    forged = Snapshot(0, *row[:8], hashlib.sha256(encoded).hexdigest(), "", "")  # type: ignore[arg-type]

    # an intruder's own key: the row is appended (the table only grows) but never trusted
    other = load_private_key(generate_key(tmp_path / "other.pem"))
    forged.signature = other.sign(snapshot_message(forged)).hex()
    values = (
        *row[:8],
        forged.state_digest,
        forged.signature,
        row[10],
        row[11],
        zlib.compress(encoded),
    )
    intruder.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * 13)})", values)
    assert replay(app) == expected
    assert base_for(app)[0].id == newest.id
    (finding,) = verify(app).findings
    assert finding.kind == MISMATCH and "signature" in finding.message

    # with the log's stolen key the row passes every check at use, but verification recomputes
    # it from the events and names it
    forged.signature = load_private_key().sign(snapshot_message(forged)).hex()
    values = (
        *row[:8],
        forged.state_digest,
        forged.signature,
        row[10],
        row[11],
        zlib.compress(encoded),
    )
    intruder.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * 13)})", values)
    findings = verify(app).findings
    assert len(findings) == 2 and all(x.kind == MISMATCH for x in findings)
    assert any("state_digest" in x.message and "the events give" in x.message for x in findings)


def test_a_snapshot_of_a_rewritten_log_is_not_used(app, history, monkeypatch, intruder) -> None:  # type: ignore[no-untyped-def]
    made = take_snapshots(app)
    expected_at_first = full(app, monkeypatch, position=made[0].position)
    # the intruder rewrites the stored leaves and nodes of the log's first leaf: roots change
    intruder.drop_triggers()
    intruder.execute("UPDATE {leaves} SET leaf_hash = ? WHERE leaf_index = 0", (b"\x00" * 32,))
    intruder.execute("DELETE FROM {nodes}")
    assert replay(app, position=made[0].position) == expected_at_first
    assert base_for(app)[0] is None  # no snapshot's root matches the log any more


def test_replay_snapshot_rows_are_append_only(app, history, intruder) -> None:  # type: ignore[no-untyped-def]
    (first, *_) = take_snapshots(app)
    table = intruder.table("audit_replay_snapshots")
    with pytest.raises(Exception, match="append-only"):
        intruder.execute(f"UPDATE {table} SET events = events + 1 WHERE id = ?", (first.id,))
    with pytest.raises(Exception, match="append-only"):
        intruder.execute(f"DELETE FROM {table} WHERE id = ?", (first.id,))
    (kept, *_) = stored_snapshots(app)
    assert (kept.tree_size, kept.events, kept.state_digest) == (
        first.tree_size,
        first.events,
        first.state_digest,
    )


def test_the_signing_job_and_the_command_store_due_snapshots(app, history, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert sign_if_grown(app) is not None
    taken = stored_snapshots(app)
    assert len(taken) >= 4
    app.execute(f.disbursement("D-more", award_reference="A-0", amount_fen=10_000), "olga")
    done = run_cli("audit", "snapshot", "--every", "3")
    assert done.exit_code == 0 and "replay snapshot at size 3 " in done.output
    assert run_cli("audit", "snapshot", "--every", "3").output.strip() == "no replay snapshot due"
    verified = run_cli("audit", "verify", "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["replay_snapshots_checked"] == len(stored_snapshots(app))
