"""enkash-probe against every sandbox variant: its recommended extras make the hook work, and it never writes."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from airflow_provider_enkash.hooks.enkash import EnKashHook
from airflow_provider_enkash.probe import main
from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig
from airflow_provider_enkash.token_cache import TOKEN_CACHE
from tests.conftest import TEST_CONNECTION_EXTRAS

CONN_ID = "enkash_probe"
READS = {"auth_token", "get_card_account_details", "get_all_transactions", "get_transaction_details"}
# Each variant: the sandbox's switches, and what the probe must recommend for it.
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "documented": (
        {},
        {"key_derivation": "sha256", "request_date_format": "millis", "encrypt_requests": True},
    ),
    "sha1_key": ({"key_derivation": "sha1"}, {"key_derivation": "sha1"}),
    "raw_key": ({"key_derivation": "raw", "client_secret": "0123456789abcdef"}, {"key_derivation": "raw"}),
    "response_code_envelope": ({"envelope_style": "response_code", "envelope_overrides": {}}, {}),
    "plaintext_responses": ({"plaintext_responses": True}, {"key_derivation": "sha256"}),
    "iso_timestamps": ({"timestamp_format": "iso"}, {}),
    "utc_zoneless_timestamps": ({"timestamp_format": "enkash_utc"}, {}),
    "dates_in_seconds": ({"request_date_format": "seconds"}, {"request_date_format": "seconds"}),
    "capped_search": ({"max_records": 25}, {"search_cap": 25}),
    "capped_search_count_returned": ({"max_records": 25, "records_count": "returned"}, {"search_cap": 25}),
    "paging_ignored": ({"ignore_paging": True}, {}),
    "basic_empty": ({"basic_auth": "empty"}, {"basic_auth": "empty"}),
    "reference_in_unique_reference_number": (
        {"reference_field": "uniqueReferenceNumber"},
        {"reference_fields": ["uniqueReferenceNumber"]},
    ),
    "reference_in_reference_number": (
        {"reference_field": "referenceNumber"},
        {"reference_fields": ["referenceNumber"]},
    ),
    "other_status_words": (
        {"status_words": {"SUCCESS": "SUCCESSFUL", "FAILED": "FAILURE"}},
        {
            "success_statuses": ["SUCCESS", "SUCCESSFUL"],
            "failure_statuses": ["FAILED", "FAILURE", "REJECTED", "REVERSED"],
        },
    ),
    "filters_ignored": ({"ignore_search_filters": True}, {}),
    "basic_none": ({"basic_auth": "none"}, {"basic_auth": "none"}),
}
REPORT_LINES = {  # a line each variant's report must contain
    "sha1_key": "key derivation sha1",
    "raw_key": "key derivation raw",
    "response_code_envelope": "envelope response_code/response_message",
    "plaintext_responses": "responses plaintext",
    "iso_timestamps": "txnDate formats: iso-utc-millis",
    "documented": "txnDate formats: MMM d, yyyy h:mm:ss a (no zone)",
    "capped_search": "caps a response at 25",
    "capped_search_count_returned": "the window split in two returned",
    "paging_ignored": "paging IGNORED",
    "filters_ignored": "filters IGNORED",
    "other_status_words": "status words unknown to the connection, sorted by spelling (check with EnKash): FAILURE, SUCCESSFUL",
}
# A search that ignores its filters cannot prove a load present or absent: the hook stays safe (unknown), not "found".
LOOKUP_PROVES = {"filters_ignored": "unknown"}


def _connection(sandbox: Sandbox, **extra: Any) -> dict[str, Any]:
    conn = json.loads(sandbox.connection_json())
    conn["extra"].pop("key_derivation", None)  # the probe has to find it
    conn["extra"].update(TEST_CONNECTION_EXTRAS, **extra)
    return conn


def _use(monkeypatch, conn: dict[str, Any]) -> None:
    TOKEN_CACHE.clear()
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))


def _operations(sandbox: Sandbox) -> dict[str, int]:
    return requests.get(f"{sandbox.url}/_sandbox/counters", timeout=10).json()["operations"]


def _probe(capsys, *argv: str) -> tuple[int, str]:
    code = main(["--conn-id", CONN_ID, *argv])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_recommended_extras_make_the_hook_work_and_the_probe_never_writes(variant, monkeypatch, capsys):
    switches, expected = VARIANTS[variant]
    config = SandboxConfig(seed_cards=3, seed_transactions=60, days=3, settle_delay_s=0.0, **switches)
    with Sandbox(config) as sandbox:
        conn = _connection(sandbox)
        _use(monkeypatch, conn)
        code, out = _probe(capsys)
        assert code == 0, out
        operations = _operations(sandbox)
        assert set(operations) <= READS, operations  # read-only: no write reached the sandbox
        assert operations["auth_token"] == 1
        extras = json.loads(out.strip().splitlines()[-1])
        assert extras.items() >= expected.items(), out
        if variant in REPORT_LINES:
            assert REPORT_LINES[variant] in out, out

        conn["extra"].update(extras)
        _use(monkeypatch, conn)
        hook = EnKashHook(CONN_ID)
        now = datetime.now(UTC)
        found = hook.get_all_transactions(txn_date_from=now - timedelta(days=1), txn_date_to=now)
        assert found["data"] and all(record["enKashCardTransactionId"] for record in found["data"])
        card = hook.create_prepaid_card(first_name="Probe", mobile="9876543210")["enKashCardId"]
        loaded = hook.load_card_balance(
            enkash_card_id=card, amount=Decimal("10.00"), unique_reference_number=f"PROBE-{variant}"
        )
        assert loaded.outcome == "loaded"
        lookup = hook.look_up_load(enkash_card_id=card, unique_reference_number=f"PROBE-{variant}")
        assert lookup.state == LOOKUP_PROVES.get(variant, "found"), lookup
        assert hook.get_card_account_details()["cardAccountId"] == config.card_account_id


def test_a_refused_login_stops_the_probe_after_one_token_call(monkeypatch, capsys):
    with Sandbox(SandboxConfig()) as sandbox:
        _use(monkeypatch, {**_connection(sandbox), "password": "wrong-password"})
        code, out = _probe(capsys)
        assert code == 1
        assert "NOT tried again" in out and "lock the partner account" in out
        assert "wrong-password" not in out
        assert _operations(sandbox) == {"auth_token": 1}
        code, _ = _probe(capsys)  # a second run in the same process does not log in again either
        assert code == 1
        assert _operations(sandbox) == {"auth_token": 1}


def test_a_wrong_card_account_cannot_work(monkeypatch, capsys):
    with Sandbox(SandboxConfig()) as sandbox:
        conn = _connection(sandbox)
        conn["extra"]["card_account_id"] = "CANOSUCH1"
        _use(monkeypatch, conn)
        code, out = _probe(capsys)
        assert code == 1
        assert "Card account not found" in out and "Recommended" not in out


def test_an_unusable_connection_exits_2(monkeypatch, capsys):
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps({"conn_type": "enkash", "host": "http://127.0.0.1:9"})
    )
    assert main(["--conn-id", CONN_ID]) == 2


def test_test_connection_runs_the_first_two_steps(monkeypatch):
    with Sandbox(SandboxConfig(key_derivation="sha1")) as sandbox:
        _use(monkeypatch, _connection(sandbox))
        ok, message = EnKashHook(CONN_ID).test_connection()
        assert ok, message
        assert "key derivation sha1" in message
        assert set(_operations(sandbox)) == {"auth_token", "get_card_account_details"}
        _use(monkeypatch, {**_connection(sandbox), "password": "wrong-password"})
        ok, message = EnKashHook(CONN_ID).test_connection()
        assert not ok and "lock the partner account" in message and "wrong-password" not in message


def test_probe_is_a_module_and_a_console_script():
    import subprocess
    import sys

    for command in (
        [sys.executable, "-m", "airflow_provider_enkash.probe", "--help"],
        ["enkash-probe", "--help"],
    ):
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0 and "--conn-id" in result.stdout, result.stderr


class _TokenEchoingHandler(BaseHTTPRequestHandler):
    """EnKash's card-account read answering HTTP 400 with the bearer token in its error text; the
    rest forwarded to the sandbox."""

    def do_POST(self) -> None:
        owner = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith(ACCOUNT_READ_PATH):
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            owner.tokens.append(token)
            answer = json.dumps({"code": 400, "message": f"caller {token} is not valid here"}).encode()
            status = 400
        else:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            upstream = requests.post(owner.upstream + self.path, data=body, headers=headers, timeout=30)
            answer, status = upstream.content, upstream.status_code
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


ACCOUNT_READ_PATH = "/api/v0/partner/enKashCard/cardAccount/get"


def test_an_error_text_echoing_the_token_is_redacted_in_the_probe_report(monkeypatch, capsys):
    with Sandbox(SandboxConfig()) as sandbox:
        proxy = ThreadingHTTPServer(("127.0.0.1", 0), _TokenEchoingHandler)
        proxy.owner = SimpleNamespace(upstream=sandbox.url, tokens=[])  # type: ignore[attr-defined]
        serving = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        serving.start()
        try:
            conn = _connection(sandbox)
            conn["host"] = f"http://127.0.0.1:{proxy.server_address[1]}"
            _use(monkeypatch, conn)
            ok, message = EnKashHook(CONN_ID).test_connection()
            code, out = _probe(capsys)
        finally:
            proxy.shutdown()
            proxy.server_close()
        tokens = proxy.owner.tokens  # type: ignore[attr-defined]
        assert not ok and code == 1 and tokens, (message, out)
        assert "is not valid here" in message + out  # the error text itself is shown ...
        for token in tokens:
            assert len(token) >= 8 and token not in message and token not in out  # ... without the token
