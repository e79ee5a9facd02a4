"""EnKash's own error text is redacted before it reaches an exception or a log."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_enkash.exceptions import EnKashBusinessError, redact


def test_otp_card_number_and_cvv_echoed_by_enkash_are_cut(sandbox, hook, caplog):
    sandbox.post("config", {"verbose_errors": True})
    card = sandbox.post("cards", {"count": 1})["enkash_card_ids"][0]
    request_id = hook.generate_card_otp(enkash_card_id=card)["otpRequestId"]
    caplog.set_level(logging.DEBUG)
    wrong_otp = "7319"  # four characters: too short for Airflow's secrets masker
    with pytest.raises(EnKashBusinessError) as info:
        hook.view_card_details(enkash_card_id=card, otp_request_id=request_id, otp=wrong_otp)
    secrets = sandbox.get("secrets")
    text = f"{info.value} {info.value.enkash_message!r} {caplog.text}"
    assert "Invalid OTP" in text and request_id in text  # the useful part stays
    for value in (wrong_otp, *secrets["card_numbers"], *secrets["cvvs"]):
        assert value not in text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("card 4111 1111 1111 1111 declined", "4111 1111 1111 1111"),
        ("card 4111-1111-1111-1111 declined", "4111-1111-1111-1111"),
        ("cardNumber=5500005555555559", "5500005555555559"),
        ("CVV: 123 is wrong", "123"),
        ("wrong pin 12", " 12"),
        ("OTP is 482913", "482913"),
        ('{"otp": "4829"}', "4829"),
        # other wordings EnKash might use (found by an outside review)
        ("Invalid OTP for card 6083.2607.9576.1003", "2607.9576"),
        ("Card 6083  2607  9576  1003 is locked", "2607  9576"),
        ("CVV number 835 does not match", "835"),
        ("security code 835 does not match", "835"),
        ("exp 10/2031", "10/2031"),
        ("valid thru 10/2031", "10/2031"),
    ],
)
def test_card_data_patterns_are_redacted_without_known_values(text, secret):
    assert secret not in redact(text)


def test_known_short_values_are_cut_only_where_they_stand_alone():
    assert redact("pin 1234 refused; card EKC12345", known=["1234"]) == "pin *** refused; card EKC12345"
    assert redact("amount 1500.00 on EKC1234567") == "amount 1500.00 on EKC1234567"
