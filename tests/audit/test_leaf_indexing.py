"""Each event's leaf is indexed in the transaction that records it; heads every minute; junk heads.

Both stores. The intruder here is also the application's own role where it may only INSERT
(into the events table without a leaf, or into audit_tree_heads).
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from audit.heads import sign_tree_head
from audit.jobs import DEFAULT_SIGN_INTERVAL_S, add_jobs, sign_if_grown, sign_interval_s
from audit.log import log_size, update_log
from audit.verify import verify
from ledger.application import SupportLedger
from ledger.importer import import_lines, read_jsonl
from ledger.leaves import row_leaf_hashes
from ledger.storage import open_ledger, store_from_url
from tests import factories as f
from tests.audit.conftest import Intruder, record_history


def stored_leaves(intruder: Intruder) -> list[tuple[int, int, bytes]]:
    return [
        (int(i), int(p), bytes(h))
        for i, p, h in intruder.execute(
            "SELECT leaf_index, position, leaf_hash FROM {leaves} ORDER BY leaf_index"
        )
    ]


def recomputed_leaves(intruder: Intruder) -> list[tuple[int, int, bytes]]:
    rows = intruder.execute(
        "SELECT {pos}, originator_id, originator_version, topic, state FROM {events} "
        "ORDER BY {pos}"
    )
    rows = [(p, oid, v, t, bytes(s)) for p, oid, v, t, s in rows]
    return [(i, p, h) for i, (p, h) in enumerate(row_leaf_hashes(rows))]


def test_every_event_has_its_leaf_as_soon_as_it_is_recorded(ledger, intruder) -> None:  # type: ignore[no-untyped-def]
    leaves = stored_leaves(intruder)
    assert leaves and leaves == recomputed_leaves(intruder)  # no update_log, no signing
    outcome = ledger.execute(f.enterprise(f.USCC_C, name="上海丙公司"), "olga")
    assert outcome.status == "recorded"
    assert stored_leaves(intruder) == recomputed_leaves(intruder)
    duplicate = ledger.execute(f.enterprise(f.USCC_C, name="上海丙公司"), "olga")
    assert duplicate.status != "recorded"
    assert stored_leaves(intruder) == recomputed_leaves(intruder)


def test_a_bulk_import_indexes_every_event_of_every_batch(app, intruder) -> None:  # type: ignore[no-untyped-def]
    lines = [
        json.dumps(f.enterprise(f.synthetic_uscc(n), name=f"上海批量{n}有限公司", actor="olga"))
        for n in range(60)
    ]
    report = import_lines(
        app, read_jsonl(io.StringIO("\n".join(lines) + "\n")), default_actor=None, batch_size=25
    )
    assert not report.rejected
    leaves = stored_leaves(intruder)
    assert len(leaves) == app.log_position() or not app.store.is_postgres
    assert leaves == recomputed_leaves(intruder)
    assert verify(app).intact


def test_events_are_not_recorded_without_their_leaves(app, intruder) -> None:  # type: ignore[no-untyped-def]
    """If the leaf cannot be written, the events of that transaction are rolled back too."""
    before = app.log_position()
    if app.store.is_postgres:
        schema = app.store.postgres_schema
        intruder.execute(
            f'CREATE FUNCTION "{schema}".refuse_leaf() RETURNS trigger LANGUAGE plpgsql AS '
            "$$ BEGIN RAISE EXCEPTION 'no leaf'; END $$"
        )
        intruder.execute(
            'CREATE TRIGGER refuse_leaf BEFORE INSERT ON {leaves} FOR EACH ROW '
            f'EXECUTE FUNCTION "{schema}".refuse_leaf()'
        )
    else:
        intruder.execute(
            "CREATE TRIGGER refuse_leaf BEFORE INSERT ON audit_leaves "
            "BEGIN SELECT RAISE(ABORT, 'no leaf'); END"
        )
    # SQLite reports RAISE(ABORT) as a constraint failure, which the ledger retries as a
    # concurrent write before it gives up; PostgreSQL's exception comes through as it is.
    with pytest.raises(Exception, match=r"no leaf|concurrent-write conflicts"):
        app.execute(f.enterprise(f.USCC_C, name="上海丙公司"), "olga")
    assert app.log_position() == before
    assert stored_leaves(intruder) == recomputed_leaves(intruder)


def _legacy_ledger(database_url: str) -> None:
    """Events recorded with eventsourcing's own persistence module: no leaves at all."""
    store = store_from_url(database_url)
    env = dict(store.env)
    env["PERSISTENCE_MODULE"] = "eventsourcing.postgres" if store.is_postgres else "eventsourcing.sqlite"
    if store.is_postgres:
        import psycopg

        with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{store.postgres_schema}"')
    legacy = SupportLedger(env=env, store=store)  # the users' credentials live in the store
    legacy.define_measures()
    legacy.register_user("admin", ["admin"], actor="")
    record_history(_as_admin_users(legacy))
    legacy.close()


def _as_admin_users(app: Any) -> Any:
    for name, roles in (("olga", ["officer"]), ("oscar", ["officer"]), ("ada", ["approver"])):
        app.register_user(name, roles, actor="admin")
    return app


def test_a_store_made_before_gets_its_leaves_from_the_first_recording(database_url) -> None:  # type: ignore[no-untyped-def]
    _legacy_ledger(database_url)
    app = open_ledger(database_url)
    try:
        intruder = Intruder(app)
        report = verify(app, public_keys=set())
        assert [f.kind for f in report.findings] == ["unindexed"]
        assert "ledger audit sign" in report.findings[0].message
        app.execute(f.enterprise(f.USCC_C, name="上海丙公司"), "olga")
        assert stored_leaves(intruder) == recomputed_leaves(intruder)
        assert verify(app, public_keys=set()).intact
    finally:
        app.close()


def test_a_store_made_before_is_indexed_by_signing(database_url, run_cli) -> None:  # type: ignore[no-untyped-def]
    _legacy_ledger(database_url)
    app = open_ledger(database_url)
    try:
        intruder = Intruder(app)
        assert log_size(app) == 0
        assert run_cli("audit", "sign").exit_code == 0
        assert stored_leaves(intruder) == recomputed_leaves(intruder)
        assert run_cli("audit", "verify").exit_code == 0
    finally:
        app.close()


# -- heads every minute, and only when grown -------------------------------------------------------


def test_heads_are_signed_every_minute_while_the_log_grows(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    assert DEFAULT_SIGN_INTERVAL_S == 60
    monkeypatch.delenv("LEDGER_AUDIT_SIGN_INTERVAL_S", raising=False)
    assert sign_interval_s() == 60
    monkeypatch.setenv("LEDGER_AUDIT_SIGN_INTERVAL_S", "15")
    assert sign_interval_s() == 15
    monkeypatch.setenv("LEDGER_AUDIT_SIGN_INTERVAL_S", "soon")
    with caplog.at_level(logging.ERROR, logger="audit.jobs"):
        assert sign_interval_s() == 60
    assert "LEDGER_AUDIT_SIGN_INTERVAL_S" in caplog.text


def test_the_worker_signs_every_60_seconds_by_default(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from apscheduler.schedulers.background import BackgroundScheduler

    monkeypatch.delenv("LEDGER_AUDIT_SIGN_INTERVAL_S", raising=False)
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, app)
    job = scheduler.get_job("audit-sign")
    assert job.trigger.interval.total_seconds() == 60


def test_sign_if_grown_signs_only_when_the_log_grew(ledger, intruder) -> None:  # type: ignore[no-untyped-def]
    first = sign_if_grown(ledger)
    assert first is not None and first["tree_size"] == ledger.log_position()
    assert sign_if_grown(ledger) is None
    assert sign_if_grown(ledger) is None
    ledger.execute(f.enterprise(f.USCC_C, name="上海丙公司"), "olga")
    second = sign_if_grown(ledger)
    assert second is not None and second["tree_size"] > first["tree_size"]
    assert len(intruder.execute("SELECT id FROM {heads}")) == 2


# -- junk rows in audit_tree_heads -------------------------------------------------------------------


def _insert_junk_head(intruder: Intruder, tree_size: int) -> int:
    intruder.execute(
        "INSERT INTO {heads} (tree_size, root_hash, timestamp, signature, public_key) "
        "VALUES (?, ?, ?, ?, ?)",
        (tree_size, "ab" * 32, "2025-06-30T08:00:00.000000Z", "cd" * 64, "ef" * 32),
    )  # allowed with the triggers in place: the application's role may INSERT here
    return int(intruder.execute("SELECT MAX(id) FROM {heads}")[0][0])


def test_a_junk_head_row_is_named_and_never_blocks_later_heads(ledger, intruder, run_cli) -> None:  # type: ignore[no-untyped-def]
    sign_tree_head(ledger)
    junk = _insert_junk_head(intruder, 10**9)  # claims to cover far more than the log
    ledger.execute(f.enterprise(f.USCC_C, name="上海丙公司"), "olga")
    later = sign_if_grown(ledger)
    assert later is not None, "a junk row must not stop the signing of genuine heads"

    result = run_cli("audit", "verify", "--json", "--no-record")
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert [(x["kind"], x["head_id"]) for x in report["findings"]] == [("head_signature", junk)]
    assert report["heads_checked"] == 3  # the two genuine heads were checked and hold

    ignored = run_cli("audit", "verify", "--json", "--no-record", "--ignore-head", str(junk))
    assert ignored.exit_code == 0, ignored.stdout
    assert json.loads(ignored.stdout)["ignored_heads"] == [junk]


def test_a_head_row_copied_with_another_key_beside_it_is_not_trusted(ledger, intruder, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A row signed by some other key, with that key stored beside it, is still junk."""
    from audit.keys import generate_key

    other = tmp_path / "intruder-key.pem"
    generate_key(other)
    forged = sign_tree_head(ledger, key_path=other)
    result = run_cli("audit", "verify", "--json", "--no-record")
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert [(x["kind"], x["head_id"]) for x in report["findings"]] == [("head_signature", forged["id"])]


# -- the head file of --against ----------------------------------------------------------------------


def test_against_takes_the_whole_heads_listing_or_one_head(ledger, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sign_tree_head(ledger)
    ledger.execute(f.enterprise(f.USCC_C, name="上海丙公司"), "olga")
    sign_tree_head(ledger)
    listing = run_cli("audit", "heads", "--json").stdout
    every = tmp_path / "heads.json"
    every.write_text(listing)
    one = tmp_path / "head.json"
    one.write_text(json.dumps(json.loads(listing)[0]))
    lines = tmp_path / "heads.jsonl"
    lines.write_text("".join(json.dumps(h) + "\n" for h in json.loads(listing)))
    for path, count in ((every, 2), (one, 1), (lines, 2)):
        result = run_cli("audit", "verify", "--json", "--no-record", "--against", str(path))
        assert result.exit_code == 0, result.stdout + result.stderr
        assert json.loads(result.stdout)["against_checked"] == count


def test_against_refuses_a_head_no_trusted_key_signed(ledger, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    head = sign_tree_head(ledger)
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(dict(head, tree_size=head["tree_size"] + 5)))
    result = run_cli("audit", "verify", "--no-record", "--against", str(forged))
    assert result.exit_code == 2
    assert "signature of a trusted key" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all {", "not JSON"),
        ("[]", "no tree head"),
        ('{"tree_size": "10"}', "tree_size"),
        ('{"tree_size": 3, "root_hash": "zz"}', "root_hash"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_against_refuses_a_malformed_file_with_a_clear_message(
    ledger, run_cli, tmp_path, content: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = run_cli("audit", "verify", "--no-record", "--against", str(path))
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_update_log_still_brings_the_node_cache_up_to_date(ledger, intruder) -> None:  # type: ignore[no-untyped-def]
    assert update_log(ledger) == len(stored_leaves(intruder))
    assert intruder.execute("SELECT COUNT(*) FROM {nodes}")[0][0] > 0


def test_a_proof_is_made_against_the_latest_genuine_head_not_a_junk_row(ledger, intruder) -> None:  # type: ignore[no-untyped-def]
    from audit.proofs import inclusion_proof

    head = sign_tree_head(ledger)
    ledger.execute(f.enterprise(f.USCC_C, name="上海丙公司"), "olga")
    _insert_junk_head(intruder, head["tree_size"] + 1)  # a size the log holds, a bogus root
    proof = inclusion_proof(ledger, stored_leaves(intruder)[3][1])
    assert proof["tree_size"] == head["tree_size"] and proof["root_hash"] == head["root_hash"]
