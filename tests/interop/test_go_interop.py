"""Go's reference implementation (golang.org/x/mod/sumdb/note and .../tlog) verifies our log.

`verify_tlog` (tests/interop/verify_tlog) opens our checkpoint with note.Open under our verifier
key, authenticates every tile against it with tlog.TileHashReader, hashes every entry of every
bundle to its leaf, and checks inclusion (ProveRecord/CheckRecord) and consistency
(ProveTree/CheckTree, also against an older checkpoint we signed). Sizes 1, 255, 256 and 257 run
on both stores; the 70,000-event log (three tile levels) on SQLite, also through a real
`ledger serve`, and a changed byte in any kind of tile or bundle makes Go fail.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from servers import Process, ledger_env, wait_until

from audit.checkpoint_log import log_verifier
from audit.heads import sign_tree_head
from audit.keys import load_private_key
from audit.note import raw_public_key
from audit.tlog_resources import publish
from ledger.storage import open_ledger
from tests.interop.conftest import fill_log


def vkey_of(key_path: Path) -> str:
    return log_verifier(raw_public_key(load_private_key(key_path).public_key())).vkey()


def run_go(verifier: Path, base: str, vkey: str, old: Path | None = None) -> subprocess.CompletedProcess:
    args = [str(verifier), "-base", base, "-vkey", vkey, *(["-old", str(old)] if old else [])]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("size", [1, 255, 256, 257])
def test_go_verifies_checkpoint_tiles_and_entries(database_url, signing_key, go_verifier, tmp_path, size):
    app = open_ledger(database_url)
    try:
        fill_log(app, max(1, size // 2))
        old = tmp_path / "old-checkpoint"
        old.write_text(sign_tree_head(app)["checkpoint"])
        fill_log(app, size)
        sign_tree_head(app)
        publish(app, tmp_path / "log")
    finally:
        app.close()
    result = run_go(go_verifier, str(tmp_path / "log"), vkey_of(signing_key), old)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"ok {size} ")


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A SQLite log of 70,000 events, signed, published; its key and vkey."""
    from audit.keys import generate_key

    root = tmp_path_factory.mktemp("big")
    key = root / "log-key.pem"
    generate_key(key)
    url = f"sqlite:///{root}/ledger.sqlite3"
    app = open_ledger(url)
    try:
        fill_log(app, 70_000)
        sign_tree_head(app, key_path=key)
        # publish reads the log key from LEDGER_SIGNING_KEY
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("LEDGER_SIGNING_KEY", str(key))
            publish(app, root / "log")
    finally:
        app.close()
    return {"root": root, "url": url, "key": key, "vkey": vkey_of(key), "dir": root / "log"}


def test_go_verifies_a_log_of_70000_from_files_and_from_the_server(big_log, go_verifier):
    files = run_go(go_verifier, str(big_log["dir"]), big_log["vkey"])
    assert files.returncode == 0, files.stderr
    assert files.stdout.startswith("ok 70000 ")
    assert (big_log["dir"] / "tile/0/273.p/112").stat().st_size == 112 * 32
    assert (big_log["dir"] / "tile/1/001.p/17").stat().st_size == 17 * 32
    assert (big_log["dir"] / "tile/2/000.p/1").stat().st_size == 32
    port_env = ledger_env(big_log["url"], LEDGER_SIGNING_KEY=str(big_log["key"]))
    from servers import free_port

    port = free_port()
    server = Process(["serve", "--no-follow", "--host", "127.0.0.1", "--port", str(port),
                      "--server", "waitress"], port_env, big_log["root"], "serve")  # fmt: skip
    base = f"http://127.0.0.1:{port}/tlog"
    try:
        import urllib.request

        def answers() -> bool:
            assert server.alive(), server.output()
            try:
                with urllib.request.urlopen(base + "/checkpoint", timeout=5) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_until(answers, "ledger serve answers /tlog/checkpoint")
        served = run_go(go_verifier, base, big_log["vkey"])
        assert served.returncode == 0, served.stderr + server.output()
    finally:
        server.stop()


@pytest.mark.parametrize(
    "path",
    ["tile/0/000", "tile/0/272", "tile/0/273.p/112", "tile/1/000", "tile/1/001.p/17",
     "tile/2/000.p/1", "tile/entries/000", "tile/entries/273.p/112", "checkpoint"],
)  # fmt: skip
def test_a_changed_byte_in_any_tile_or_bundle_makes_go_fail(big_log, go_verifier, path):
    target = big_log["dir"] / path
    original = target.read_bytes()
    offset = len(original) // 3
    target.write_bytes(original[:offset] + bytes([original[offset] ^ 0x01]) + original[offset + 1:])
    try:
        result = run_go(go_verifier, str(big_log["dir"]), big_log["vkey"])
    finally:
        target.write_bytes(original)
    assert result.returncode == 1, result.stdout
    assert "verify_tlog:" in result.stderr
