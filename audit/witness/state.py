"""A witness's own state: its key and one SQLite file, in a directory of its own.

The directory (``--state DIR``, else ``LEDGER_WITNESS_STATE``, else ``var/witness``) holds

* ``witness-key.pem``: the witness's Ed25519 private key (PKCS #8, mode 0600);
* ``witness.sqlite3``: its name, the logs it witnesses (origin and the log's verifier keys),
  the latest checkpoint it cosigned for each origin, and the submissions it refused although
  the log's signature on them was valid (kept as evidence: they may show the log misbehaving).

Checking a submission's old size against the latest cosigned checkpoint and recording the new
one happen in one ``BEGIN IMMEDIATE`` transaction (:meth:`WitnessState.transaction`), so two
concurrent submissions can never roll the witness back.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.note import Verifier, check_key_name, parse_vkey
from audit.witness.cosignature import CosignatureSigner
from ledger.sqlite_access import connect

STATE_VARIABLE = "LEDGER_WITNESS_STATE"
DEFAULT_STATE_DIR = Path("var") / "witness"
KEY_FILE = "witness-key.pem"
DB_FILE = "witness.sqlite3"

_DDL = (
    "CREATE TABLE IF NOT EXISTS witness_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS witness_logs (origin TEXT NOT NULL, vkey TEXT NOT NULL, "
    "added_at INTEGER NOT NULL, PRIMARY KEY (origin, vkey))",
    "CREATE TABLE IF NOT EXISTS witness_checkpoints (origin TEXT PRIMARY KEY, "
    "tree_size INTEGER NOT NULL, root_hash BLOB NOT NULL, note TEXT NOT NULL, "
    "cosigned_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS witness_refusals (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "origin TEXT NOT NULL, received_at INTEGER NOT NULL, status INTEGER NOT NULL, "
    "reason TEXT NOT NULL, body TEXT NOT NULL)",
)


class WitnessStateError(OSError):
    """A state directory that is missing, already initialised, or unreadable."""


@dataclass(frozen=True)
class Cosigned:
    """The latest checkpoint a witness cosigned for one origin."""

    origin: str
    tree_size: int
    root_hash: bytes
    note: str
    cosigned_at: int


def state_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The state directory: the argument, else ``LEDGER_WITNESS_STATE``, else ``var/witness``."""
    if path:
        return Path(path)
    return Path(os.environ.get(STATE_VARIABLE, "").strip() or DEFAULT_STATE_DIR)


def init_state(name: str, path: str | os.PathLike[str] | None = None) -> WitnessState:
    """Create a witness: a new key and an empty state. Refuses a directory already holding one."""
    check_key_name(name)
    directory = state_dir(path)
    key_file, db_file = directory / KEY_FILE, directory / DB_FILE
    if key_file.exists() or db_file.exists():
        raise WitnessStateError(f"{directory} already holds a witness; refusing to replace it")
    directory.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip
    tmp = key_file.with_name(KEY_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    conn = connect(str(db_file))
    try:
        # WAL: one fsync per cosigned checkpoint, and reads never wait for the writer; with
        # synchronous=FULL (set on every connection) a commit is on disk before the answer.
        conn.execute("PRAGMA journal_mode = WAL")
        for statement in _DDL:
            conn.execute(statement)
        conn.execute("INSERT INTO witness_settings (key, value) VALUES ('name', ?)", (name,))
    finally:
        conn.close()
    os.replace(tmp, key_file)
    return WitnessState(directory)


class WitnessState:
    """An initialised witness's state directory."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.directory = state_dir(path)
        self._local = threading.local()
        self.db_path = str(self.directory / DB_FILE)
        key_file = self.directory / KEY_FILE
        if not key_file.exists() or not Path(self.db_path).exists():
            raise WitnessStateError(
                f"{self.directory} holds no witness; run `ledger witness init --name NAME`"
            )
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise WitnessStateError(f"{key_file} is not an Ed25519 key")
        with self.reading() as cur:
            row = cur.execute("SELECT value FROM witness_settings WHERE key = 'name'").fetchone()
        self.name = row[0]
        self.signer = CosignatureSigner(self.name, key)

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection (kept: opening and closing one per request costs more
        than the request's own work in WAL mode)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.db_path)
            conn.execute("PRAGMA synchronous = FULL")
            self._local.conn = conn
        return conn

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Cursor]:
        cur = self._connect().cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One ``BEGIN IMMEDIATE`` transaction: committed at the end, rolled back on error."""
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn.cursor()
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def add_log(self, vkey: str, origin: str | None = None) -> str:
        """Trust a log's key for an origin (the key's name unless given); returns the origin."""
        verifier = parse_vkey(vkey)
        origin = origin or verifier.name
        with self.transaction() as cur:
            cur.execute(
                "INSERT OR IGNORE INTO witness_logs (origin, vkey, added_at) VALUES (?, ?, ?)",
                (origin, vkey.strip(), int(time.time())),
            )
        return origin

    def logs(self) -> dict[str, list[str]]:
        """Every origin this witness knows, with its trusted verifier keys."""
        with self.reading() as cur:
            rows = cur.execute("SELECT origin, vkey FROM witness_logs ORDER BY origin, vkey")
            found: dict[str, list[str]] = {}
            for origin, vkey in rows.fetchall():
                found.setdefault(origin, []).append(vkey)
        return found

    def verifiers(self, origin: str) -> list[Verifier]:
        """The log keys trusted for an origin (empty if the origin is unknown)."""
        with self.reading() as cur:
            rows = cur.execute("SELECT vkey FROM witness_logs WHERE origin = ?", (origin,))
            return [parse_vkey(row[0]) for row in rows.fetchall()]

    def latest(self, origin: str, cur: sqlite3.Cursor | None = None) -> Cosigned | None:
        """The latest checkpoint cosigned for an origin (inside a transaction when given one)."""
        sql = (
            "SELECT origin, tree_size, root_hash, note, cosigned_at FROM witness_checkpoints "
            "WHERE origin = ?"
        )
        if cur is None:
            with self.reading() as own:
                row = own.execute(sql, (origin,)).fetchone()
        else:
            row = cur.execute(sql, (origin,)).fetchone()
        return None if row is None else Cosigned(row[0], int(row[1]), bytes(row[2]), row[3], row[4])

    def latest_by_origin_hash(self, origin_hash: str) -> Cosigned | None:
        """The latest cosigned checkpoint of the origin whose SHA-256 is this lowercase hex."""
        import hashlib

        for origin in self.logs():
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                return self.latest(origin)
        return None

    def refusals(self) -> list[dict[str, object]]:
        """The submissions refused although validly signed, oldest first."""
        with self.reading() as cur:
            rows = cur.execute(
                "SELECT id, origin, received_at, status, reason, body FROM witness_refusals "
                "ORDER BY id"
            ).fetchall()
        keys = ("id", "origin", "received_at", "status", "reason", "body")
        return [dict(zip(keys, row, strict=True)) for row in rows]
