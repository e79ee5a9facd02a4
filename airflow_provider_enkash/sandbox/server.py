"""Serving the sandbox: the in-process :class:`Sandbox` and its HTTP/1.1 front.

``/oauth/token`` and the card paths go to the :class:`Gateway`, ``/_sandbox/...`` to the
:class:`~airflow_provider_enkash.sandbox.admin.Admin`; one daemon thread per keep-alive connection, Nagle off. For testing only, never
production, yet guarded against the browser on the same machine: on a loopback address the
``Host`` header must name a loopback host (DNS rebinding), admin POSTs must be
``application/json`` (cross-site form posts), and bodies and open connections are capped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shlex
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_enkash.sandbox.admin import Admin
from airflow_provider_enkash.sandbox.api_spec import TOKEN_PATH
from airflow_provider_enkash.sandbox.auth import Auth
from airflow_provider_enkash.sandbox.config import SandboxConfig, is_loopback
from airflow_provider_enkash.sandbox.faults import FaultInjector
from airflow_provider_enkash.sandbox.protocol import Gateway, Reply, json_reply
from airflow_provider_enkash.sandbox.state import State

# -- the in-process sandbox -------------------------------------------------------------------

CONNECTION_ENV_VAR = "AIRFLOW_CONN_ENKASH_DEFAULT"


def connection_json_from_line(line: str) -> str:
    """The connection JSON inside a line printed by ``enkash-sandbox`` (see :meth:`Sandbox.connection_export_line`).

    :raises ValueError: the line is not that line (e.g. the sandbox failed to start).
    """
    words = shlex.split(line)
    name, _, value = words[-1].partition("=") if len(words) == 2 and words[0] == "export" else ("", "", "")
    if name != CONNECTION_ENV_VAR or not value:
        raise ValueError(f"not the sandbox's connection line: {line[:80]!r}")
    return value


class Sandbox:
    """A stateful EnKash Prepaid Card API on 127.0.0.1.

    Building it creates (and seeds) the state; ``start()`` binds and serves in a
    daemon thread. Usable as a context manager.

    :param config: the configuration (default ``SandboxConfig()``: a free port).
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.state = State(self.config)
        self.auth = Auth(lambda: self.state.config)
        self.faults = FaultInjector(self.config.faults, seed=self.config.random_seed)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Sandbox:
        """Bind ``host:port`` and serve in the background; return ``self``."""
        if self._server is not None:
            raise RuntimeError("sandbox already started")
        gateway = Gateway(self.state, self.auth, self.faults)
        admin = Admin(self.state, self.auth, self.faults)
        self._server = SandboxHTTPServer((self.config.host, self.config.port), gateway, admin)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="enkash-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running sandbox."""
        if self._server is None:
            raise RuntimeError("sandbox not started")
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def connection_json(self) -> str:
        """The Airflow connection (JSON) for ``AIRFLOW_CONN_ENKASH_DEFAULT`` that points at this sandbox."""
        cfg = self.config
        variant = {"basic_auth": cfg.basic_auth, "key_derivation": cfg.key_derivation}
        defaults = {name: SandboxConfig.__dataclass_fields__[name].default for name in variant}
        return json.dumps(
            {
                "conn_type": "enkash",
                "host": self.url,
                "login": cfg.username,
                "password": cfg.password,
                "extra": {
                    "client_id": cfg.client_id,
                    "client_secret": cfg.client_secret,
                    "partner_id": cfg.partner_id,
                    "company_id": cfg.company_id,
                    "card_account_id": cfg.card_account_id,
                    "auth_url": self.url + TOKEN_PATH,
                    **{name: value for name, value in variant.items() if value != defaults[name]},
                },
            }
        )

    def connection_export_line(self) -> str:
        """``export AIRFLOW_CONN_ENKASH_DEFAULT='<json>'``: the CLI's first line, quoted for a POSIX shell."""
        return f"export {CONNECTION_ENV_VAR}={shlex.quote(self.connection_json())}"

    def __enter__(self) -> Sandbox:
        return self if self._server is not None else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# -- HTTP front -------------------------------------------------------------------------------

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/_sandbox/"
IDLE_CONNECTION_TIMEOUT_S = 300
REQUEST_QUEUE_SIZE = 256
_TOO_MANY_CONNECTIONS = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b'Content-Length: 35\r\n\r\n{"error": "too many connections"}\r\n'
)

# socketserver's request type; a TCP server's requests are always sockets
_Request = socket.socket | tuple[bytes, socket.socket]


class SandboxHTTPServer(ThreadingHTTPServer):
    """Binds ``address`` and hands requests to ``gateway`` and ``admin``."""

    daemon_threads = True
    request_queue_size = REQUEST_QUEUE_SIZE
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], gateway: Gateway, admin: Admin) -> None:
        self.gateway = gateway
        self.admin = admin
        self._connections: set[_Request] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: _Request, client_address: Any) -> None:
        with self._connections_lock:
            full = len(self._connections) >= self.gateway.state.config.max_connections
            if not full:
                self._connections.add(request)
        if full:
            log.warning("sandbox refused a connection from %s: max_connections reached", client_address[0])
            with contextlib.suppress(OSError):
                if isinstance(request, socket.socket):
                    request.sendall(_TOO_MANY_CONNECTIONS)
            super().shutdown_request(request)
            return
        super().process_request(request, client_address)

    def shutdown_request(self, request: _Request) -> None:
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
                if isinstance(connection, socket.socket):
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
