"""Reads from a hot standby: a real PostgreSQL primary and streaming replica, `ledger serve`
writing to the one and reading from the other (`LEDGER_READ_DATABASE_URL`).

The pair is made for this module: `initdb` into a temporary directory, the primary started on
a free port, `pg_basebackup -R` of it into a second directory, the standby started on another
free port, both as the `postgres` user (`runuser`). They are stopped and removed in a
finaliser, whatever happens. Proved here: a command through the API, then a read with its
`min_position` answered from the replica; the read waits across the replica's lag (replay
paused: 503 `views_behind` after the wait; resumed: the read sees the command); with the
replica stopped, reads answer 503 `store_unavailable` in Chinese and English while commands go on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import factories as f
import psycopg
import pytest
from servers import call, ledger_env, serving, wait_until

from ledger.storage import open_ledger

pytestmark = pytest.mark.postgres

BIN = Path("/usr/lib/postgresql/15/bin")
USCCS = [f.synthetic_uscc(n) for n in (71, 72, 73)]


def _require_tools() -> None:
    """PostgreSQL's server programs and root (to act as `postgres`): else skip — or, when
    PostgreSQL is required (CI), fail."""
    missing = [] if (BIN / "initdb").exists() and shutil.which("runuser") else ["PostgreSQL 15 server binaries"]
    if os.geteuid() != 0:
        missing.append("root (to run the servers as postgres via runuser)")
    if missing:
        reason = "the hot-standby test needs " + " and ".join(missing)
        if os.environ.get("LEDGER_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (LEDGER_TEST_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)


def as_postgres(*args: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True,
                   timeout=120)  # fmt: skip


class Server:
    """One PostgreSQL server of the pair: its data directory and port."""

    def __init__(self, base: Path, name: str, port: int) -> None:
        self.data = base / name
        self.port = port
        self.log = base / f"{name}.log"
        self.base = base

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")  # fmt: skip
        as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                    "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def sql(self, statement: str) -> object:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            return conn.execute(statement).fetchone()


def _free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Server, Server]]:
    """(primary, standby), streaming, on free ports; removed afterwards even on failure."""
    _require_tools()
    base = Path(tempfile.mkdtemp(prefix="sjl-standby-"))
    shutil.chown(base, "postgres", "postgres")
    primary_port, standby_port = _free_ports(2)
    primary = Server(base, "primary", primary_port)
    standby = Server(base, "standby", standby_port)
    try:
        as_postgres(str(BIN / "initdb"), "-D", str(primary.data), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--no-sync", "--no-instructions")  # fmt: skip
        primary.start()
        ledger = open_ledger(primary.url, create=True)  # the schema, before the copy is taken
        try:
            ledger.define_measures()
            ledger.register_user("admin", ["admin"], actor="")
        finally:
            ledger.close()
        as_postgres(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port),
                    "-U", "postgres", "-D", str(standby.data), "-R", "-X", "stream",
                    "--checkpoint=fast", "--no-sync")  # fmt: skip
        standby.start()
        assert standby.sql("SELECT pg_is_in_recovery()") == (True,)
        yield primary, standby
    finally:
        standby.stop()
        primary.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def served(pair: tuple[Server, Server], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`ledger serve` on the primary, reading from the standby: (base URL, officer token)."""
    primary, standby = pair
    ledger = open_ledger(primary.url, create=False)
    try:
        token = ledger.register_user("olga", ["officer", "auditor"], actor="admin")
    finally:
        ledger.close()
    env = ledger_env(primary.url, LEDGER_READ_DATABASE_URL=standby.url, LEDGER_READ_TIMEOUT_S="1")
    directory = tmp_path_factory.mktemp("standby-serve")
    with serving(["--workers", "1", "--threads", "4"], env, directory, token) as (base, _server):
        yield base, token


def record(base: str, token: str, uscc: str) -> int:
    status, body = call(base, "/api/v1/commands", token, [f.enterprise(uscc)])
    assert status == 200, body
    assert body["results"][0]["status"] == "recorded", body
    return int(body["log_position"])


def test_read_your_writes_from_the_replica(pair: tuple[Server, Server], served: tuple[str, str]) -> None:
    base, token = served
    _primary, standby = pair
    position = record(base, token, USCCS[0])
    status, body = call(base, f"/api/v1/enterprises/{USCCS[0]}?min_position={position}", token)
    assert status == 200, body
    assert body["uscc"] == USCCS[0]
    # it was the replica that answered: its own views hold the enterprise
    assert standby.sql("SELECT count(*) FROM ledger.pv_enterprises WHERE uscc = "
                       f"'{USCCS[0]}'") == (1,)  # fmt: skip


def test_the_wait_covers_the_replicas_lag(pair: tuple[Server, Server], served: tuple[str, str]) -> None:
    base, token = served
    _primary, standby = pair
    standby.sql("SELECT pg_wal_replay_pause()")
    try:
        position = record(base, token, USCCS[1])  # the primary has it; the replica does not yet
        path = f"/api/v1/enterprises/{USCCS[1]}?min_position={position}"
        status, body = call(base, path, token)
        assert status == 503, body
        assert body["code"] == "views_behind" and body["message_zh"], body
    finally:
        standby.sql("SELECT pg_wal_replay_resume()")
    status, body = call(base, path, token)
    assert status == 200, body
    assert body["uscc"] == USCCS[1]


def test_a_stopped_replica_fails_reads_cleanly_and_commands_go_on(
    pair: tuple[Server, Server], served: tuple[str, str]
) -> None:
    base, token = served
    primary, standby = pair
    standby.stop()
    try:
        for path in ("/api/v1/status", f"/api/v1/enterprises/{USCCS[0]}", "/api/v1/events?after=0", "/api/v1/audit/heads"):
            status, body = call(base, path, token)
            assert status == 503, (path, body)
            assert body["code"] == "store_unavailable", body
            assert "数据库" in body["message_zh"] and "database" in body["message"], body
        position = record(base, token, USCCS[2])  # commands go to the primary, unaffected
        assert primary.sql("SELECT max(notification_id) FROM ledger.supportledger_events") == (position,)
    finally:
        standby.start()
    # once the replica is back (and has replayed), the reads answer again
    path = f"/api/v1/enterprises/{USCCS[2]}?min_position={position}"
    status, body = wait_until(lambda: (answer := call(base, path, token))[0] == 200 and answer,
                              "reads answer again once the replica is back")  # fmt: skip
    assert body["uscc"] == USCCS[2]
