"""Signed tree heads and proofs from the CLI, checked by scripts/verify_proof.py as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit.heads import latest_heads, sign_tree_head
from audit.log import root_hash, update_log
from audit.merkle import MerkleTree, verify_consistency, verify_inclusion
from audit.proofs import consistency_proof, inclusion_proof
from audit.verify import verify
from tests import factories as f

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_proof.py"


def check(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=60
    )


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_the_stored_log_has_the_root_of_a_tree_rebuilt_from_scratch(ledger) -> None:  # type: ignore[no-untyped-def]
    from audit.db import audit_db
    from audit.log import read_events
    from ledger.leaves import row_leaf_hashes

    update_log(ledger, batch=7)  # many small batches
    db = audit_db(ledger)
    with db.read() as cur:
        rows = read_events(db, cur, 0, 10_000)
    assert len(rows) == ledger.log_position()
    assert root_hash(ledger) == MerkleTree.from_leaf_hashes(h for _, h in row_leaf_hashes(rows)).root()


def test_growing_the_log_keeps_every_earlier_root_and_proof_valid(ledger) -> None:  # type: ignore[no-untyped-def]
    first = sign_tree_head(ledger)
    ledger.execute(f.award("A-9", amount_fen=1_000_000), "olga")
    second = sign_tree_head(ledger)
    assert second["tree_size"] > first["tree_size"]
    proof = consistency_proof(ledger, first["tree_size"], second["tree_size"])
    assert proof["first_root"] == first["root_hash"]
    assert proof["second_root"] == second["root_hash"]
    assert verify_consistency(
        first["tree_size"], second["tree_size"], bytes.fromhex(first["root_hash"]),
        bytes.fromhex(second["root_hash"]), [bytes.fromhex(h) for h in proof["consistency_path"]],
    )  # fmt: skip
    for position in range(1, ledger.log_position() + 1):
        p = inclusion_proof(ledger, position)
        assert p["tree_size"] == second["tree_size"]
        assert verify_inclusion(
            bytes.fromhex(p["leaf_hash"]), p["leaf_index"], p["tree_size"],
            [bytes.fromhex(h) for h in p["audit_path"]], bytes.fromhex(p["root_hash"]),
        )  # fmt: skip
    old = inclusion_proof(ledger, 3, tree_size=first["tree_size"])
    assert old["root_hash"] == first["root_hash"]
    assert [h["id"] for h in latest_heads(ledger, 10)] == [second["id"], first["id"]]


def test_signing_only_when_grown_signs_nothing_on_an_unchanged_log(ledger) -> None:  # type: ignore[no-untyped-def]
    assert sign_tree_head(ledger, only_if_grown=True) is not None
    assert sign_tree_head(ledger, only_if_grown=True) is None


def test_verify_proof_script_accepts_cli_proofs_and_rejects_tampered_ones(
    ledger, run_cli, signing_key, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    first = json.loads(run_cli("audit", "sign", "--json").stdout)
    ledger.execute(f.award("A-9", amount_fen=1_000_000), "olga")
    assert run_cli("audit", "sign").exit_code == 0
    heads = json.loads(run_cli("audit", "heads", "--json").stdout)
    second = heads[0]
    public_key = signing_key + ".pub"
    head1, head2 = write(tmp_path / "h1.json", first), write(tmp_path / "h2.json", second)

    result = run_cli("audit", "proof", "5", "--json")
    assert result.exit_code == 0, result.output
    proof = json.loads(result.stdout)
    proof_file = write(tmp_path / "proof.json", proof)
    ok = check("inclusion", proof_file, "--head", head2, "--public-key", public_key)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    result = run_cli("audit", "consistency", str(first["tree_size"]), str(second["tree_size"]), "--json")
    consistency_file = write(tmp_path / "consistency.json", json.loads(result.stdout))
    ok = check("consistency", consistency_file, "--first-head", head1, "--second-head", head2,
               "--public-key", public_key)  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert check("head", head1, "--public-key", public_key).returncode == 0

    tampered = dict(proof, leaf_hash=("0" if proof["leaf_hash"][0] != "0" else "1") + proof["leaf_hash"][1:])
    bad = check("inclusion", write(tmp_path / "bad.json", tampered), "--head", head2)
    assert bad.returncode == 1 and "FAILED" in bad.stdout + bad.stderr
    forged_head = write(tmp_path / "forged.json", dict(second, tree_size=second["tree_size"] + 1))
    assert check("head", forged_head, "--public-key", public_key).returncode == 1


def test_proof_of_an_unknown_position_is_an_error(ledger, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("audit", "proof", "999999")
    assert result.exit_code == 2
    assert "not in the Merkle log" in result.stderr


def test_keygen_refuses_to_replace_a_key(run_cli, signing_key) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("audit", "keygen")
    assert result.exit_code == 2 and "refusing" in result.stderr
    assert len(Path(signing_key + ".pub").read_text().strip()) == 64


def test_the_nightly_verification_is_kept_for_the_web_view(ledger) -> None:  # type: ignore[no-untyped-def]
    from audit.jobs import sign_if_grown, verify_and_record
    from audit.verify import last_verification

    assert last_verification(ledger) is None
    assert sign_if_grown(ledger) is not None
    assert verify_and_record(ledger) == 0
    last = last_verification(ledger)
    assert last["exit_code"] == 0 and last["intact"] and last["heads_checked"] == 1


def test_the_worker_gets_both_jobs_with_one_instance_each(app) -> None:  # type: ignore[no-untyped-def]
    from apscheduler.schedulers.background import BackgroundScheduler

    from audit.jobs import add_jobs

    scheduler = BackgroundScheduler()
    add_jobs(scheduler, app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"audit-sign", "audit-verify"}
    assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())


@pytest.mark.parametrize("batch", [1, 3])
def test_verify_reads_in_batches_of_any_size(ledger, batch) -> None:  # type: ignore[no-untyped-def]
    sign_tree_head(ledger)
    report = verify(ledger, batch=batch)
    assert report.intact, report.findings
    assert report.events_checked == ledger.log_position()
