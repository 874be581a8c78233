"""Fixtures for the interoperability tests: Go's reference verifier, built offline, and logs of
exact sizes made quickly."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from audit.keys import generate_key

GO_SOURCE = Path(__file__).resolve().parent / "verify_tlog"
#: Debian's golang-golang-x-mod-dev puts golang.org/x/mod here (scripts/ci-system-deps).
GOPATH = "/usr/share/gocode"
FILLER_TOPIC = "tests.interop:Filler"


@pytest.fixture(scope="session")
def go_verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/interop/verify_tlog built with Debian's Go and x/mod sources (no network).

    A missing Go toolchain or x/mod source is an error, not a skip: scripts/ci-system-deps
    installs them."""
    go = shutil.which("go")
    if go is None or not (Path(GOPATH) / "src/golang.org/x/mod/sumdb/tlog").is_dir():
        pytest.fail("Go and golang.org/x/mod are needed: run scripts/ci-system-deps "
                    "(Debian packages golang-go and golang-golang-x-mod-dev)")  # fmt: skip
    out = tmp_path_factory.mktemp("go") / "verify_tlog"
    env = {**os.environ, "GOPATH": GOPATH, "GO111MODULE": "off", "GOFLAGS": "", "CGO_ENABLED": "0"}
    if not os.access(Path.home(), os.W_OK):  # else Go's own build cache (~/.cache/go-build)
        env["GOCACHE"] = str(out.parent / "cache")
    subprocess.run([go, "build", "-o", str(out), "."], cwd=GO_SOURCE, env=env, check=True,
                   capture_output=True, timeout=600)  # fmt: skip
    return out


@pytest.fixture
def signing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keys" / "log-key.pem"
    generate_key(path)
    monkeypatch.setenv("LEDGER_SIGNING_KEY", str(path))
    return path


def fill_log(app: Any, size: int, batch: int = 5_000) -> None:
    """Append stored events straight to the store until the log holds ``size`` events.

    They go through the application's recorder (which indexes every leaf in the inserting
    transaction, as for real events), not through commands: a log of 70,000 events in seconds.
    Their topic names no domain class, so nothing may project them (serve with --no-follow).
    """
    from eventsourcing.persistence import StoredEvent

    done = app.log_position()
    while done < size:
        count = min(batch, size - done)
        originator = uuid4()
        app.recorder.insert_events([
            StoredEvent(originator_id=originator, originator_version=v + 1, topic=FILLER_TOPIC,
                        state=b'{"n":%d,"memo":"\xe6\x9d\xbe\xe6\xb1\x9f"}' % (done + v))
            for v in range(count)
        ])  # fmt: skip
        done += count
