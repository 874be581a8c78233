"""Real processes for tests: `ledger serve` / `ledger worker` subprocesses, ports, HTTP calls."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: The `ledger` console script of the environment running the tests.
LEDGER = str(Path(sys.executable).parent / "ledger")
#: Long enough for a slow, shared machine; polls end as soon as their condition holds.
DEADLINE_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def held_port() -> Iterator[int]:
    """A port on 127.0.0.1 that something listens on for the duration."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def ledger_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return {**env, "LEDGER_DATABASE_URL": database_url, "LEDGER_SECRET_KEY": "test", **extra}


def wait_until(condition: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S,
               interval_s: float = 0.1) -> Any:  # fmt: skip
    """Poll `condition` until it returns something true (returned); fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {deadline_s:g} s")
        time.sleep(interval_s)


def call(base: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    """An API call with a bearer token: (status, decoded JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method="GET" if body is None else "POST")
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class Process:
    """A `ledger` subprocess whose standard output and error go to a file."""

    def __init__(self, args: list[str], env: dict[str, str], directory: Path, name: str) -> None:
        self.log_path = directory / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            [LEDGER, *args], env=env, cwd=directory, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would end it."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(30)

    def stop(self) -> int:
        """Ctrl-C (SIGINT to the whole process group), then wait; SIGKILL if it hangs."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGINT)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(30)
        self._log.close()
        return self.popen.returncode


@contextlib.contextmanager
def serving(args: list[str], env: dict[str, str], directory: Path, token: str) -> Iterator[tuple[str, Process]]:
    """`ledger serve ARGS` on a free port, once it answers; stopped afterwards."""
    port = free_port()
    server = Process(["serve", "--host", "127.0.0.1", "--port", str(port), *args], env, directory,
                     f"serve-{port}")  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert server.alive(), f"ledger serve ended:\n{server.output()}"
        try:
            return call(base, "/api/v1/status", token)[0] == 200
        except OSError:
            return False

    try:
        wait_until(answers, "ledger serve answers")
        yield base, server
    finally:
        server.stop()


@contextlib.contextmanager
def waitress_in_thread(app: Any, threads: int = 4) -> Iterator[str]:
    """`app` served by waitress on a free port from a thread of this process: its base URL.

    Stopping closes the sockets from the server's own loop (waitress's trigger runs the thunk
    there), so the loop is never left in select() on a closed descriptor (EBADF in its thread).
    """
    import threading

    import waitress
    from waitress import wasyncore

    wsgi = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=wsgi.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{wsgi.effective_port}"
    finally:
        def stop_in_loop() -> None:
            wsgi.task_dispatcher.shutdown()
            wasyncore.close_all(wsgi._map)

        wsgi.trigger.pull_trigger(stop_in_loop)
        thread.join(DEADLINE_S)
        assert not thread.is_alive(), "waitress did not stop"
