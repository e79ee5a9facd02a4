"""The pure parts of polling: redaction of card data and validation of what to watch (no network)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.triggers.poll_outcome import redact_transaction
from airflow_provider_enkash.triggers.transaction_watch import TransactionWatch, WindowWatch, make_watch


def test_redaction_drops_card_data_keeps_masked_and_stringifies_money():
    record = {
        "enKashCardTransactionId": "ECTR000000001",
        "maskedCard": "2004 01XX XXXX XX87",
        "cardNumber": "2004011234567887",
        "card_number": "2004011234567887",
        "PAN": "2004011234567887",
        "cvv": "123",
        "expiryMonth": "12",
        "expiry_year": "2030",
        "pinBlock": "1234",
        "otp": "654321",
        "otpRequestId": "OTP1",
        "token": "tok",
        "accessToken": "Bearer abc",
        "cardKitNumber": "KIT123",
        "principalAmount": Decimal("1234.56"),
        "txnDetails": {"cvv2": "999", "merchantName": "Swiggy", "transactionFees": Decimal("0.00")},
        "history": [{"cardNumber": "x", "status": "CREATED"}],
    }
    assert redact_transaction(record) == {
        "enKashCardTransactionId": "ECTR000000001",
        "maskedCard": "2004 01XX XXXX XX87",
        "otpRequestId": "OTP1",
        "cardKitNumber": "KIT123",
        "principalAmount": "1234.56",
        "txnDetails": {"merchantName": "Swiggy", "transactionFees": "0.00"},
        "history": [{"status": "CREATED"}],
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "enkash_transaction_id"),
        ({"pg_reference_number": "REF-1"}, "enkash_card_id"),
        ({"enkash_transaction_id": "bad id!"}, "enkash_transaction_id"),
        ({"enkash_transaction_id": "ECTR1", "user_id": "EK123456"}, "user_id"),
        ({"txn_date_from": "2025-01-01T00:00:00Z"}, "txn_date_to"),
        ({"txn_date_from": "2025-01-02T00:00:00Z", "txn_date_to": "2025-01-01T00:00:00Z"}, "txn_date_to"),
        ({"txn_date_from": "2025-01-01T00:00:00", "txn_date_to": "2025-01-02T00:00:00Z"}, "txn_date_from"),
        ({"txn_date_from": "yesterday", "txn_date_to": "2025-01-02T00:00:00Z"}, "txn_date_from"),
        (
            {
                "txn_date_from": "2025-01-01T00:00:00Z",
                "txn_date_to": "2025-01-02T00:00:00Z",
                "pg_reference_number": "R",
            },
            "txn_date_from",
        ),
        (
            {
                "txn_date_from": "2025-01-01T00:00:00Z",
                "txn_date_to": "2025-01-02T00:00:00Z",
                "max_records_per_response": 0,
            },
            "max_records_per_response",
        ),
    ],
)
def test_bad_watch_names_the_field(kwargs, field):
    with pytest.raises(EnKashValidationError) as info:
        make_watch(**kwargs)
    assert info.value.field == field


def test_watch_kind_and_canonical_window():
    assert isinstance(make_watch(enkash_transaction_id=" ECTR1 "), TransactionWatch)
    window = make_watch(txn_date_from="2025-01-01T05:30:00+05:30", txn_date_to="2025-01-02T00:00:00Z")
    assert isinstance(window, WindowWatch)
    assert (window.txn_date_from, window.txn_date_to) == (
        "2025-01-01T00:00:00.000Z",
        "2025-01-02T00:00:00.000Z",
    )


def test_old_import_path_warns_and_still_works():
    import importlib
    import sys

    sys.modules.pop("airflow_provider_enkash.transaction_poll", None)
    with pytest.warns(DeprecationWarning, match="triggers.transaction_watch"):
        old = importlib.import_module("airflow_provider_enkash.transaction_poll")
    assert old.TransactionWatch is TransactionWatch
