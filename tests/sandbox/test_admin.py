"""The admin API and the in-process Python API."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests

from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig


def test_health(sandbox):
    assert sandbox.get("health")["status"] == "ok"


def test_counters_count_api_calls_by_operation_and_status_but_not_admin_calls(client, sandbox):
    client.login()
    client.post("get_card_account_details", {})
    client.post("get_card_details", {"cardAccountId": ""})
    sandbox.get("health")
    counters = sandbox.get("counters")
    assert counters["total"] == 3
    assert counters["operations"] == {"auth_token": 1, "get_card_account_details": 1, "get_card_details": 1}
    assert counters["statuses"] == {"200": 2, "400": 1}


def test_reset_restores_the_initial_state(client, sandbox, sandbox_server):
    card = client.new_card()
    client.load(card, 10, "RESET-1")
    sandbox.post("config", {"max_records": 3})
    for _ in range(3):
        client.token_response(password="wrong")
    sandbox.post("reset")
    assert sandbox.get("counters")["total"] == 0
    assert sandbox.get("ledger") == {"loads": []}
    assert sandbox.get("cards") == {"cards": []}
    assert sandbox.get("config")["max_records"] == sandbox_server.config.max_records
    assert sandbox_server.state.account_balance("CASANDBOX1") == Decimal("10000000.00")
    assert client.token_response().status_code == 200  # lock-out cleared


def test_config_changes_only_runtime_fields_and_checks_values(sandbox):
    assert sandbox.post("config", {"failure_rate": 0.25})["failure_rate"] == 0.25
    for change in ({"port": 1}, {"failure_rate": 3}, {"envelope_style": "xml"}, {"nope": 1}):
        response = sandbox.session.post(f"{sandbox.url}/_sandbox/config", json=change, timeout=5)
        assert response.status_code == 400, change
        assert next(iter(change)) in response.json()["error"]


def test_admin_cards_and_accounts(client, sandbox):
    created = sandbox.post("cards", {"cardAccountId": "CASANDBOX1", "count": 3})["enkash_card_ids"]
    assert len(created) == 3
    listed = sandbox.get("cards")["cards"]
    assert [c["enkash_card_id"] for c in listed] == created
    assert listed[0]["status"] == "ACTIVE" and "card_number" not in listed[0]
    client.load(created[0], "12.34", "ADM-1")
    accounts = sandbox.get("accounts")
    assert accounts["CASANDBOX1"]["balance"] == "9999987.66"
    assert accounts["CASANDBOX1"]["cards_balance"] == "12.34"
    assert accounts["CAGIFT0001"]["account_type"] == "GIFT"
    bad = sandbox.session.post(
        f"{sandbox.url}/_sandbox/cards", json={"cardAccountId": "CANOSUCH1"}, timeout=5
    )
    assert bad.status_code == 409


def test_secrets_list_everything_that_must_not_leak(client, sandbox):
    token = client.login()
    card = client.new_card()
    client.ok("set_card_pin", {"enKashCardId": card, "pinBlock": "4321", "otpRequired": False})
    otp = client.ok("generate_card_otp", {"enKashCardId": card, "cardOtpAction": "TRANSACTION_OTP"})["otp"]
    view = client.ok("view_card_details", {"enKashCardId": card})
    secrets = sandbox.get("secrets")
    assert secrets["password"] == "sandbox-password" and secrets["client_secret"] == "sandbox-client-secret"
    assert token in secrets["access_tokens"]
    assert view["cardNumber"] in secrets["card_numbers"] and view["cvv"] in secrets["cvvs"]
    assert "4321" in secrets["pins"] and otp in secrets["otps"]


def test_unknown_admin_route_is_404(sandbox):
    assert requests.get(f"{sandbox.url}/_sandbox/nothing", timeout=5).status_code == 404


def test_python_api_context_manager_and_connection_json():
    config = SandboxConfig(
        client_id="CEKCUSTOM1", company_id="CEKCUSTOM1", partner_id="CRCUSTOM1", card_account_id="CACUSTOM1"
    )
    with Sandbox(config) as sb:
        conn = json.loads(sb.connection_json())
        assert sb.url.startswith("http://127.0.0.1:")
        assert conn["host"] == sb.url and conn["extra"]["auth_url"] == sb.url + "/oauth/token"
        assert conn["conn_type"] == "enkash" and conn["login"] == "9999999999"
        assert conn["extra"]["client_id"] == "CEKCUSTOM1" and conn["extra"]["card_account_id"] == "CACUSTOM1"
        assert sb.state.account_balance("CACUSTOM1") == Decimal("10000000.00")
        assert requests.get(sb.url + "/_sandbox/health", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(conn["host"] + "/_sandbox/health", timeout=2)


@pytest.mark.parametrize(
    "change",
    [
        {"failure_rate": 1.5},
        {"company_id": "ACME"},
        {"envelope_overrides": {"nope": "code"}},
        {"gift_account_id": "CASANDBOX1"},
        {"card_account_balance": "1.234"},
    ],
)
def test_bad_config_is_refused_naming_the_field(change):
    with pytest.raises(ValueError, match=next(iter(change)).split("_")[0]):
        SandboxConfig(**change)


def test_stop_closes_kept_alive_connections():
    sandbox = Sandbox(SandboxConfig()).start()
    session = requests.Session()
    assert session.get(sandbox.url + "/_sandbox/health", timeout=5).status_code == 200
    url = sandbox.url
    sandbox.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(url + "/_sandbox/health", timeout=5)
