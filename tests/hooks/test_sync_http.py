"""The sync hook's HTTP client (urllib3) at the wire: proxies from the environment, TLS verification,
and whether a failed request may have reached EnKash (what load settlement decides on).

Every server runs on 127.0.0.1: a forwarding HTTP proxy and a TLS front, both in front of the sandbox.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from airflow_provider_enkash._client.transport import post
from airflow_provider_enkash.exceptions import EnKashConnectionError
from airflow_provider_enkash.hooks.enkash import EnKashHook
from tests.conftest import connection_json
from tests.redirect_servers import _Server as LocalServer

OPERATION = "get_card_account_details"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def _hook(sandbox_server: Any, **extra: Any) -> EnKashHook:
    from airflow.sdk import Connection

    return EnKashHook.from_connection(
        Connection.from_json(connection_json(sandbox_server, **extra), conn_id="x")
    )


class _ForwardHandler(BaseHTTPRequestHandler):
    """A forwarding HTTP proxy (absolute-URI requests) or, behind TLS, a front for ``owner.upstream``."""

    def do_POST(self) -> None:
        owner = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        owner.seen.append((self.path, self.headers.get("Proxy-Authorization")))
        url = self.path if self.path.startswith("http") else owner.upstream + self.path
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "proxy-authorization")}
        with requests.Session() as session:
            session.trust_env = False  # the proxy variables of the test are for the hook, not for this hop
            upstream = session.post(url, data=body, headers=headers, timeout=30, allow_redirects=False)
        self.send_response(upstream.status_code)
        self.send_header("Content-Type", upstream.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)

    def log_message(self, *args: object) -> None:
        pass


class _Server(LocalServer):
    """A :class:`_ForwardHandler` on 127.0.0.1, recording ``(path, Proxy-Authorization)``; TLS when given ``tls``."""

    def __init__(self, *, upstream: str = "", tls: ssl.SSLContext | None = None) -> None:
        self.upstream = upstream
        self.seen: list[tuple[str, str | None]] = []
        super().__init__(_ForwardHandler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- proxies --------------------------------------------------------------------------------------


def test_environment_proxy_carries_every_request_with_its_credentials(
    sandbox, sandbox_server, clean_proxy_env
):
    with _Server() as proxy:
        clean_proxy_env.setenv("HTTP_PROXY", f"http://ops:p%40ss@127.0.0.1:{proxy.port}")
        assert _hook(sandbox_server).call(OPERATION, {})["cardAccountId"] == "CASANDBOX1"
    credentials = "Basic " + base64.b64encode(b"ops:p@ss").decode()
    assert [path.split("/", 3)[2] for path, _ in proxy.seen] == [sandbox_server.url.split("/")[2]] * 2
    assert [path.rsplit("/", 1)[1] for path, _ in proxy.seen] == ["token", "get"]
    assert {auth for _, auth in proxy.seen} == {credentials}


def test_no_proxy_sends_directly(sandbox, sandbox_server, clean_proxy_env):
    with _Server() as proxy:
        clean_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        clean_proxy_env.setenv("NO_PROXY", "localhost,127.0.0.1")
        assert _hook(sandbox_server).call(OPERATION, {})["cardAccountId"] == "CASANDBOX1"
    assert proxy.seen == []


def test_unreachable_proxy_means_not_sent(sandbox, sandbox_server, clean_proxy_env):
    clean_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    hook = _hook(sandbox_server)
    with pytest.raises(EnKashConnectionError) as caught:
        post(hook.get_conn(), hook.settings.url_for(OPERATION), body=b"{}", headers={}, operation=OPERATION)
    assert caught.value.may_have_reached_enkash is False
    clean_proxy_env.delenv("HTTP_PROXY")  # the sandbox's admin client reads it too
    assert sandbox.requests_total() == 0


def test_socks_proxy_is_refused_naming_the_setting(sandbox_server, clean_proxy_env):
    from airflow_provider_enkash.exceptions import EnKashConfigError

    clean_proxy_env.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(EnKashConfigError, match="HTTPS_PROXY"):
        _hook(sandbox_server).get_conn()


# -- may the request have reached EnKash ----------------------------------------------------------


def test_refused_connection_means_not_sent(sandbox, sandbox_server, clean_proxy_env):
    settings = _hook(sandbox_server, auth_url=f"{sandbox_server.url}/oauth/token", max_retries=0).settings
    # the token from the sandbox, the card call to a port where nothing listens
    hook = EnKashHook.from_settings(replace(settings, base_url=f"http://127.0.0.1:{_closed_port()}"), "x")
    with pytest.raises(EnKashConnectionError, match="before the request was sent") as caught:
        hook.call(OPERATION, {})
    assert caught.value.may_have_reached_enkash is False


def test_read_timeout_means_maybe_sent(sandbox, sandbox_server, clean_proxy_env):
    sandbox.post("faults", {"operation": OPERATION, "mode": "latency", "latency_ms": 1500})
    hook = _hook(sandbox_server, timeout=0.3, max_retries=0)
    with pytest.raises(EnKashConnectionError, match="may have been sent") as caught:
        hook.call(OPERATION, {})
    assert caught.value.may_have_reached_enkash is True


# -- TLS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for 127.0.0.1: ``(cert_and_ca_pem, key_pem)``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "enkash test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    yield folder / "cert.pem", folder / "key.pem"


def _tls_front(sandbox_server: Any, certificate: tuple[Path, Path]) -> _Server:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return _Server(upstream=sandbox_server.url, tls=context)


def _hook_behind(front: _Server, sandbox_server: Any, **extra: Any) -> EnKashHook:
    from airflow.sdk import Connection

    conn = json.loads(connection_json(sandbox_server, **extra))
    conn["host"] = f"https://127.0.0.1:{front.port}"
    conn["extra"]["auth_url"] = f"https://127.0.0.1:{front.port}/oauth/token"
    return EnKashHook.from_connection(Connection.from_json(json.dumps(conn), conn_id="tls"))


@pytest.mark.parametrize("verify", ["bundle", "false"])
def test_tls_with_the_configured_ca_bundle_or_verification_off(
    verify, sandbox, sandbox_server, certificate, clean_proxy_env
):
    with _tls_front(sandbox_server, certificate) as front:
        hook = _hook_behind(
            front, sandbox_server, verify=str(certificate[0]) if verify == "bundle" else "false"
        )
        assert hook.call(OPERATION, {})["cardAccountId"] == "CASANDBOX1"
    assert [path.rsplit("/", 1)[1] for path, _ in front.seen] == ["token", "get"]


def test_tls_certificate_not_in_the_default_bundle_is_refused(
    sandbox, sandbox_server, certificate, clean_proxy_env
):
    clean_proxy_env.delenv("REQUESTS_CA_BUNDLE", raising=False)
    clean_proxy_env.delenv("CURL_CA_BUNDLE", raising=False)
    with _tls_front(sandbox_server, certificate) as front:
        hook = _hook_behind(front, sandbox_server)
        with pytest.raises(EnKashConnectionError, match="token request failed: SSLError"):
            hook.call(OPERATION, {})
    assert front.seen == []  # no request got past the handshake


# -- one hook, many threads -----------------------------------------------------------------------


@pytest.mark.parametrize(("pool_size", "overflows"), [(8, False), (2, True)])
def test_one_hook_serves_many_threads_within_its_pool_size(
    pool_size, overflows, sandbox, sandbox_server, clean_proxy_env, caplog
):
    hook = EnKashHook.from_settings(_hook(sandbox_server).settings, "x", pool_size=pool_size)
    barrier = threading.Barrier(8)

    def calls(_: int) -> set[str]:
        barrier.wait()  # all eight threads call at once
        return {hook.call(OPERATION, {})["cardAccountId"] for _ in range(10)}

    with caplog.at_level("WARNING", logger="urllib3.connectionpool"), ThreadPoolExecutor(8) as pool:
        answers = set().union(*pool.map(calls, range(8)))
    assert answers == {"CASANDBOX1"}
    # urllib3 says so when more connections were open at once than the pool keeps
    assert any("Connection pool is full" in r.getMessage() for r in caplog.records) is overflows
