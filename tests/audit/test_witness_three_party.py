"""The acceptance test of witnessing: the log (`ledger serve`), two witnesses (`ledger witness
serve`), each a real process on its own port, quorum 2, and an auditor's monitor.

A checkpoint gets both cosignatures and is published with them; an intruder with database
access and the log's key then truncates the log and re-signs: the monitor reports it and both
witnesses refuse (409), and when the intruder regrows the log past the witnessed size they
refuse again (422) and keep cosigning nothing.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from audit.checkpoint_log import log_signer
from audit.keys import load_private_key
from audit.note import open_note
from audit.witness.state import WitnessState, init_state
from tests.audit.conftest import record_history
from tests.audit.witness_fixtures import grow, truncate
from tests.servers import Process, free_port, ledger_env, serving, wait_until

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
NAMES = ("renda.songjiang.example/w", "shenji.songjiang.example/w")


def fetch(url: str) -> bytes | None:
    """A resource, or None while it does not exist yet (404)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def monitor(run_cli, tmp_path, base: str, vkey: str, witnesses):  # type: ignore[no-untyped-def]
    """The auditor's `ledger audit monitor` (in this process; it reads the log over HTTP)."""
    args = ["audit", "monitor", f"{base}/tlog", "--vkey", vkey,
            "--state", str(tmp_path / "auditor.json")]  # fmt: skip
    for w in witnesses:
        args += ["--witness", w.signer.vkey()]
    return run_cli(*args)


def receipt_verifies_with_both_cosignatures(run_cli, tmp_path, vkey: str, states) -> None:  # type: ignore[no-untyped-def]
    """A payment's receipt carries both cosignatures, checked by the standard-library script."""
    out = tmp_path / "receipts"
    made = run_cli("audit", "receipt", "D-1", "--out", str(out))
    assert made.exit_code == 0, made.output
    receipt = sorted(out.glob("*.tlog-proof"))[0]
    args = [sys.executable, str(SCRIPTS / "verify_proof.py"), "receipt", str(receipt),
            "--vkey", vkey, "--quorum", "2"]  # fmt: skip
    for state in states:
        args += ["--witness", state.signer.vkey()]
    checked = subprocess.run(args, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def refused(state: WitnessState, status: int) -> bool:
    return any(r["status"] == status for r in state.refusals())


def test_two_witnesses_cosign_and_refuse_a_truncated_log(
    app, database_url, tmp_path, signing_key, intruder, run_cli, monkeypatch
):
    record_history(app)
    vkey = log_signer(load_private_key()).vkey()
    env = ledger_env(database_url, LEDGER_SIGNING_KEY=signing_key,
                     LEDGER_AUDIT_SIGN_INTERVAL_S="1", LEDGER_WITNESS_QUORUM="2",
                     LEDGER_WITNESS_TIMEOUT_S="5")  # fmt: skip
    monkeypatch.setenv("LEDGER_WITNESS_QUORUM", "2")  # for the commands run in this process
    states, processes = [], []
    for name in NAMES:
        state = init_state(name, tmp_path / name.split(".")[0])
        state.add_log(vkey)
        port = free_port()
        processes.append(Process(["witness", "serve", "--port", str(port), "--state",
                                  str(state.directory)], env, tmp_path, name.split(".")[0]))  # fmt: skip
        assert run_cli("audit", "witnesses", "add", "--vkey", state.signer.vkey(), "--url",
                       f"http://127.0.0.1:{port}").exit_code == 0  # fmt: skip
        states.append(state)
    token = app.issue_token("olga", actor="admin")
    try:
        with serving(["--server", "waitress"], env, tmp_path, token) as (base, _server):
            verifiers = [s.signer.verifier() for s in states]

            def cosigned_by_both() -> int | None:
                found = fetch(f"{base}/tlog/checkpoint")
                if found is None:
                    return None  # not signed yet
                note = found.decode()
                _, verified = open_note(note, [log_signer(load_private_key()).verifier(), *verifiers])
                return int(note.split("\n")[1]) if len(verified) == 3 else None

            size = wait_until(cosigned_by_both, "a checkpoint cosigned by both witnesses")
            assert all(s.latest(vkey.split("+")[0]).tree_size == size for s in states)
            checked = monitor(run_cli, tmp_path, base, vkey, states)
            assert checked.exit_code == 0, checked.output
            heads = run_cli("audit", "heads", "--limit", "1")
            assert "联署 cosigned 2/2 (法定数 quorum 2) 已发布 published" in heads.output
            receipt_verifies_with_both_cosignatures(run_cli, tmp_path, vkey, states)

            truncate(intruder, app, size - 3, check=False)  # the server re-signs by itself
            wait_until(lambda: all(refused(s, 409) for s in states), "both witnesses answer 409")
            checked = monitor(run_cli, tmp_path, base, vkey, states)
            assert checked.exit_code == 1 and "[truncation]" in checked.output, checked.output

            grow(app, 5, start=900)  # forged entries past the witnessed size
            wait_until(lambda: all(refused(s, 422) for s in states), "both witnesses answer 422")
            assert all(s.latest(vkey.split("+")[0]).tree_size == size for s in states)
            checked = monitor(run_cli, tmp_path, base, vkey, states)
            assert checked.exit_code == 1 and "[fork]" in checked.output, checked.output
    finally:
        for process in processes:
            process.stop()
