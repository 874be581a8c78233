"""`ledger audit monitor`: an auditor's check of the published log, honest and attacked.

The log is published with `ledger audit publish`'s function and served by a plain static HTTP
server, so the tests can play a malicious log operator by changing the files it serves. The
monitor only reads HTTP, so these run on one store (SQLite); the monitor against a log served
from PostgreSQL is in test_witness_three_party.py, on both stores.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.checkpoint_log import log_signer
from audit.heads import sign_tree_head
from audit.keys import load_private_key
from audit.monitor import monitor
from audit.note import parse_note
from audit.tiles import decode_bundle, encode_bundle
from audit.tlog_resources import publish
from tests.audit.conftest import record_history
from tests.audit.witness_fixtures import grow, static_site, truncate


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """One store only (see the module's docstring): overrides the two-store fixture."""
    return f"sqlite:///{tmp_path}/ledger.sqlite3"


@pytest.fixture
def vkey() -> str:
    return log_signer(load_private_key()).vkey()


@pytest.fixture
def site(tmp_path) -> Path:  # type: ignore[no-untyped-def]
    return tmp_path / "site"


@pytest.fixture
def url(site):  # type: ignore[no-untyped-def]
    site.mkdir()
    with static_site(site) as base:
        yield base


def sign_and_publish(app, site: Path, fresh: bool = False) -> int:  # type: ignore[no-untyped-def]
    sign_tree_head(app)
    if fresh:
        shutil.rmtree(site)
        site.mkdir()
    return publish(app, site)["tree_size"]


def codes(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.code for f in report.findings]


def test_an_honest_log_passes_and_only_new_entries_are_checked_again(app, site, url, vkey, tmp_path):
    record_history(app)
    grow(app, 110)  # past one full tile of 256 entries
    first = sign_and_publish(app, site)
    state = tmp_path / "monitor.json"
    report = monitor(url, vkey, state)
    assert (report.exit_code, report.tree_size, report.entries_checked) == (0, first, first)
    assert json.loads(state.read_text())["tree_size"] == first
    grow(app, 20, start=500)
    second = sign_and_publish(app, site)
    report = monitor(url, vkey, state)
    assert (report.exit_code, report.previous_size, report.entries_checked) == (
        0, first, second - first)  # fmt: skip
    assert monitor(url, vkey, state).entries_checked == 0
    assert monitor(url, vkey, state, recheck=True).entries_checked == second


def test_a_checkpoint_signed_by_another_key_is_a_bad_signature(app, site, url, vkey, tmp_path):
    record_history(app)
    size = sign_and_publish(app, site)
    checkpoint = Checkpoint(parse_note((site / "checkpoint").read_text()).text.split("\n")[0],
                            size, bytes(32))  # fmt: skip
    impostor = log_signer(Ed25519PrivateKey.generate())
    (site / "checkpoint").write_text(sign_checkpoint(checkpoint, [impostor]))
    report = monitor(url, vkey, tmp_path / "m.json")
    assert report.exit_code == 1 and codes(report) == ["bad_signature"]
    assert not (tmp_path / "m.json").exists()


def test_a_truncated_log_is_reported_and_the_state_kept(app, site, url, vkey, tmp_path, intruder):
    record_history(app)
    grow(app, 10)
    size = sign_and_publish(app, site)
    state = tmp_path / "m.json"
    assert monitor(url, vkey, state).exit_code == 0
    truncate(intruder, app, size - 5)
    sign_and_publish(app, site, fresh=True)  # the intruder re-signs with the log's key
    report = monitor(url, vkey, state)
    assert report.exit_code == 1 and codes(report) == ["truncation"]
    assert json.loads(state.read_text())["tree_size"] == size


def test_a_truncated_and_regrown_log_is_a_fork(app, site, url, vkey, tmp_path, intruder):
    record_history(app)
    grow(app, 10)
    size = sign_and_publish(app, site)
    state = tmp_path / "m.json"
    assert monitor(url, vkey, state).exit_code == 0
    truncate(intruder, app, size - 5)
    grow(app, 10, start=900)  # other entries where the deleted ones stood
    assert sign_and_publish(app, site, fresh=True) > size
    report = monitor(url, vkey, state)
    assert report.exit_code == 1 and codes(report) == ["fork"]


def test_a_rewritten_entry_is_named_by_its_index(app, site, url, vkey, tmp_path):
    record_history(app)
    grow(app, 10)
    sign_and_publish(app, site)
    bundle = next(p for p in sorted((site / "tile" / "entries").rglob("*")) if p.is_file())
    entries = decode_bundle(bundle.read_bytes())
    entries[7] = entries[7][:-1] + bytes([entries[7][-1] ^ 1])
    bundle.write_bytes(encode_bundle(entries))
    report = monitor(url, vkey, tmp_path / "m.json")
    assert report.exit_code == 1 and codes(report) == ["rewritten_entry"]
    assert report.findings[0].detail == "entry 7"


def test_a_tile_that_disagrees_with_the_checkpoint_is_reported(app, site, url, vkey, tmp_path):
    record_history(app)
    grow(app, 110)
    sign_and_publish(app, site)
    tile = site / "tile" / "1" / "000.p" / "1"
    data = bytearray(tile.read_bytes())
    data[0] ^= 1
    tile.write_bytes(bytes(data))
    report = monitor(url, vkey, tmp_path / "m.json")
    assert report.exit_code == 1 and codes(report) == ["tile_mismatch"]


def test_a_fork_shown_to_two_monitors_is_found_by_comparing_their_states(
    app, site, url, vkey, tmp_path, intruder
):
    """The operator shows monitor A one history and monitor B another of the same size."""
    record_history(app)
    grow(app, 10)
    size = sign_and_publish(app, site)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert monitor(url, vkey, a).exit_code == 0
    truncate(intruder, app, size - 4)
    grow(app, 2, start=700)  # 4 other entries: the same size, another root
    assert sign_and_publish(app, site, fresh=True) == size
    assert monitor(url, vkey, b).exit_code == 0  # B alone cannot tell
    report = monitor(url, vkey, a)  # one monitor seeing both
    assert codes(report) == ["fork"]
    report = monitor(url, vkey, b, compare=[str(a)])
    assert report.exit_code == 1 and codes(report) == ["fork"]
    assert str(a) in report.findings[0].detail


def test_the_command_is_bilingual_and_exits_2_when_the_log_cannot_be_reached(
    app, site, url, vkey, tmp_path, run_cli
):
    record_history(app)
    sign_and_publish(app, site)
    state = str(tmp_path / "m.json")
    ok = run_cli("audit", "monitor", url, "--vkey", vkey, "--state", state)
    assert ok.exit_code == 0 and "日志一致 log consistent" in ok.output
    (site / "checkpoint").write_text("not a note\n")
    bad = run_cli("audit", "monitor", url, "--vkey", vkey, "--state", state, "--json")
    assert bad.exit_code == 1 and json.loads(bad.output)["findings"][0]["code"] == "bad_signature"
    down = run_cli("audit", "monitor", "http://127.0.0.1:9", "--vkey", vkey, "--state", state)
    assert down.exit_code == 2 and "无法连接日志" in down.output
