"""Every card action, read and look-up operator against the sandbox: the call happens and the XCom value is
the small dict promised (the issuing operators: test_card_issue.py)."""

from __future__ import annotations

import json
from decimal import Decimal

from airflow_provider_enkash.operators.card_reads import (
    EnKashGetCardAccountDetailsOperator,
    EnKashGetCardDetailsOperator,
    EnKashGetCardUsageLimitsOperator,
    EnKashViewCardDetailsOperator,
)
from airflow_provider_enkash.operators.cards import (
    EnKashBlockCardOperator,
    EnKashGenerateCardOtpOperator,
    EnKashOrderPhysicalCardOperator,
    EnKashRequestCardReplacementOperator,
    EnKashSetCardPinOperator,
    EnKashSetCardUsageControlsOperator,
)
from airflow_provider_enkash.operators.transaction_lookups import (
    EnKashGetAllTransactionsOperator,
    EnKashGetTransactionDetailsOperator,
)
from tests.operators.helpers import admin_card, new_card, run


def test_set_card_pin_reads_the_pin_from_a_variable(sandbox, hook, monkeypatch):
    card = new_card(hook)
    monkeypatch.setenv("AIRFLOW_VAR_OPS_TEST_PIN", "482913")
    out = run(
        EnKashSetCardPinOperator(task_id="pin", enkash_card_id=card, pin_source="variable:ops_test_pin")
    )
    assert out == {"enkash_card_id": card, "pin_set": True, "result": "Success"}
    assert admin_card(sandbox, card)["pin_set"] is True
    assert sandbox.get("secrets")["pins"] == ["482913"]


def test_set_card_pin_reads_the_pin_from_a_connection_extra(sandbox, hook, monkeypatch):
    card = new_card(hook)
    monkeypatch.setenv(
        "AIRFLOW_CONN_CARD_PINS", json.dumps({"conn_type": "generic", "extra": {card: "7391"}})
    )
    run(
        EnKashSetCardPinOperator(
            task_id="pin", enkash_card_id=card, pin_source=f"connection:card_pins#{card}"
        )
    )
    assert sandbox.get("secrets")["pins"] == ["7391"]


def test_get_card_account_details(sandbox, hook):
    new_card(hook, load_amount="10.10")
    out = run(EnKashGetCardAccountDetailsOperator(task_id="account"))
    assert out["card_account_id"] == "CASANDBOX1" and out["company_id"] == "CEKSANDBOX"
    assert Decimal(out["available_balance"]) == Decimal(sandbox.get("accounts")["CASANDBOX1"]["balance"])
    assert Decimal(out["available_card_balance"]) == Decimal("10.10") and out["total_cards"] == 1


def test_generate_otp_then_view_card_details_with_the_otp_from_a_variable(sandbox, hook, monkeypatch):
    card = new_card(hook)
    otp_out = run(EnKashGenerateCardOtpOperator(task_id="otp", enkash_card_id=card))
    assert set(otp_out) == {"enkash_card_id", "otp_request_id"} and otp_out["otp_request_id"]
    (otp,) = sandbox.get("secrets")["otps"]
    monkeypatch.setenv("AIRFLOW_VAR_CARD_OTP", otp)
    out = run(
        EnKashViewCardDetailsOperator(
            task_id="view",
            enkash_card_id=card,
            otp_request_id=otp_out["otp_request_id"],
            otp_source="variable:card_otp",
        )
    )
    assert out["card"]["enKashCardId"] == card and out["card"]["maskedNumber"].startswith("XXXX")
    assert "cardNumber" not in out["card"] and "cvv" not in out["card"]


def test_usage_controls_then_limits(sandbox, hook):
    cards = [new_card(hook), new_card(hook)]
    out = run(
        EnKashSetCardUsageControlsOperator(
            task_id="controls", enkash_card_ids=cards, atm_allowed=True, per_txn_limit="2500.50", dtd_count=5
        )
    )
    assert out == {
        "enkash_card_ids": cards,
        "controls_set": ["atm_allowed", "dtd_count", "per_txn_limit"],
        "controls_cleared": [],
        "result": "Success",
    }
    limits = run(EnKashGetCardUsageLimitsOperator(task_id="limits", enkash_card_id=cards[1]))["limits"]
    assert (
        limits["atmAllowed"] is True
        and Decimal(limits["perTxnLimit"]) == Decimal("2500.50")
        and limits["dtdCount"] == 5
    )


def test_block_unlock_and_replace(sandbox, hook):
    card = new_card(hook, load_amount="40")
    out = run(
        EnKashBlockCardOperator(task_id="lock", enkash_card_id=card, block_code="L", reason="lost wallet")
    )
    assert out == {"enkash_card_id": card, "block_code": "L", "result": "Success"}
    assert admin_card(sandbox, card)["status"] == "LOCKED"
    run(EnKashBlockCardOperator(task_id="unlock", enkash_card_id=card, block_code="UL"))
    assert admin_card(sandbox, card)["status"] == "ACTIVE"
    replaced = run(EnKashRequestCardReplacementOperator(task_id="replace", enkash_card_id=card))
    assert replaced["enkash_card_id"] == card and replaced["new_enkash_card_id"] not in (None, card)
    assert admin_card(sandbox, replaced["new_enkash_card_id"])["balance"] == "40.00"
    assert admin_card(sandbox, card)["replaced_by"] == replaced["new_enkash_card_id"]


def test_order_physical_card(sandbox, hook):
    card = new_card(hook)
    out = run(
        EnKashOrderPhysicalCardOperator(
            task_id="physical",
            enkash_card_id=card,
            physical_delivery_address_flag=True,
            delivery_address="12 MG Road",
            delivery_city="Bengaluru",
            delivery_state="KA",
            delivery_country="India",
            delivery_pincode="560001",
        )
    )
    assert out == {"enkash_card_id": card, "physical_card_ordered": True, "result": "Success"}
    assert admin_card(sandbox, card)["physical_card_ordered"] is True


def test_get_card_details_one_and_all(sandbox, hook):
    cards = {new_card(hook), new_card(hook)}
    one = run(EnKashGetCardDetailsOperator(task_id="one", enkash_card_id=min(cards)))
    assert one["records_count"] == 1 and one["cards"][0]["enKashCardId"] == min(cards)
    every = run(EnKashGetCardDetailsOperator(task_id="all"))
    assert {c["enKashCardId"] for c in every["cards"]} == cards
    assert all("token" not in c for c in every["cards"])


def test_transaction_details_and_search_find_a_load(sandbox, hook):
    card = new_card(hook)
    load = hook.load_card_balance(enkash_card_id=card, amount="99.99", unique_reference_number="OPS-TXN-1")
    found = run(
        EnKashGetTransactionDetailsOperator(
            task_id="txn", enkash_card_id=card, pg_reference_number="OPS-TXN-1"
        )
    )
    assert found["found"] is True
    assert found["enkash_transaction_id"] == load.enkash_transaction_id
    assert Decimal(found["amount"]) == Decimal("99.99") and found["status"] in {"CREATED", "SUCCESS"}
    search = run(
        EnKashGetAllTransactionsOperator(task_id="search", enkash_card_id=card, card_transaction_type="CR")
    )
    assert search["records_count"] == 1 and search["returned"] == 1 and search["truncated"] is False
    assert search["transactions"][0]["pgReferenceNumber"] == "OPS-TXN-1"
    missing = run(
        EnKashGetTransactionDetailsOperator(task_id="none", enkash_card_id=card, pg_reference_number="NOPE")
    )
    assert missing["found"] is False and missing["enkash_transaction_id"] is None


def test_search_keeps_at_most_max_xcom_records(sandbox, hook):
    card = new_card(hook)
    for i in range(3):
        hook.load_card_balance(enkash_card_id=card, amount="1", unique_reference_number=f"OPS-MAX-{i}")
    out = run(EnKashGetAllTransactionsOperator(task_id="search", enkash_card_id=card, max_xcom_records=2))
    assert out["returned"] == 2 and out["truncated"] is True and out["records_count"] == 3
