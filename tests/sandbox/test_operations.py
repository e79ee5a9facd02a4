"""Every card operation: a happy path and at least one business refusal."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from airflow_provider_enkash.operations import OPERATIONS
from airflow_provider_enkash.sandbox.operations import HANDLERS


def test_every_operation_has_a_handler():
    assert set(HANDLERS) == set(OPERATIONS)


def test_create_card_account_then_it_is_empty(client):
    created = client.ok(
        "create_card_account",
        {
            "companyName": "Acme",
            "planMasterId": "PMGAZ7L5A",
            "email": "ops@acme.in",
            "mobile": "9000000001",
            "accountTitle": "Meal",
            "accountType": "MEAL",
        },
    )
    assert re.fullmatch(r"CA[A-Z0-9]{7}", created["cardAccountId"])
    details = client.ok("get_card_account_details", {"cardAccountId": created["cardAccountId"]})
    assert details["availableBalance"] == 0
    card = client.new_card(cardAccountId=created["cardAccountId"])
    assert client.load(card, 1, "EMPTY-1", cardAccountId=created["cardAccountId"])["message"] == (
        "Insufficient balance in card account"
    )


def test_create_card_account_for_another_company_is_refused(client):
    payload = {
        "companyId": "CEKOTHER01",
        "companyName": "X",
        "planMasterId": "P",
        "email": "a@b.co",
        "mobile": "9000000001",
        "accountTitle": "T",
        "accountType": "MEAL",
    }
    assert client.refused("create_card_account", payload) == "Company not found"


def test_create_prepaid_card_payload(client):
    payload = client.ok(
        "create_prepaid_card",
        {
            "title": "Mr",
            "firstName": "johny",
            "lastName": "bateman",
            "gender": "M",
            "mobile": "6001098801",
            "email": "johny@example.com",
            "loadAmount": 10,
        },
    )
    assert re.fullmatch(r"EKC[A-Z0-9]{7}", payload["enKashCardId"])
    assert re.fullmatch(r"EK[A-Z0-9]{6}", payload["userId"])
    assert payload["cardAccountId"] == "CASANDBOX1"
    assert re.fullmatch(r"XXXX XXXX XXXX \d{4}", payload["maskedNumber"])
    assert payload["otbBalance"] == 10
    assert payload["cardStatus"]["label"] == "ACTIVE"
    assert payload["cardType"] == "PREPAID"
    assert "cardNumber" not in payload and "cvv" not in payload


def test_create_card_in_unknown_account_is_refused(client):
    assert client.refused("create_prepaid_card", {"cardAccountId": "CANOSUCH1"}) == "Card account not found"


def test_create_gift_card_debits_the_gift_account_and_cannot_be_loaded(client, sandbox):
    before = Decimal(sandbox.get("accounts")["CAGIFT0001"]["balance"])
    payload = client.ok(
        "create_gift_card", {"cardAccountId": "CAGIFT0001", "firstName": "G", "loadAmount": "500.50"}
    )
    assert payload["cardType"] == "GIFT" and payload["otbBalance"] == Decimal("500.50")
    assert Decimal(sandbox.get("accounts")["CAGIFT0001"]["balance"]) == before - Decimal("500.50")
    refusal = client.load(payload["enKashCardId"], 1, "GIFT-1", cardAccountId="CAGIFT0001")
    assert refusal["code"] == 1 and refusal["message"] == "Gift card cannot be loaded"
    assert sandbox.get("counters")["operations"]["create_gift_card"] == 1


def test_create_gift_card_beyond_the_gift_balance_is_refused(client):
    message = client.refused("create_gift_card", {"cardAccountId": "CAGIFT0001", "loadAmount": 2_000_000})
    assert message == "Insufficient balance in card account"


def test_set_card_pin(client, sandbox):
    card = client.new_card()
    assert (
        client.ok("set_card_pin", {"enKashCardId": card, "pinBlock": "9078", "otpRequired": False})
        == "Success"
    )
    assert client.ok("get_card_details", {"enKashCardId": card})["data"][0]["pinSet"] is True
    assert "9078" in sandbox.get("secrets")["pins"]
    assert (
        client.refused(
            "set_card_pin", {"enKashCardId": "EKCNOSUCH1", "pinBlock": "9078", "otpRequired": False}
        )
        == "Card not found"
    )


def test_get_card_account_details(client):
    card = client.new_card()
    client.load(card, "100.25", "ACC-1")
    details = client.ok("get_card_account_details", {})
    assert details["availableBalance"] == Decimal("9999899.75")
    assert details["availableCardBalance"] == Decimal("100.25")
    assert details["primaryEnKashCard"]["enKashCardId"] == card
    assert details["totalCards"] == details["activeCards"] == 1
    assert (
        client.refused("get_card_account_details", {"cardAccountId": "CANOSUCH1"}) == "Card account not found"
    )


def test_generate_otp_and_view_card_details(client, sandbox):
    card = client.new_card()
    otp = client.ok("generate_card_otp", {"enKashCardId": card, "cardOtpAction": "TRANSACTION_OTP"})
    assert re.fullmatch(r"\d{6}", otp["otp"])
    view = client.ok(
        "view_card_details", {"enKashCardId": card, "otpRequestId": otp["otpRequestId"], "otp": otp["otp"]}
    )
    assert re.fullmatch(r"\d{16}", view["cardNumber"]) and re.fullmatch(r"\d{3}", view["cvv"])
    assert view["maskedNumber"].endswith(view["cardNumber"][-4:])
    assert re.fullmatch(r"\d{2}", view["expiryMonth"]) and re.fullmatch(r"\d{4}", view["expiryYear"])
    secrets = sandbox.get("secrets")
    assert view["cardNumber"] in secrets["card_numbers"] and otp["otp"] in secrets["otps"]
    # the OTP is single-use
    again = {"enKashCardId": card, "otpRequestId": otp["otpRequestId"], "otp": otp["otp"]}
    assert client.refused("view_card_details", again) == "Invalid OTP"


def test_otp_echo_can_be_switched_off(client, sandbox):
    sandbox.post("config", {"echo_otp": False})
    assert set(
        client.ok(
            "generate_card_otp", {"enKashCardId": client.new_card(), "cardOtpAction": "TRANSACTION_OTP"}
        )
    ) == {"otpRequestId"}


def test_usage_controls_set_and_get(client):
    cards = [client.new_card(), client.new_card()]
    before = client.ok("get_card_usage_limits", {"enKashCardId": cards[0]})
    assert before["posAllowed"] is True and before["perTxnLimit"] is None
    result = client.ok(
        "card_usage_controls",
        {
            "enKashCardIds": cards,
            "posAllowed": False,
            "atmAllowed": True,
            "perTxnLimit": 2500.5,
            "dtdCount": 10,
        },
    )
    assert result == "Success"
    after = client.ok("get_card_usage_limits", {"enKashCardId": cards[1]})
    assert after["posAllowed"] is False and after["atmAllowed"] is True
    assert after["perTxnLimit"] == Decimal("2500.5") and after["dtdCount"] == 10
    assert {"createdBy", "createdOn", "modifiedOn"} <= set(after)
    assert (
        client.refused("card_usage_controls", {"enKashCardIds": [cards[0], "EKCNOSUCH1"]}) == "Card not found"
    )
    assert client.refused("get_card_usage_limits", {"enKashCardId": "EKCNOSUCH1"}) == "Card not found"


def test_block_lock_unlock_and_permanent_block(client):
    card = client.new_card()
    block = {"enKashCardId": card, "otpMedium": "MOBILE", "otpRequired": False}
    assert client.ok("block_card", {**block, "blockCode": "L", "reason": "travel"}) == "Success"
    assert client.ok("get_card_details", {"enKashCardId": card})["data"][0]["cardStatus"]["label"] == "LOCKED"
    assert client.load(card, 1, "LOCKED-1")["message"] == "Card is blocked"
    client.ok("block_card", {**block, "blockCode": "UL"})
    assert client.load(card, 1, "UNLOCKED-1")["code"] == 0
    client.ok("block_card", {**block, "blockCode": "BL"})
    assert client.refused("block_card", {**block, "blockCode": "UL"}) == "Card is permanently blocked"


def test_block_with_otp_required_checks_the_otp(client):
    card = client.new_card()
    block = {"enKashCardId": card, "blockCode": "L", "otpMedium": "MOBILE", "otpRequired": True}
    otp = client.ok("generate_card_otp", {"enKashCardId": card, "cardOtpAction": "TRANSACTION_OTP"})
    wrong = "000000" if otp["otp"] != "000000" else "111111"
    assert (
        client.refused("block_card", {**block, "otpRequestId": otp["otpRequestId"], "otp": wrong})
        == "Invalid OTP"
    )
    assert client.refused("block_card", {**block}) == "Invalid OTP"
    assert (
        client.ok("block_card", {**block, "otpRequestId": otp["otpRequestId"], "otp": otp["otp"]})
        == "Success"
    )


def test_request_card_replacement_moves_the_balance(client):
    card = client.new_card()
    client.load(card, "75.00", "REPL-1")
    replaced = client.ok(
        "request_card_replacement", {"enKashCardId": card, "otpMedium": "MOBILE", "otpRequired": False}
    )
    new = replaced["enKashCardId"]
    assert new != card and replaced["oldEnKashCardId"] == card
    rows = {r["enKashCardId"]: r for r in client.ok("get_card_details", {})["data"]}
    assert rows[new]["otbBalance"] == 75 and rows[new]["replacementOf"] == card
    assert rows[card]["otbBalance"] == 0 and rows[card]["cardStatus"]["label"] == "BLOCKED"
    again = {"enKashCardId": card, "otpMedium": "MOBILE", "otpRequired": False}
    assert client.refused("request_card_replacement", again) == "Card already replaced"


def test_order_physical_card_once(client):
    card = client.new_card()
    order = {
        "enKashCardId": card,
        "deliveryAddress": "1 MG Road",
        "deliveryCity": "Pune",
        "deliveryPincode": "411001",
    }
    assert client.ok("order_physical_card", order) == "Success"
    assert client.ok("get_card_details", {"enKashCardId": card})["data"][0]["physicalCard"] is True
    assert client.refused("order_physical_card", order) == "Physical card already ordered"


def test_get_card_details_lists_without_sensitive_data(client):
    cards = [client.new_card() for _ in range(3)]
    listing = client.ok("get_card_details", {})
    assert listing["recordsCount"] == 3 and [r["enKashCardId"] for r in listing["data"]] == cards
    for row in listing["data"]:
        assert "cardNumber" not in row and "cvv" not in row and row["expiryMonth"] == ""
    assert client.ok("get_card_details", {"enKashCardId": "EKCNOSUCH1"}) == {"recordsCount": 0, "data": []}
    assert client.refused("get_card_details", {"cardAccountId": "CANOSUCH1"}) == "Card account not found"


@pytest.mark.parametrize("operation", ["get_transaction_details", "get_all_transactions"])
def test_transaction_operations_share_one_search(client, sandbox, operation):
    card = client.new_card()
    client.load(card, 5, "SHARED-1")
    payload = (
        {"enKashCardId": card, "pgReferenceNumber": "SHARED-1"}
        if operation == "get_transaction_details"
        else {}
    )
    result = client.ok(operation, payload)
    assert result["recordsCount"] == 1 and result["data"][0]["pgReferenceNumber"] == "SHARED-1"
    assert sandbox.get("counters")["operations"][operation] == 1
    assert client.refused(operation, {**payload, "cardAccountId": "CANOSUCH1"}) == "Card account not found"


def test_transaction_details_require_the_card_as_documented(client, sandbox):
    """Get Transaction Details documents enKashCardId as required: a reference alone is a 400 naming it."""
    card = client.new_card()
    client.load(card, 5, "DETAILS-1")
    response = client.post("get_transaction_details", {"pgReferenceNumber": "DETAILS-1"})
    assert response.status_code == 400
    assert client.envelope(response)["message"] == "enKashCardId: is required"
    counters = sandbox.get("counters")
    assert counters["operations"]["get_transaction_details"] == 1 and counters["statuses"]["400"] == 1
    found = client.ok("get_transaction_details", {"enKashCardId": card, "pgReferenceNumber": "DETAILS-1"})
    assert [r["pgReferenceNumber"] for r in found["data"]] == ["DETAILS-1"]


def test_transaction_details_without_card_variant_searches_the_account(client, sandbox):
    """``details_without_card``: the call is checked as the search filter it shares its path with."""
    sandbox.post("config", {"details_without_card": True})
    card = client.new_card()
    client.load(card, 5, "DETAILS-2")
    found = client.ok("get_transaction_details", {"pgReferenceNumber": "DETAILS-2"})
    assert found["recordsCount"] == 1 and found["data"][0]["enkashCardId"] == card
    assert client.ok("get_transaction_details", {"pgReferenceNumber": "NO-SUCH-REF"}) == {
        "recordsCount": 0,
        "data": [],
    }
