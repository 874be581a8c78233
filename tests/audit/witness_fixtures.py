"""Helpers for the witness tests: logs made of leaf hashes, signed checkpoints, a served witness."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.checkpoint_log import latest_checkpoint
from audit.db import audit_db
from audit.keys import load_private_key
from audit.merkle import MerkleTree
from audit.merkle_hash import EMPTY_ROOT
from audit.note import Ed25519Signer, raw_public_key
from audit.witness.server import WitnessApp
from audit.witness.state import WitnessState
from ledger.guards import drop_guards

ORIGIN = "ledger.example.gov.cn/test-log"


def leaves(n: int, salt: str = "") -> list[bytes]:
    return [hashlib.sha256(f"{salt}entry {i}".encode()).digest() for i in range(n)]


class FakeLog:
    """A log of made-up leaves that signs checkpoints with its own key."""

    def __init__(self, origin: str = ORIGIN, salt: str = "") -> None:
        self.signer = Ed25519Signer(origin, Ed25519PrivateKey.generate())
        self.origin = origin
        self.salt = salt
        self.tree = MerkleTree.from_leaf_hashes(leaves(0))

    def grow_to(self, n: int) -> None:
        have = len(self.tree)
        self.tree.append_leaf_hashes(leaves(n, self.salt)[have:])

    def root(self, n: int) -> bytes:
        return self.tree.root(n) if n else EMPTY_ROOT

    def checkpoint(self, n: int, root: bytes | None = None) -> str:
        cp = Checkpoint(self.origin, n, self.root(n) if root is None else root)
        return sign_checkpoint(cp, [self.signer])

    def body(self, old: int, n: int, *, proof: list[bytes] | None = None,
             note: str | None = None) -> bytes:  # fmt: skip
        import base64

        if proof is None:
            proof = self.tree.consistency_proof(old, n) if 0 < old < n else []
        lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
        return f"old {old}\n{lines}\n".encode() + (note or self.checkpoint(n)).encode()


@contextlib.contextmanager
def served(state: WitnessState, port: int = 0) -> Iterator[str]:
    """A witness served in this process (a threaded WSGI server that stops cleanly); its URL.

    `ledger witness serve` (waitress) is run as a real process by the three-party tests.
    """
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, WitnessApp(state), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def post(url: str, body: bytes) -> tuple[int, str, bytes]:
    """POST a body: (status, content type, body)."""
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def truncate(intruder, app, keep: int, *, check: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Delete the log's tail beyond ``keep`` entries with its leaves, nodes, heads, checkpoints.

    ``check``: assert that no checkpoint is left (off while a server may sign meanwhile).
    """
    drop_guards(app.store, [intruder.events, "audit_tree_heads", "audit_leaves", "audit_nodes",
                            "audit_checkpoints"])  # fmt: skip
    position = intruder.execute(
        "SELECT position FROM " + intruder.table("audit_leaves") + " WHERE leaf_index = ?",
        (keep - 1,),
    )[0][0]
    intruder.execute("DELETE FROM {events} WHERE {pos} > ?", (position,))
    intruder.execute("DELETE FROM {leaves} WHERE leaf_index >= ?", (keep,))
    for level in range(32):
        intruder.execute("DELETE FROM {nodes} WHERE level = ? AND (idx + 1) * ? > ?",
                         (level, 2**level, keep))  # fmt: skip
    intruder.execute("DELETE FROM {heads}")
    intruder.execute("DELETE FROM " + intruder.table("audit_checkpoints"))
    db = audit_db(app)
    with db.read() as cur:
        assert not check or latest_checkpoint(db, cur, raw_public_key(load_private_key().public_key())) is None


def grow(app, count: int, start: int = 0, actor: str = "olga") -> None:  # type: ignore[no-untyped-def]
    """Register ``count`` enterprises in one batch (two events each)."""
    from tests import factories as f

    commands = [(f.enterprise(f.synthetic_uscc(start + i), name=f"上海{start + i}号公司"), actor)
                for i in range(count)]  # fmt: skip
    outcomes = app.execute_many(commands)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes


@contextlib.contextmanager
def static_site(directory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A directory served over HTTP (what `ledger audit publish DIR` writes for)."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
