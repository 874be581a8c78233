"""Test helpers that run the real `ledger` command in processes of its own: one-off commands,
and `ledger serve` on a free port (a real WSGI server, fetched over HTTP)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

LEDGER = str(Path(sys.executable).parent / "ledger")
#: Generous: the machine is shared; nothing asserts how long anything takes.
STARTUP_DEADLINE_S = 180.0


def ledger_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return {**env, "LEDGER_DATABASE_URL": database_url, **extra}


def run_ledger(
    database_url: str, *args: str, cwd: Path, env: dict[str, str] | None = None,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run `ledger ARGS…` on the store and return what it did (no check of its exit status)."""
    return subprocess.run(
        [LEDGER, *args], env={**ledger_env(database_url), **(env or {})}, cwd=cwd,
        input=input_text, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, token: str | None = None) -> tuple[int, str]:
    """GET a URL (with a bearer token); the status and the body, for any status."""
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextlib.contextmanager
def serving(database_url: str, *, cwd: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`ledger serve` on a free port until the block ends; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [LEDGER, "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
        env={**ledger_env(database_url), **(env or {})}, cwd=cwd,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while True:
            if process.poll() is not None:
                raise AssertionError(f"ledger serve exited with {process.returncode}: "
                                     f"{process.stdout.read() if process.stdout else ''}")  # fmt: skip
            try:
                http_get(f"{base}/api/v1/openapi.json")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("ledger serve did not start listening") from None
                time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout:
            process.stdout.close()
