"""Bad input fails before any request (the sandbox's counters prove it); refusals and unclear writes are typed."""

from __future__ import annotations

from datetime import datetime

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_enkash.exceptions import (
    EnKashBusinessError,
    EnKashConnectionError,
    EnKashOutcomeUnknown,
    EnKashRateLimitError,
    EnKashValidationError,
    EnKashWriteOutcomeUnknown,
)
from airflow_provider_enkash.operators.card_reads import (
    EnKashGetCardAccountDetailsOperator,
    EnKashGetCardDetailsOperator,
    EnKashGetCardUsageLimitsOperator,
    EnKashViewCardDetailsOperator,
)
from airflow_provider_enkash.operators.cards import (
    EnKashBlockCardOperator,
    EnKashCreateCardAccountOperator,
    EnKashCreateGiftCardOperator,
    EnKashCreatePrepaidCardOperator,
    EnKashGenerateCardOtpOperator,
    EnKashOrderPhysicalCardOperator,
    EnKashRequestCardReplacementOperator,
    EnKashSetCardPinOperator,
    EnKashSetCardUsageControlsOperator,
)
from airflow_provider_enkash.operators.loads import EnKashLoadCardBalanceOperator
from airflow_provider_enkash.operators.transaction_lookups import (
    EnKashGetAllTransactionsOperator,
    EnKashGetTransactionDetailsOperator,
)
from tests.operators.helpers import counter, new_card, run

CARD = "EKC1234567"
ACCOUNT = {
    "company_name": "Acme",
    "plan_master_id": "PMGAZ7L5A",
    "admin_email": "ops@acme.example",
    "mobile": "9876543210",
    "account_title": "Meal",
    "account_type": "MEAL",
}

# (operator class, arguments, the field the error must name)
BAD_INPUT = [
    (EnKashCreateCardAccountOperator, {**ACCOUNT, "mobile": "98765"}, "mobile"),
    (EnKashCreateCardAccountOperator, {**ACCOUNT, "admin_email": "ops.acme"}, "email"),
    (EnKashCreateCardAccountOperator, {**ACCOUNT, "account_type": "SAVINGS"}, "accountType"),
    (EnKashCreatePrepaidCardOperator, {"card_holder": {"mobile": "98765"}}, "mobile"),
    (EnKashCreatePrepaidCardOperator, {"card_holder": {"email": "not-an-email"}}, "email"),
    (EnKashCreatePrepaidCardOperator, {"card_holder": {"gender": "X"}}, "gender"),
    (EnKashCreatePrepaidCardOperator, {"card_holder": {"title": "Dr"}}, "title"),
    (EnKashCreatePrepaidCardOperator, {"card_holder": {"special_date": "2001-09-02"}}, "specialDate"),
    (EnKashCreatePrepaidCardOperator, {"card_holder": {"nickname": "Ravi"}}, "nickname"),
    (EnKashCreatePrepaidCardOperator, {"card_holder": "Ravi"}, "card_holder"),
    (EnKashCreatePrepaidCardOperator, {"card_holder": {}, "load_amount": "10.005"}, "loadAmount"),
    (EnKashCreateGiftCardOperator, {"card_holder": {}, "load_amount": 0.1 + 0.2}, "loadAmount"),
    (EnKashCreateGiftCardOperator, {"card_holder": {}, "load_amount": "0"}, "loadAmount"),
    (EnKashGetCardAccountDetailsOperator, {"company_id": "ACME"}, "companyId"),
    (EnKashGenerateCardOtpOperator, {"enkash_card_id": CARD, "card_otp_action": "LOGIN OTP!"}, "cardOtpAction"),
    (EnKashViewCardDetailsOperator, {"enkash_card_id": ""}, "enKashCardId"),
    (EnKashSetCardUsageControlsOperator, {"enkash_card_ids": []}, "enKashCardIds"),
    (EnKashSetCardUsageControlsOperator, {"enkash_card_ids": [CARD], "per_txn_limit": "1.001"}, "perTxnLimit"),
    (EnKashSetCardUsageControlsOperator, {"enkash_card_ids": [CARD], "dtd_count": -1}, "dtdCount"),
    (EnKashSetCardUsageControlsOperator, {"enkash_card_ids": [CARD], "pos_allowed": "yes"}, "posAllowed"),
    (EnKashGetCardUsageLimitsOperator, {"enkash_card_id": None}, "enKashCardId"),
    (EnKashRequestCardReplacementOperator, {"enkash_card_id": CARD, "otp_medium": "SMS"}, "otpMedium"),
    (EnKashRequestCardReplacementOperator, {"enkash_card_id": CARD, "otp_required": True}, "otp"),
    (EnKashBlockCardOperator, {"enkash_card_id": CARD, "block_code": "X"}, "blockCode"),
    (EnKashOrderPhysicalCardOperator, {"enkash_card_id": CARD, "delivery_pincode": "5600"}, "deliveryPincode"),
    (EnKashGetCardDetailsOperator, {"card_account_id": "CA 1"}, "cardAccountId"),
    (EnKashGetTransactionDetailsOperator, {"enkash_card_id": CARD, "pg_reference_number": ""}, "pgReferenceNumber"),
    (EnKashGetAllTransactionsOperator, {"txn_date_from": "yesterday"}, "txnDateFrom"),
    (EnKashGetAllTransactionsOperator, {"txn_date_to": datetime(2025, 1, 24)}, "txnDateTo"),
    (EnKashGetAllTransactionsOperator, {"amount_from": "-1"}, "amountFrom"),
    (EnKashGetAllTransactionsOperator, {"card_transaction_type": "XX"}, "cardTransactionType"),
    (EnKashLoadCardBalanceOperator, {"enkash_card_id": CARD, "amount": "0"}, "amount"),
    (EnKashLoadCardBalanceOperator, {"enkash_card_id": CARD, "amount": "12.345"}, "amount"),
    (EnKashLoadCardBalanceOperator, {"enkash_card_id": CARD, "amount": 0.1 + 0.2}, "amount"),
    (EnKashLoadCardBalanceOperator, {"enkash_card_id": CARD, "amount": "1", "unique_reference_number": "R" * 65}, "uniqueReferenceNumber"),
    (EnKashLoadCardBalanceOperator, {"enkash_card_id": CARD, "amount": "1", "is_gift_card": True}, "enKashCardId"),
    (EnKashLoadCardBalanceOperator, {"enkash_card_id": CARD, "amount": "1", "card_account_id": "CAGIFT0001", "gift_card_account_ids": ["CAGIFT0001"]}, "cardAccountId"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("operator", "arguments", "field"), BAD_INPUT, ids=lambda v: getattr(v, "__name__", None)
)
def test_bad_input_names_the_field_and_sends_nothing(sandbox, operator, arguments, field):
    with pytest.raises(EnKashValidationError) as info:
        run(operator(task_id="bad", **arguments))
    assert info.value.field == field
    assert sandbox.requests_total() == 0


def test_a_bad_pin_is_refused_without_echoing_it(sandbox, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_BAD_PIN", "12ab5")
    with pytest.raises(EnKashValidationError) as info:
        run(EnKashSetCardPinOperator(task_id="pin", enkash_card_id=CARD, pin_source="variable:bad_pin"))
    assert info.value.field == "pinBlock" and "12ab5" not in str(info.value)
    assert sandbox.requests_total() == 0


@pytest.mark.parametrize(
    "spec", ["1234", "vault:pin", "variable:", "connection:pins#", "variable:{{ var.value.pin }}"]
)
def test_a_bad_secret_source_fails_when_the_dag_is_parsed(spec):
    with pytest.raises(EnKashValidationError) as info:
        EnKashSetCardPinOperator(task_id="pin", enkash_card_id=CARD, pin_source=spec)
    assert info.value.field == "pin_source"


def _blocked_card(hook) -> str:
    card = new_card(hook)
    hook.block_card(enkash_card_id=card, block_code="BL")
    return card


def _replaced_card(hook) -> str:
    card = new_card(hook)
    hook.request_card_replacement(enkash_card_id=card)
    return card


def _ordered_card(hook) -> str:
    card = new_card(hook)
    hook.order_physical_card(enkash_card_id=card, delivery_city="Pune")
    return card


# (operator class, arguments given the prepared card id, how to prepare the card, EnKash's message)
REFUSED = [
    (EnKashCreateCardAccountOperator, lambda c: {**ACCOUNT, "company_id": "CEKOTHER01"}, None, "Company not found"),
    (EnKashCreatePrepaidCardOperator, lambda c: {"card_holder": {"user_id": "EKNOUSER"}}, None, "User not found"),
    (EnKashCreateGiftCardOperator, lambda c: {"card_holder": {}, "load_amount": "2000000", "card_account_id": "CAGIFT0001"}, None, "Insufficient balance"),
    (EnKashSetCardPinOperator, lambda c: {"enkash_card_id": c, "pin_source": "variable:ops_pin"}, _blocked_card, "blocked"),
    (EnKashGetCardAccountDetailsOperator, lambda c: {"card_account_id": "CANOPE1"}, None, "Card account not found"),
    (EnKashGenerateCardOtpOperator, lambda c: {"enkash_card_id": "EKCNOTREAL"}, None, "Card not found"),
    (EnKashViewCardDetailsOperator, lambda c: {"enkash_card_id": c, "otp_request_id": "OTPRNOTREAL", "otp_source": "variable:ops_otp"}, new_card, "Invalid OTP"),
    (EnKashSetCardUsageControlsOperator, lambda c: {"enkash_card_ids": ["EKCNOTREAL"], "atm_allowed": True}, None, "Card not found"),
    (EnKashGetCardUsageLimitsOperator, lambda c: {"enkash_card_id": "EKCNOTREAL"}, None, "Card not found"),
    (EnKashRequestCardReplacementOperator, lambda c: {"enkash_card_id": c}, _replaced_card, "already replaced"),
    (EnKashBlockCardOperator, lambda c: {"enkash_card_id": c, "block_code": "L"}, _blocked_card, "permanently blocked"),
    (EnKashOrderPhysicalCardOperator, lambda c: {"enkash_card_id": c, "delivery_city": "Pune"}, _ordered_card, "already ordered"),
    (EnKashGetCardDetailsOperator, lambda c: {"card_account_id": "CANOPE1"}, None, "Card account not found"),
    (EnKashGetTransactionDetailsOperator, lambda c: {"enkash_card_id": CARD, "pg_reference_number": "R", "card_account_id": "CANOPE1"}, None, "Card account not found"),
    (EnKashGetAllTransactionsOperator, lambda c: {"card_account_id": "CANOPE1"}, None, "Card account not found"),
    (EnKashLoadCardBalanceOperator, lambda c: {"enkash_card_id": c, "amount": "5"}, _blocked_card, "blocked"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("operator", "arguments", "prepare", "message"), REFUSED, ids=lambda v: getattr(v, "__name__", None)
)
def test_enkash_refusal_is_a_business_error(
    sandbox, hook, monkeypatch, operator, arguments, prepare, message
):
    monkeypatch.setenv("AIRFLOW_VAR_OPS_PIN", "4821")
    monkeypatch.setenv("AIRFLOW_VAR_OPS_OTP", "000000")
    card = prepare(hook) if prepare else None
    with pytest.raises(EnKashBusinessError) as info:
        run(operator(task_id="refused", **arguments(card)))
    assert message.lower() in info.value.enkash_message.lower()


def test_unclear_write_is_not_resent_and_not_retried(sandbox, hook):
    card = new_card(hook)
    sandbox.post("faults", {"operation": "block_card", "mode": "drop_after_commit", "count": 1})
    with pytest.raises(EnKashWriteOutcomeUnknown) as info:
        run(EnKashBlockCardOperator(task_id="block", enkash_card_id=card, block_code="L"))
    assert isinstance(info.value, AirflowFailException) and isinstance(info.value, EnKashOutcomeUnknown)
    assert info.value.reference == card and "may have taken effect" in str(info.value)
    assert isinstance(info.value.__cause__, EnKashConnectionError)
    assert counter(sandbox, "block_card") == 1


def test_write_refused_before_processing_keeps_its_plain_error_and_is_not_resent(sandbox, hook):
    card = new_card(hook)
    sandbox.post("faults", {"operation": "order_physical_card", "mode": "http_429", "count": 1})
    with pytest.raises(EnKashRateLimitError) as info:
        run(EnKashOrderPhysicalCardOperator(task_id="order", enkash_card_id=card, delivery_city="Pune"))
    assert not isinstance(info.value, AirflowFailException)  # nothing happened: an Airflow retry is safe
    assert counter(sandbox, "order_physical_card") == 1
    assert (
        run(EnKashOrderPhysicalCardOperator(task_id="order", enkash_card_id=card, delivery_city="Pune"))[
            "result"
        ]
        == "Success"
    )


def test_reads_are_retried_by_the_hook(sandbox):
    sandbox.post("faults", {"operation": "get_card_account_details", "mode": "http_500", "count": 2})
    assert run(EnKashGetCardAccountDetailsOperator(task_id="read"))["card_account_id"] == "CASANDBOX1"
    assert counter(sandbox, "get_card_account_details") == 3
