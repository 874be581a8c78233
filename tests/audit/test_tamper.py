"""`ledger audit verify` names the first position an intruder changed, on both stores.

Every tampering is done as an intruder with database access would: raw SQL, with the append-only
triggers dropped first. Verification must exit 1 and name the right position; an untouched
store exits 0; with the triggers in place the same statements fail.
"""

from __future__ import annotations

import json

import pytest

from audit.heads import sign_tree_head
from audit.verify import verify
from tests.audit.test_parallel_verify import wait_for_a_worker


@pytest.fixture(autouse=True, params=["one process", "workers"])
def hashing(request, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    """Every tampering is also verified with the log split among worker processes (SQLite)."""
    if request.param == "workers":
        if request.getfixturevalue("database_url").startswith("postgresql"):
            pytest.skip("workers hash SQLite logs only")
        import audit.verify_workers

        monkeypatch.setattr(audit.verify_workers, "PARALLEL_MIN_EVENTS", 0)
        monkeypatch.setattr(audit.verify_workers, "ALIGN_LEVEL", 2)
        monkeypatch.setenv("LEDGER_AUDIT_WORKERS", "3")
        wait_for_a_worker(monkeypatch)
    return str(request.param)


@pytest.fixture
def signed(ledger):  # type: ignore[no-untyped-def]
    """A ledger with history and a signed tree head covering all of it."""
    sign_tree_head(ledger)
    return ledger


def report_of(run_cli) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    result = run_cli("audit", "verify", "--json")
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout)


def test_an_untouched_store_verifies_as_intact(signed, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, report = report_of(run_cli)
    assert code == 0, report
    assert report["intact"] and report["events_checked"] == signed.log_position()
    assert report["heads_checked"] == 1


def test_changing_one_byte_of_an_event_is_named(signed, intruder, run_cli) -> None:  # type: ignore[no-untyped-def]
    intruder.drop_triggers()
    position = 20
    (state,) = intruder.execute("SELECT state FROM {events} WHERE {pos} = ?", (position,))[0]
    state = bytearray(state)
    index = state.index(b"0")
    state[index] = ord("9")  # e.g. one digit of an amount
    intruder.execute("UPDATE {events} SET state = ? WHERE {pos} = ?", (bytes(state), position))
    code, report = report_of(run_cli)
    assert code == 1
    assert report["first_position"] == position
    assert report["findings"][0]["kind"] == "altered"


def test_deleting_an_event_is_named(signed, intruder, run_cli) -> None:  # type: ignore[no-untyped-def]
    intruder.drop_triggers()
    intruder.execute("DELETE FROM {events} WHERE {pos} = ?", (25,))
    code, report = report_of(run_cli)
    assert code == 1
    assert report["first_position"] == 25
    assert report["findings"][0]["kind"] == "removed"


def test_deleting_the_last_events_is_named(signed, intruder, run_cli) -> None:  # type: ignore[no-untyped-def]
    intruder.drop_triggers()
    last = signed.log_position()
    intruder.execute("DELETE FROM {events} WHERE {pos} >= ?", (last - 2,))
    code, report = report_of(run_cli)
    assert code == 1
    assert report["first_position"] == last - 2


def test_inserting_a_forged_event_is_named(signed, intruder, run_cli) -> None:  # type: ignore[no-untyped-def]
    intruder.drop_triggers()
    # A forged copy of a real payment approval, slipped in before every real event.
    _, oid, _, topic, state = intruder.execute(
        "SELECT {pos}, originator_id, originator_version, topic, state FROM {events} "
        "WHERE {pos} = ?",
        (30,),
    )[0]
    intruder.execute(
        "INSERT INTO {events} (originator_id, originator_version, topic, state, {pos}) "
        "VALUES (?, ?, ?, ?, ?)",
        (oid, 999, topic, state, 0),
    )
    code, report = report_of(run_cli)
    assert code == 1
    assert report["first_position"] == 0
    assert report["findings"][0]["kind"] == "inserted"


def test_swapping_two_events_is_named(signed, intruder, run_cli) -> None:  # type: ignore[no-untyped-def]
    intruder.drop_triggers()
    rows = {
        p: intruder.execute("SELECT topic, state FROM {events} WHERE {pos} = ?", (p,))[0]
        for p in (22, 27)
    }
    for p, q in ((22, 27), (27, 22)):
        intruder.execute(
            "UPDATE {events} SET topic = ?, state = ? WHERE {pos} = ?", (*rows[q], p)
        )
    code, report = report_of(run_cli)
    assert code == 1
    assert report["first_position"] == 22


def test_altering_a_tree_head_is_named(signed, intruder, run_cli) -> None:  # type: ignore[no-untyped-def]
    intruder.drop_triggers()
    intruder.execute("UPDATE {heads} SET root_hash = ?", ("ab" * 32,))
    code, report = report_of(run_cli)
    assert code == 1
    (finding,) = report["findings"]
    assert finding["kind"] == "head_signature"
    assert finding["head_id"] == 1 and finding["tree_size"] == signed.log_position()


def test_rewriting_events_and_their_leaves_together_is_caught_by_the_signed_head(
    signed, intruder, run_cli
) -> None:  # type: ignore[no-untyped-def]
    intruder.drop_triggers()
    (state,) = intruder.execute("SELECT state FROM {events} WHERE {pos} = ?", (20,))[0]
    intruder.execute(
        "UPDATE {events} SET state = ? WHERE {pos} = ?", (bytes(state) + b" ", 20)
    )
    intruder.execute("DELETE FROM {leaves}")  # and re-index the forged history
    code, report = report_of(run_cli)
    assert code == 1
    kinds = {f["kind"] for f in report["findings"]}
    assert "head_root" in kinds


def test_the_append_only_triggers_refuse_update_and_delete(signed, intruder) -> None:  # type: ignore[no-untyped-def]
    statements = [
        ("UPDATE {events} SET state = state WHERE {pos} = ?", (20,)),
        ("DELETE FROM {events} WHERE {pos} = ?", (20,)),
        ("UPDATE {heads} SET root_hash = ?", ("00" * 32,)),
        ("DELETE FROM {heads}", ()),
        ("DELETE FROM {leaves}", ()),
    ]
    if signed.store.is_postgres:
        statements += [("TRUNCATE {events}", ()), ("TRUNCATE {heads}", ())]
    for sql, params in statements:
        with pytest.raises(Exception, match="append-only"):
            intruder.execute(sql, params)
    assert verify(signed).intact


def test_verify_is_an_operational_error_without_a_trusted_key(signed, run_cli, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LEDGER_SIGNING_KEY", str(tmp_path / "nowhere.pem"))
    result = run_cli("audit", "verify")
    assert result.exit_code == 2
    assert "public key" in result.stderr
