"""Two kinds of local HTTP servers on 127.0.0.1 for redirect tests.

``RecordingServer`` stands for "another host": it records every request it receives and answers
as generously as an attacker would (a token, an OK envelope). ``RedirectingProxy`` stands for
EnKash: it forwards requests to the sandbox, except the chosen paths, which it answers with a
redirect to the recording server.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def __enter__(self) -> Any:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


class _RecordingHandler(BaseHTTPRequestHandler):
    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.owner.received.append((self.command, self.path, dict(self.headers), body))  # type: ignore[attr-defined]
        answer = b'{"access_token": "attacker-token", "expires_in": 3600, "code": 0, "message": "ok", "payload": {}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _serve

    def log_message(self, *args: object) -> None:
        pass


class RecordingServer(_Server):
    """Records ``(method, path, headers, body)`` of every request in ``received``."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, dict[str, str], bytes]] = []
        super().__init__(_RecordingHandler)


class _ProxyHandler(BaseHTTPRequestHandler):
    def _serve(self) -> None:
        owner = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0]
        if path in owner.redirect_paths:
            owner.redirected.append(path)
            self.send_response(owner.status)
            self.send_header("Location", f"{owner.location}{path}?leak=path-and-query-not-shown")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = requests.request(
            self.command,
            owner.upstream + self.path,
            data=body,
            headers=headers,
            timeout=30,
            allow_redirects=False,
        )
        self.send_response(upstream.status_code)
        for name in ("Content-Type", "Retry-After"):
            if name in upstream.headers:
                self.send_header(name, upstream.headers[name])
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)

    do_GET = do_POST = _serve

    def log_message(self, *args: object) -> None:
        pass


class RedirectingProxy(_Server):
    """Forwards to ``upstream``; answers ``redirect_paths`` with ``status`` and ``Location: <location><path>?...``."""

    def __init__(self, *, upstream: str, redirect_paths: set[str], location: str, status: int = 307) -> None:
        self.upstream = upstream
        self.redirect_paths = redirect_paths
        self.location = location
        self.status = status
        self.redirected: list[str] = []
        super().__init__(_ProxyHandler)
