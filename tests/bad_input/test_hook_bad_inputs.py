"""Bad input to the hook is refused locally, naming the field, with zero requests at the sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest

from airflow_provider_enkash.exceptions import EnKashValidationError

CARD = "EKC1234567"
LONG = "x" * 300

# (method, keyword arguments, field the error must name)
CASES = [
    ("load_card_balance", {"enkash_card_id": CARD, "amount": "0", "unique_reference_number": "R"}, "amount"),
    ("load_card_balance", {"enkash_card_id": CARD, "amount": "-5", "unique_reference_number": "R"}, "amount"),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "10.005", "unique_reference_number": "R"},
        "amount",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": 10.005, "unique_reference_number": "R"},
        "amount",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "1e12", "unique_reference_number": "R"},
        "amount",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "NaN", "unique_reference_number": "R"},
        "amount",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "Infinity", "unique_reference_number": "R"},
        "amount",
    ),
    ("load_card_balance", {"enkash_card_id": CARD, "amount": True, "unique_reference_number": "R"}, "amount"),
    ("load_card_balance", {"enkash_card_id": CARD, "amount": [10], "unique_reference_number": "R"}, "amount"),
    ("load_card_balance", {"enkash_card_id": CARD, "amount": "१०", "unique_reference_number": "R"}, "amount"),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "1e3", "unique_reference_number": "R"},
        "amount",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "1E+3", "unique_reference_number": "R"},
        "amount",
    ),
    ("load_card_balance", {"enkash_card_id": CARD, "amount": 1e30, "unique_reference_number": "R"}, "amount"),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "1e30", "unique_reference_number": "R"},
        "amount",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": 10**30, "unique_reference_number": "R"},
        "amount",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": Decimal("1e30"), "unique_reference_number": "R"},
        "amount",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "9" * 40, "unique_reference_number": "R"},
        "amount",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "١٠٠", "unique_reference_number": "R"},
        "amount",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "１００", "unique_reference_number": "R"},
        "amount",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": "", "amount": "1", "unique_reference_number": "R"},
        "enKashCardId",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": None, "amount": "1", "unique_reference_number": "R"},
        "enKashCardId",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": "EKC 12;DROP", "amount": "1", "unique_reference_number": "R"},
        "enKashCardId",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": "कार्ड१२३", "amount": "1", "unique_reference_number": "R"},
        "enKashCardId",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "1", "unique_reference_number": ""},
        "uniqueReferenceNumber",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "1", "unique_reference_number": "R" * 65},
        "uniqueReferenceNumber",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "1", "unique_reference_number": 123},
        "uniqueReferenceNumber",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "1", "unique_reference_number": "R\x00"},
        "uniqueReferenceNumber",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "1", "unique_reference_number": "R", "remarks": LONG},
        "remarks",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "1", "unique_reference_number": "R", "company_id": "ACME"},
        "companyId",
    ),
    (
        "load_card_balance",
        {"enkash_card_id": CARD, "amount": "1", "unique_reference_number": "R", "max_attempts": 0},
        "max_attempts",
    ),
    ("create_prepaid_card", {"mobile": "98765"}, "mobile"),
    ("create_prepaid_card", {"mobile": 9876543210}, "mobile"),
    ("create_prepaid_card", {"mobile": "98765432100"}, "mobile"),
    ("create_prepaid_card", {"mobile": "٩٨٧٦٥٤٣٢١٠"}, "mobile"),  # Arabic-Indic digits
    ("create_prepaid_card", {"mobile": "９８７６５４３２１０"}, "mobile"),  # full-width digits
    ("create_prepaid_card", {"mobile": "९८७६५४३२१०"}, "mobile"),  # Devanagari digits
    ("create_prepaid_card", {"pincode": "５６０００１"}, "pincode"),
    ("create_prepaid_card", {"load_amount": "5e2"}, "loadAmount"),
    ("create_prepaid_card", {"email": "not-an-email"}, "email"),
    ("create_prepaid_card", {"email": "a@b"}, "email"),
    ("create_prepaid_card", {"gender": "X"}, "gender"),
    ("create_prepaid_card", {"title": "Dr"}, "title"),
    ("create_prepaid_card", {"special_date": "2001-09-02"}, "specialDate"),
    ("create_prepaid_card", {"special_date": "31-02-2001"}, "specialDate"),
    (
        "create_prepaid_card",
        {"special_date": "02-09-２００１"},
        "specialDate",
    ),  # strptime took full-width years
    ("create_prepaid_card", {"special_date": "2-9-2001"}, "specialDate"),
    ("create_prepaid_card", {"pincode": "12345"}, "pincode"),
    ("create_prepaid_card", {"first_name": LONG}, "firstName"),
    ("create_prepaid_card", {"first_name": "   "}, "firstName"),
    ("create_prepaid_card", {"favourite_colour": "blue"}, "favourite_colour"),
    ("create_prepaid_card", {"load_amount": "0.001"}, "loadAmount"),
    ("create_prepaid_card", {"documents": [{"docType": "PAN"}]}, "documents[0]"),
    ("create_prepaid_card", {"physical_card": "yes"}, "physicalCard"),
    ("create_gift_card", {"load_amount": "-1"}, "loadAmount"),
    (
        "create_card_account",
        {
            "company_name": "A",
            "plan_master_id": "PM1",
            "email": "a@b.co",
            "mobile": "9876543210",
            "account_title": "T",
            "account_type": "SAVINGS",
        },
        "accountType",
    ),
    (
        "create_card_account",
        {
            "company_name": "",
            "plan_master_id": "PM1",
            "email": "a@b.co",
            "mobile": "9876543210",
            "account_title": "T",
            "account_type": "MEAL",
        },
        "companyName",
    ),
    ("set_card_pin", {"enkash_card_id": CARD, "pin": "12"}, "pinBlock"),
    ("set_card_pin", {"enkash_card_id": CARD, "pin": 1234}, "pinBlock"),
    ("set_card_pin", {"enkash_card_id": CARD, "pin": "12a4"}, "pinBlock"),
    ("set_card_pin", {"enkash_card_id": CARD, "pin": "١٢٣٤"}, "pinBlock"),
    ("set_card_pin", {"enkash_card_id": CARD, "pin": "１２３４"}, "pinBlock"),
    ("block_card", {"enkash_card_id": CARD, "block_code": "LOCK"}, "blockCode"),
    ("block_card", {"enkash_card_id": CARD, "block_code": "L", "otp_medium": "SMS"}, "otpMedium"),
    ("block_card", {"enkash_card_id": CARD, "block_code": "L", "otp_required": True}, "otp"),
    ("block_card", {"enkash_card_id": CARD, "block_code": "L", "otp_required": "false"}, "otpRequired"),
    ("request_card_replacement", {"enkash_card_id": CARD, "otp_medium": "EMAIL"}, "otpMedium"),
    ("generate_card_otp", {"enkash_card_id": CARD, "card_otp_action": "LOGIN; DROP"}, "cardOtpAction"),
    ("set_card_usage_controls", {"enkash_card_ids": []}, "enKashCardIds"),
    ("set_card_usage_controls", {"enkash_card_ids": [f"EKC{i:07d}" for i in range(101)]}, "enKashCardIds"),
    ("set_card_usage_controls", {"enkash_card_ids": CARD}, "enKashCardIds"),
    ("set_card_usage_controls", {"enkash_card_ids": [CARD], "per_txn_limit": "-1"}, "perTxnLimit"),
    ("set_card_usage_controls", {"enkash_card_ids": [CARD], "per_txn_limit": "1e30"}, "perTxnLimit"),
    ("set_card_usage_controls", {"enkash_card_ids": [CARD], "mtd": 10**30}, "mtd"),
    ("set_card_usage_controls", {"enkash_card_ids": [CARD], "dtd_count": 1.5}, "dtdCount"),
    ("set_card_usage_controls", {"enkash_card_ids": [CARD], "pos_allowed": 1}, "posAllowed"),
    ("set_card_usage_controls", {"enkash_card_ids": [CARD], "teleport_allowed": True}, "teleport_allowed"),
    ("order_physical_card", {"enkash_card_id": CARD, "delivery_pincode": "ABCDEF"}, "deliveryPincode"),
    ("order_physical_card", {"enkash_card_id": CARD, "delivery_pincode": "٥٦٠٠٠١"}, "deliveryPincode"),
    ("order_physical_card", {"enkash_card_id": CARD, "delivery_moon": "x"}, "delivery_moon"),
    ("get_all_transactions", {"txn_date_from": "yesterday"}, "txnDateFrom"),
    ("get_all_transactions", {"txn_date_to": "2026-01-01T00:00:00"}, "txnDateTo"),
    ("get_all_transactions", {"card_transaction_type": "XX"}, "cardTransactionType"),
    ("get_all_transactions", {"amount_from": "0"}, "amountFrom"),
    ("get_all_transactions", {"amount_from": "1e3"}, "amountFrom"),
    ("get_all_transactions", {"amount_to": 10**40}, "amountTo"),
    ("get_all_transactions", {"page": -1}, "page"),
    ("get_all_transactions", {"pg_reference_numbers": "PG123"}, "pgReferenceNumbers"),  # a bare string
    ("get_all_transactions", {"pg_reference_numbers": 5}, "pgReferenceNumbers"),
    ("get_transaction_details", {"enkash_card_id": CARD, "pg_reference_number": ""}, "pgReferenceNumber"),
    ("get_card_usage_limits", {"enkash_card_id": "   "}, "enKashCardId"),
    ("view_card_details", {"enkash_card_id": CARD, "otp": "12 34"}, "otp"),
]


@pytest.mark.parametrize(
    ("method", "kwargs", "field"), CASES, ids=[f"{m}-{f}-{i}" for i, (m, _, f) in enumerate(CASES)]
)
def test_refused_locally_naming_the_field(sandbox, hook, method, kwargs, field):
    with pytest.raises(EnKashValidationError) as info:
        getattr(hook, method)(**kwargs)
    assert info.value.field == field, str(info.value)
    assert field in str(info.value)
    assert sandbox.requests_total() == 0


def test_enough_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("amount", [1500.5, 1500.0, 0.1 + 0.2])
def test_float_amounts_are_refused_before_anything_is_sent(sandbox, hook, amount):
    with pytest.raises(EnKashValidationError, match="money is never float") as info:
        hook.load_card_balance(enkash_card_id=CARD, amount=amount, unique_reference_number="R")
    assert info.value.field == "amount"
    with pytest.raises(EnKashValidationError, match="never float") as info:
        hook.set_card_usage_controls(enkash_card_ids=[CARD], dtd=amount)
    assert info.value.field == "dtd"
    assert sandbox.requests_total() == 0


def test_amount_refusals_never_round(hook):
    with pytest.raises(EnKashValidationError, match="more than 2 decimal places"):
        hook.load_card_balance(enkash_card_id=CARD, amount=Decimal("10.001"), unique_reference_number="R")


@pytest.mark.parametrize(
    ("method", "field"), [("view_card_details", "otp"), ("block_card", "otp"), ("block_card", "mfaCode")]
)
def test_malformed_otp_and_mfa_codes_are_not_echoed(sandbox, hook, method, field):
    secret = "73 19"
    kwargs = {"enkash_card_id": CARD}
    if method == "block_card":
        kwargs.update(block_code="L", otp_request_id="OTPREQ1", otp="123456", otp_required=True)
        kwargs["otp" if field == "otp" else "mfa_code"] = secret
    else:
        kwargs["otp"] = secret
    with pytest.raises(EnKashValidationError) as info:
        getattr(hook, method)(**kwargs)
    assert info.value.field == field
    assert secret not in str(info.value)
    assert sandbox.requests_total() == 0
