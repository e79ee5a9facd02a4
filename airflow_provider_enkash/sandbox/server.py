"""The HTTP front: a standard-library threading server on 127.0.0.1 speaking HTTP/1.1 keep-alive.

``/oauth/token`` and the card paths go to the :class:`Gateway`, ``/_sandbox/...``
to the :class:`Admin`. One daemon thread per connection; Nagle is off so
small responses are not delayed.
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
from airflow_provider_enkash.sandbox.endpoints import TOKEN_PATH
from airflow_provider_enkash.sandbox.gateway import Gateway, Reply, json_reply

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/_sandbox/"
IDLE_CONNECTION_TIMEOUT_S = 300
REQUEST_QUEUE_SIZE = 256


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
            self._connections.add(request)
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

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path = urlsplit(self.path).path
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
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)
