"""The sandbox is for testing only, and guarded like it: loopback unless told otherwise, Host header
checked, JSON-only admin POSTs, capped bodies and connections, ASCII digits only."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import requests

from airflow_provider_enkash.sandbox import SandboxConfig
from airflow_provider_enkash.sandbox.__main__ import build_parser, config_from_args
from tests.sandbox.conftest import free_port

TESTING_ONLY = "for testing only, never production"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.com"])
def test_non_loopback_host_needs_allow_remote(host):
    with pytest.raises(ValueError, match="allow-remote"):
        SandboxConfig(host=host)
    with pytest.raises(SystemExit) as info:
        config_from_args(["--host", host])
    assert info.value.code == 2
    assert config_from_args(["--host", host, "--allow-remote"]).host == host  # built, never bound here


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_hosts_need_nothing(host):
    assert SandboxConfig(host=host).allow_remote is False


def test_help_and_start_up_line_say_testing_only():
    assert TESTING_ONLY in " ".join(build_parser().format_help().split())
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_enkash.sandbox", "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "AIRFLOW_CONN_ENKASH_DEFAULT=" in process.stdout.readline()
        assert TESTING_ONLY in process.stderr.readline()
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.parametrize(
    "path", ["/_sandbox/secrets", "/oauth/token", "/api/v0/partner/enKashCard/cardAccount/get"]
)
def test_foreign_host_header_is_refused(sandbox, sandbox_server, path):
    """A page on evil.example whose name now resolves to 127.0.0.1 (DNS rebinding) gets nothing."""
    response = requests.post(
        sandbox_server.url + path, headers={"Host": "evil.example:80"}, json={}, timeout=5
    )
    assert response.status_code == 421
    assert sandbox_server.config.password not in response.text
    assert sandbox.requests_total() == 0
    port = sandbox_server.url.rsplit(":", 1)[1]
    ok = requests.get(
        sandbox_server.url + "/_sandbox/health", headers={"Host": f"localhost:{port}"}, timeout=5
    )
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "headers", [{"Content-Type": "application/x-www-form-urlencoded"}, {"Content-Type": "text/plain"}, {}]
)
def test_admin_posts_must_be_json(sandbox, sandbox_server, headers):
    before = sandbox.get("config")["settle_delay_s"]
    response = requests.post(
        sandbox_server.url + "/_sandbox/config", data=b'{"settle_delay_s": 9}', headers=headers, timeout=5
    )
    assert response.status_code == 415
    assert sandbox.get("config")["settle_delay_s"] == before
    reset = requests.post(sandbox_server.url + "/_sandbox/reset", headers=headers, timeout=5)
    assert reset.status_code == 415


def _raw_request(url: str, head: str, body: bytes = b"") -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n" + body)
        return sock.recv(4096)


def test_body_size_is_capped_and_content_length_checked(make_sandbox):
    sandbox, _ = make_sandbox(max_body_bytes=1000)
    big = requests.post(sandbox.url + "/oauth/token", data=b"x" * 5000, timeout=5)
    assert big.status_code == 413
    bad = _raw_request(sandbox.url, "POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5")
    assert bad.startswith(b"HTTP/1.1 400")
    assert requests.get(sandbox.url + "/_sandbox/counters", timeout=5).json()["total"] == 0


def test_open_connections_are_capped(make_sandbox):
    sandbox, _ = make_sandbox(max_connections=2)
    host, port = sandbox.url.removeprefix("http://").split(":")
    held = [socket.create_connection((host, int(port)), timeout=5) for _ in range(2)]
    try:
        time.sleep(0.3)  # let the server accept both
        assert _raw_request(sandbox.url, "GET /_sandbox/health HTTP/1.1\r\nHost: 127.0.0.1").startswith(
            b"HTTP/1.1 503"
        )
        held.pop().close()
        time.sleep(0.3)
        response = requests.get(sandbox.url + "/_sandbox/health", timeout=5, headers={"Connection": "close"})
        assert response.status_code == 200
    finally:
        for sock in held:
            sock.close()


@pytest.mark.parametrize(
    ("operation", "payload", "field"),
    [
        ("create_prepaid_card", {"firstName": "Asha", "mobile": "٩٨٧٦٥٤٣٢١٠"}, "mobile"),
        ("create_prepaid_card", {"firstName": "Asha", "mobile": "９８７６５４３２１０"}, "mobile"),
        (
            "create_prepaid_card",
            {"firstName": "Asha", "mobile": "9876543210", "pincode": "५६०००१"},
            "pincode",
        ),
        (
            "create_prepaid_card",
            {"firstName": "Asha", "mobile": "9876543210", "specialDate": "02-09-２００１"},
            "specialDate",
        ),
        (
            "set_card_pin",
            {"enKashCardId": "EKC0000001", "pinBlock": "١٢٣٤", "otpRequired": False},
            "pinBlock",
        ),
        (
            "load_card_balance",
            {"enKashCardId": "EKC0000001", "amount": "1e3", "transactionType": "CR"},
            "amount",
        ),
        (
            "load_card_balance",
            {"enKashCardId": "EKC0000001", "amount": "١٠", "transactionType": "CR"},
            "amount",
        ),
        (
            "load_card_balance",
            {"enKashCardId": "EKC0000001", "amount": "1" + "0" * 40, "transactionType": "CR"},
            "amount",
        ),
    ],
)
def test_sandbox_takes_ascii_digits_only(client, operation, payload, field):
    response = client.post(operation, payload)
    assert response.status_code in (400, 422), response.text
    assert response.json()["message"].startswith(field)
