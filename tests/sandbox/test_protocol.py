"""The wire protocol: token flow, lock-out, expiry, headers, encryption, envelopes, validation."""

from __future__ import annotations

import time

import pytest

from airflow_provider_enkash.crypto import decrypt_text, dumps_payload, encrypt_text, loads_payload
from airflow_provider_enkash.operations import OPERATIONS


def test_token_has_the_documented_shape(client):
    response = client.token_response()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in", "scope"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399
    assert body["scope"] == "read write trust"


def test_bad_basic_credentials_are_401_unauthorized(client):
    response = client.token_response(secret="wrong-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_three_wrong_passwords_lock_until_unlocked(client, sandbox):
    for _ in range(3):
        response = client.token_response(password="wrong")
        assert response.status_code == 400
        assert response.json() == {"error": "invalid_grant", "error_description": "Bad credentials"}
    locked = client.token_response()
    assert locked.status_code == 400
    assert locked.json()["error_description"] == "User account is locked"
    sandbox.post("unlock")
    assert client.token_response().status_code == 200


def test_a_good_login_resets_the_failure_count(client):
    for _ in range(2):
        assert client.token_response(password="wrong").status_code == 400
    assert client.token_response().status_code == 200
    for _ in range(2):
        assert client.token_response(password="wrong").status_code == 400
    assert client.token_response().status_code == 200


@pytest.mark.parametrize("form", [{"grant_type": "client_credentials"}, {"clientId": "CEKOTHER00"}])
def test_wrong_grant_or_client_id_is_400(client, form):
    assert client.token_response(**form).status_code == 400


def test_token_expires_after_the_configured_lifetime(client, sandbox):
    sandbox.post("config", {"token_lifetime_s": 1})
    response = client.token_response()
    assert response.json()["expires_in"] == 1
    token = response.json()["access_token"]
    assert client.post("get_card_account_details", {}, token=token).status_code == 200
    time.sleep(1.1)
    expired = client.post("get_card_account_details", {}, token=token)
    assert expired.status_code == 401
    assert expired.json() == {"error": "invalid_token", "error_description": "Access token expired"}


@pytest.mark.parametrize(
    ("headers", "error"),
    [({"Authorization": "Bearer nope"}, "invalid_token"), ({"Authorization": ""}, "unauthorized")],
)
def test_unknown_or_missing_bearer_is_401(client, headers, error):
    response = client.post("get_card_account_details", {}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == error


@pytest.mark.parametrize(("partner", "text"), [("", "required"), ("CROTHER00", "not recognised")])
def test_partner_id_header_is_required_and_checked(client, partner, text):
    response = client.post("get_card_account_details", {}, headers={"partnerId": partner})
    assert response.status_code == 403
    assert "partnerId" in response.json()["message"]
    assert text in response.json()["message"]


def test_plaintext_requests_are_422_unless_allowed(client, sandbox):
    refused = client.post("get_card_account_details", {}, encrypt=False)
    assert refused.status_code == 422
    assert refused.json()["message"] == "Invalid encrypted request"
    sandbox.post("config", {"accept_plaintext_requests": True})
    assert client.ok("get_card_account_details", {}, encrypt=False)["cardAccountId"] == "CASANDBOX1"


def test_request_encrypted_with_another_secret_is_422(client):
    body = {"request": encrypt_text('{"companyId":"CEKSANDBOX"}', "another-secret")}
    response = client.session.post(
        client.url + OPERATIONS["get_card_account_details"].path,
        data=dumps_payload(body),
        headers={
            "Authorization": f"Bearer {client.login()}",
            "partnerId": "CRSANDBOX",
            "Content-Type": "application/json",
        },
        timeout=10,
    )
    assert response.status_code == 422
    assert response.json()["message"] == "Invalid encrypted request"


def test_responses_are_encrypted_by_default_and_plaintext_by_flag(client, sandbox):
    response = client.post("get_card_usage_limits", {"enKashCardId": client.new_card()})
    wrapper = response.json()
    assert list(wrapper) == ["request"]
    assert loads_payload(decrypt_text(wrapper["request"], "sandbox-client-secret"))["code"] == 0
    sandbox.post("config", {"plaintext_responses": True})
    assert client.post("get_card_account_details", {}).json()["response_code"] == 0


def test_envelope_spelling_default_overrides_and_switch(client, sandbox):
    assert "response_code" in client.call("get_card_account_details", {})  # documented spelling
    assert "code" in client.call("get_card_details", {})
    sandbox.post("config", {"envelope_style": "response_code", "envelope_overrides": {}})
    envelope = client.call("get_card_details", {})
    assert envelope["response_code"] == 0 and envelope["response_message"] == "Success"
    sandbox.post("config", {"envelope_style": "code"})
    assert client.call("get_card_account_details", {})["code"] == 0


@pytest.mark.parametrize(
    ("operation", "payload", "status", "field"),
    [
        ("load_card_balance", {"enKashCardId": "EKC0000000", "transactionType": "CR"}, 400, "amount"),
        (
            "load_card_balance",
            {"enKashCardId": "EKC0000000", "amount": 0, "transactionType": "CR"},
            422,
            "amount",
        ),
        (
            "load_card_balance",
            {"enKashCardId": "EKC0000000", "amount": "1.234", "transactionType": "CR"},
            422,
            "amount",
        ),
        (
            "load_card_balance",
            {"enKashCardId": "EKC0000000", "amount": 5, "transactionType": "DR"},
            422,
            "transactionType",
        ),
        (
            "load_card_balance",
            {"enKashCardId": "EKC0000000", "amount": 5, "transactionType": "CR", "type": "X"},
            422,
            "type",
        ),
        ("create_prepaid_card", {"mobile": "12345"}, 422, "mobile"),
        ("create_prepaid_card", {"email": "not-an-email"}, 422, "email"),
        ("create_prepaid_card", {"gender": "X"}, 422, "gender"),
        ("create_prepaid_card", {"title": "Dr"}, 422, "title"),
        ("create_prepaid_card", {"companyId": "CEK123"}, 422, "companyId"),
        ("create_prepaid_card", {"cardAccountId": ""}, 400, "cardAccountId"),
        ("create_gift_card", {"cardAccountId": "CAGIFT0001"}, 400, "loadAmount"),
        ("create_card_account", {"companyName": "X"}, 400, "planMasterId"),
        (
            "create_card_account",
            {
                "companyName": "X",
                "planMasterId": "P",
                "email": "a@b.co",
                "mobile": "9999999999",
                "accountTitle": "T",
                "accountType": "CASH",
            },
            422,
            "accountType",
        ),
        (
            "block_card",
            {"enKashCardId": "EKC0000000", "blockCode": "XX", "otpMedium": "MOBILE"},
            422,
            "blockCode",
        ),
        (
            "block_card",
            {"enKashCardId": "EKC0000000", "blockCode": "L", "otpMedium": "SMS"},
            422,
            "otpMedium",
        ),
        ("card_usage_controls", {"enKashCardIds": []}, 422, "enKashCardIds"),
        ("card_usage_controls", {"enKashCardIds": [f"EKC{i:07d}" for i in range(101)]}, 422, "enKashCardIds"),
        (
            "set_card_pin",
            {"enKashCardId": "EKC0000000", "pinBlock": "12", "otpRequired": False},
            422,
            "pinBlock",
        ),
        ("get_all_transactions", {"txnDateFrom": "yesterday"}, 422, "txnDateFrom"),
        ("get_all_transactions", {"cardTransactionType": "XX"}, 422, "cardTransactionType"),
    ],
)
def test_validation_names_the_field(client, operation, payload, status, field):
    response = client.post(operation, payload)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status
    assert body["message"].startswith(f"{field}: ")
    assert body["payload"] is None


def test_unknown_path_is_404_and_get_is_405(client):
    assert client.session.post(client.url + "/api/v0/partner/enKashCard/nope", timeout=5).status_code == 404
    assert client.session.get(client.url + OPERATIONS["block_card"].path, timeout=5).status_code == 405
