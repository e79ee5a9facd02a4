"""The HTTP front: a standard-library threading server on 127.0.0.1 speaking HTTP/1.1 keep-alive.

``/oauth/token`` and the card paths go to the :class:`Gateway`, ``/_sandbox/...``
to the :class:`Admin`. One daemon thread per connection; Nagle is off so
small responses are not delayed.

For testing only, never production, yet guarded against the browser on the same machine: on
a loopback address the ``Host`` header must name a loopback host (DNS rebinding), admin POSTs
must be ``application/json`` (cross-site form posts), and bodies and open connections are capped.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_enkash.sandbox.admin import Admin
from airflow_provider_enkash.sandbox.config import is_loopback
from airflow_provider_enkash.sandbox.endpoints import TOKEN_PATH
from airflow_provider_enkash.sandbox.gateway import Gateway, Reply, json_reply

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/_sandbox/"
IDLE_CONNECTION_TIMEOUT_S = 300
REQUEST_QUEUE_SIZE = 256
_TOO_MANY_CONNECTIONS = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b'Content-Length: 35\r\n\r\n{"error": "too many connections"}\r\n'
)


class SandboxHTTPServer(ThreadingHTTPServer):
    """Binds ``address`` and hands requests to ``gateway`` and ``admin``."""

    daemon_threads = True
    request_queue_size = REQUEST_QUEUE_SIZE
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], gateway: Gateway, admin: Admin) -> None:
        self.gateway = gateway
        self.admin = admin
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: socket.socket, client_address: Any) -> None:
        with self._connections_lock:
            full = len(self._connections) >= self.gateway.state.config.max_connections
            if not full:
                self._connections.add(request)
        if full:
            log.warning("sandbox refused a connection from %s: max_connections reached", client_address[0])
            with contextlib.suppress(OSError):
                request.sendall(_TOO_MANY_CONNECTIONS)
            super().shutdown_request(request)
            return
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        """Close the listening socket and every open keep-alive connection."""
        super().server_close()
        with self._connections_lock:
            open_connections = list(self._connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EnKashSandbox/1.0"
    sys_version = ""
    timeout = IDLE_CONNECTION_TIMEOUT_S
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _refusal(self, method: str, path: str) -> Reply | None:
        """The reply to a request refused before it is read: foreign Host, oversized body, non-JSON admin POST."""
        config = self.server.gateway.state.config
        host = urlsplit("//" + (self.headers.get("Host") or "")).hostname
        if not config.allow_remote and not is_loopback(host):
            return json_reply(421, {"error": "Host header must name a loopback host (127.0.0.1, localhost)"})
        length = self.headers.get("Content-Length") or "0"
        if not length.isascii() or not length.isdigit():
            return json_reply(400, {"error": "Content-Length must be a whole number"})
        if int(length) > config.max_body_bytes:
            return json_reply(413, {"error": f"body larger than {config.max_body_bytes} bytes"})
        if (
            method == "POST"
            and path.startswith(ADMIN_PREFIX)
            and self.headers.get_content_type() != "application/json"
        ):
            return json_reply(415, {"error": "admin POSTs must be Content-Type: application/json"})
        return None

    def _serve(self, method: str) -> None:
        path = urlsplit(self.path).path
        refusal = self._refusal(method, path)
        if refusal is not None:
            self.close_connection = True  # the body, if any, was not read
            self._send(refusal)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            if path.startswith(ADMIN_PREFIX):
                reply = self.server.admin.handle(method, path[len(ADMIN_PREFIX) :], body)
            elif path == TOKEN_PATH:
                reply = self.server.gateway.token(method, self.headers, body)
            else:
                reply = self.server.gateway.card(method, path, self.headers, body)
        except Exception:  # a sandbox bug must not kill the connection thread silently
            log.exception("sandbox failed on %s %s", method, path)
            reply = json_reply(500, {"status": 500, "error": "Internal Server Error", "path": path})
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)
