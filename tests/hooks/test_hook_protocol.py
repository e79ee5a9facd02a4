"""EnKashHook at the wire against the sandbox: connection from env, token, encryption, envelopes."""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_enkash.exceptions import (
    EnKashAuthError,
    EnKashBusinessError,
    EnKashConfigError,
    EnKashCryptoError,
    EnKashHTTPError,
    EnKashValidationError,
)
from airflow_provider_enkash.hooks.enkash import EnKashHook
from tests.conftest import connection_json


def _counter(sandbox, operation: str) -> int:
    return int(sandbox.get("counters")["operations"].get(operation, 0))


def test_env_var_connection_drives_call_through_token_and_encryption(sandbox):
    assert json.loads(os.environ["AIRFLOW_CONN_ENKASH_DEFAULT"])["conn_type"] == "enkash"
    payload = EnKashHook().call("get_card_account_details", {})
    assert payload["cardAccountId"] == "CASANDBOX1"
    assert payload["companyId"] == "CEKSANDBOX"
    assert _counter(sandbox, "auth_token") == 1


def test_hook_init_reads_nothing(sandbox, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_ENKASH_DEFAULT")
    hook = EnKashHook(enkash_conn_id="does_not_exist")
    assert hook.enkash_conn_id == "does_not_exist"
    assert sandbox.requests_total() == 0


def test_plaintext_responses_and_response_code_envelope_are_read(sandbox, hook):
    sandbox.post("config", {"plaintext_responses": True, "envelope_style": "response_code"})
    assert hook.get_card_usage_limits(enkash_card_id=_new_card(hook))["enKashCardId"]


def test_plaintext_requests_when_encryption_is_switched_off(sandbox, sandbox_server, monkeypatch):
    sandbox.post("config", {"accept_plaintext_requests": True})
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(sandbox_server, encrypt_requests=False))
    assert EnKashHook().get_card_account_details()["cardAccountId"] == "CASANDBOX1"


def test_encrypted_requests_are_required_by_default(sandbox, sandbox_server, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(sandbox_server, encrypt_requests=False))
    with pytest.raises(EnKashHTTPError) as info:
        EnKashHook().get_card_account_details()
    assert info.value.status == 422


def test_business_failure_raises_with_code_and_message(sandbox, hook):
    card = _new_card(hook)
    hook.load_card_balance(
        enkash_card_id=card, amount=Decimal("6000000.00"), unique_reference_number="R-big-1"
    )
    with pytest.raises(EnKashBusinessError) as info:
        hook.load_card_balance(
            enkash_card_id=card, amount=Decimal("6000000.00"), unique_reference_number="R-big-2"
        )
    assert info.value.code == 1
    assert "Insufficient balance" in info.value.enkash_message


def test_unknown_card_is_a_business_error(hook):
    with pytest.raises(EnKashBusinessError, match="not found"):
        hook.get_card_usage_limits(enkash_card_id="EKCNOSUCH1")


def test_server_validation_error_names_the_field(sandbox, hook):
    # a payload only the server can judge: bypass local validation through call()
    with pytest.raises(EnKashHTTPError) as info:
        hook.call("block_card", {"enKashCardId": "EKC0000000", "blockCode": "XX", "otpMedium": "MOBILE"})
    assert info.value.status in (400, 422)
    assert "blockCode" in str(info.value)


def test_wrong_password_is_not_retried_and_says_why(sandbox, sandbox_server, monkeypatch):
    conn = json.loads(connection_json(sandbox_server))
    conn["password"] = "wrong-password"
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", json.dumps(conn))
    with pytest.raises(EnKashAuthError) as info:
        EnKashHook().get_card_account_details()
    assert info.value.may_lock_account
    assert isinstance(info.value, AirflowFailException)  # Airflow must not retry the task either
    assert "wrong-password" not in str(info.value)
    # eight more threads and hooks in this process with the same credentials: no second login
    with ThreadPoolExecutor(max_workers=8) as pool:
        errors = list(pool.map(lambda _: _refusal(EnKashHook()), range(8)))
    assert all(isinstance(e, EnKashAuthError) for e in errors)
    assert _counter(sandbox, "auth_token") == 1
    # corrected credentials are a new login
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(sandbox_server))
    assert EnKashHook().get_card_account_details()["cardAccountId"] == "CASANDBOX1"


def _refusal(hook: EnKashHook) -> BaseException | None:
    try:
        hook.get_card_account_details()
    except EnKashAuthError as exc:
        return exc
    return None


def test_sixteen_threads_share_one_token(sandbox, hook):
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def work():
        barrier.wait()
        try:
            hook.get_card_account_details()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _counter(sandbox, "auth_token") == 1
    assert _counter(sandbox, "get_card_account_details") == 16


def test_expired_token_is_refetched_once(sandbox, hook):
    hook.get_card_account_details()
    sandbox.post("faults", {"mode": "revoke_token", "count": 1})
    assert hook.get_card_account_details()["cardAccountId"] == "CASANDBOX1"
    assert _counter(sandbox, "auth_token") == 2


def test_undecryptable_response_is_a_crypto_error_without_secrets(sandbox, hook):
    sandbox.post("faults", {"operation": "get_card_account_details", "mode": "undecryptable", "count": 1})
    with pytest.raises(EnKashCryptoError) as info:
        hook.get_card_account_details()
    assert "sandbox-client-secret" not in str(info.value)


def test_test_connection_reports_success_and_failure_without_secrets(sandbox, sandbox_server, monkeypatch):
    assert EnKashHook().test_connection()[0] is True
    conn = json.loads(connection_json(sandbox_server))
    conn["extra"]["client_secret"] = "not-the-secret"
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", json.dumps(conn))
    ok, message = EnKashHook().test_connection()
    assert ok is False
    assert "not-the-secret" not in message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"host": "http://example.com"}, "http://"),
        ({"login": ""}, "login"),
        ({"extra": {"client_id": "CEKSANDBOX", "partner_id": "CRSANDBOX"}}, "client_secret"),
        ({"extra_merge": {"key_derivation": "md5"}}, "key_derivation"),
        ({"extra_merge": {"timeout": "soon"}}, "timeout"),
        ({"extra_merge": {"surprise": 1}}, "surprise"),
        ({"extra_merge": {"paths": {"no_such_op": "/x"}}}, "paths"),
    ],
)
def test_bad_connections_fail_before_any_request(sandbox, sandbox_server, monkeypatch, change, field):
    conn = json.loads(connection_json(sandbox_server))
    conn["extra"].update(change.pop("extra_merge", {}))
    conn.update(change)
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", json.dumps(conn))
    with pytest.raises(EnKashConfigError, match=field):
        EnKashHook().get_card_account_details()
    assert sandbox.requests_total() == 0


def test_insecure_http_allowed_only_when_asked(sandbox_server):
    from airflow.sdk import Connection

    from airflow_provider_enkash.connection import settings_from_connection

    conn = Connection.from_json(connection_json(sandbox_server, allow_insecure_http=True), conn_id="x")
    conn.host = "http://enkash.internal.example"
    assert settings_from_connection(conn).base_url == "http://enkash.internal.example"


def test_unknown_operation_is_refused_locally(sandbox, hook):
    with pytest.raises(EnKashValidationError, match="operation"):
        hook.call("transfer_everything", {})
    assert sandbox.requests_total() == 0


def _new_card(hook: EnKashHook) -> str:
    return hook.create_prepaid_card(first_name="Asha", mobile="9876543210")["enKashCardId"]


def test_environment_proxies_and_ca_bundle_are_resolved_once(monkeypatch, sandbox_server):
    from airflow.sdk import Connection

    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    conn = Connection.from_json(connection_json(sandbox_server), conn_id="proxied")
    conn.host = "https://pay-uat.enkash.in"
    hook = EnKashHook.from_connection(conn)
    http = hook.get_conn()  # builds the HTTP client only: no request is made
    assert http.proxy == "http://127.0.0.1:3128"
    assert http.verify == hook.settings.verify
    assert hook.settings.verify == "/etc/ssl/certs/ca-certificates.crt"
