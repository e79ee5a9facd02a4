"""The sync hook's HTTP client against answers and processes EnKash's own server would not produce:
a fork sharing pooled connections, an answer inflating past the size cap, a proxy's 407.

A keep-alive front on 127.0.0.1 forwards to the sandbox and records which client port sent each
request; tests tell it how to misbehave.
"""

from __future__ import annotations

import gzip
import json
import os
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

from airflow_provider_enkash._client import sync_http
from airflow_provider_enkash.exceptions import EnKashConnectionError, EnKashHTTPError
from airflow_provider_enkash.hooks.enkash import EnKashHook
from tests.conftest import connection_json
from tests.redirect_servers import _Server as LocalServer

CARD_CALL = "get_card_account_details"


class _KeepAliveFront(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections open, as EnKash's servers do

    def do_POST(self) -> None:
        owner = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        owner.client_ports.append(self.client_address[1])
        if owner.answer is not None and "oauth" not in self.path:
            status, headers, content = owner.answer
        else:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "accept-encoding")}
            upstream = owner.session.post(owner.upstream + self.path, data=body, headers=headers, timeout=30)
            status, headers, content = (
                upstream.status_code,
                {"Content-Type": "application/json"},
                upstream.content,
            )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *args: object) -> None:
        pass


class _Front(LocalServer):
    """Forwards to ``upstream``, or answers card calls with ``answer`` (status, headers, body) when set."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.answer: tuple[int, dict[str, str], bytes] | None = None
        self.client_ports: list[int] = []
        self.session = requests.Session()
        self.session.trust_env = False
        super().__init__(_KeepAliveFront)


@pytest.fixture
def front(sandbox_server: Any) -> Any:
    with _Front(sandbox_server.url) as server:
        yield server


def _hook(front: _Front, sandbox_server: Any) -> EnKashHook:
    from airflow.sdk import Connection

    conn = json.loads(connection_json(sandbox_server))
    conn["host"] = front.url
    conn["extra"]["auth_url"] = f"{front.url}/oauth/token"
    return EnKashHook.from_connection(Connection.from_json(json.dumps(conn), conn_id="front"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_opens_its_own_connections(sandbox, sandbox_server, front):
    """Parent and child sharing the parent's pooled socket would read each other's answers."""
    hook = _hook(front, sandbox_server)
    hook.call(CARD_CALL, {})  # the token and one card call: a keep-alive connection in the pool
    parent_port = front.client_ports[-1]
    pid = os.fork()
    if pid == 0:  # the child: one call, then leave without running the parent's cleanup
        try:
            hook.call(CARD_CALL, {})
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    child_port = front.client_ports[-1]
    hook.call(CARD_CALL, {})
    assert child_port != parent_port, "the child sent on the parent's pooled connection"
    assert front.client_ports[-1] == parent_port, "the parent lost its own pooled connection"


def test_an_answer_inflating_past_the_cap_is_refused_not_read(sandbox, sandbox_server, front, monkeypatch):
    monkeypatch.setattr(sync_http, "MAX_ANSWER_BYTES", 1024 * 1024)
    bomb = gzip.compress(b"0" * (8 * 1024 * 1024))  # 8 KiB on the wire, 8 MiB decoded
    front.answer = (200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, bomb)
    hook = _hook(front, sandbox_server)
    with pytest.raises(EnKashConnectionError, match="AnswerTooLarge") as caught:
        hook.call(CARD_CALL, {})
    assert caught.value.may_have_reached_enkash is True  # it was sent: a load answered so is unclear


def test_a_proxy_asking_for_credentials_is_not_blamed_on_enkash(sandbox, sandbox_server, front):
    front.answer = (407, {"Proxy-Authenticate": 'Basic realm="proxy"'}, b"")
    with pytest.raises(EnKashHTTPError, match="proxy to EnKash asks for authentication") as caught:
        _hook(front, sandbox_server).call(CARD_CALL, {})
    assert caught.value.status == 407
