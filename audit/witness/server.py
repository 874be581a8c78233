"""The witness's HTTP interface (c2sp.org/tlog-witness) as a WSGI application.

* ``POST /add-checkpoint`` — :func:`audit.witness.protocol.add_checkpoint`;
* ``GET /<SHA-256 of the origin, lowercase hex>/checkpoint`` — the latest checkpoint cosigned
  for that log, with the log's signature the witness verified and its own cosignature (404 if
  it never cosigned one).

The submission and monitoring prefixes are both the server's root. Bodies above
:data:`MAX_BODY_BYTES` are refused (413). :func:`serve` runs it under waitress.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable
from typing import Any

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from audit.witness.protocol import add_checkpoint
from audit.witness.state import WitnessState

#: The largest add-checkpoint body accepted: a checkpoint with many signatures and 63 hashes.
MAX_BODY_BYTES = 256 * 1024

_ORIGIN_CHECKPOINT = re.compile(r"/([0-9a-f]{64})/checkpoint")


def _text(status: int, message: str, **headers: str) -> Response:
    return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8",
                    headers=headers)  # fmt: skip


class WitnessApp:
    """The WSGI application of one witness state."""

    def __init__(self, state: WitnessState) -> None:
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES
        try:
            response = self.dispatch(request)
        except RequestEntityTooLarge:
            response = _text(413, "request_too_large: 请求过大 / the request is too large")
        except HTTPException as exc:  # a body werkzeug could not read
            response = _text(exc.code or 400, "malformed_request: 请求格式错误 / bad request")
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path == "/add-checkpoint":
            if request.method != "POST":
                return _text(405, "method_not_allowed: 只接受 POST / POST only", Allow="POST")
            answer = add_checkpoint(self.state, request.get_data(cache=False))
            return Response(answer.body, status=answer.status, content_type=answer.content_type)
        match = _ORIGIN_CHECKPOINT.fullmatch(request.path)
        if match is not None:
            if request.method not in ("GET", "HEAD"):
                return _text(405, "method_not_allowed: 只接受 GET / GET only", Allow="GET, HEAD")
            latest = self.state.latest_by_origin_hash(match.group(1))
            if latest is None:
                return _text(404, "not_cosigned: 尚未为此日志联署 / no checkpoint cosigned yet")
            return Response(latest.note, content_type="text/plain; charset=utf-8")
        return _text(404, "not_found: 无此资源 / not found")


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (raises OSError, EADDRINUSE when the port is taken)."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def serve(state: WitnessState, listener: socket.socket, threads: int = 4) -> None:
    """Serve a witness with waitress on a bound socket until interrupted (keep-alive on)."""
    from waitress import serve as waitress_serve

    waitress_serve(WitnessApp(state), sockets=[listener], threads=threads, ident="witness")
