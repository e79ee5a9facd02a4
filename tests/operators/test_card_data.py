"""Card secrets (number, CVV, expiry, OTP, PIN, token) stay out of XCom, logs and template fields."""

from __future__ import annotations

import json
import logging
import re

import pytest

from airflow_provider_enkash.card_data import scrub
from airflow_provider_enkash.operators import card_issue, card_reads, cards, loads, transaction_lookups
from airflow_provider_enkash.operators.base import EnKashBaseOperator
from airflow_provider_enkash.operators.card_reads import (
    EnKashGetCardAccountDetailsOperator,
    EnKashGetCardDetailsOperator,
    EnKashViewCardDetailsOperator,
)
from airflow_provider_enkash.operators.cards import (
    EnKashCreatePrepaidCardOperator,
    EnKashGenerateCardOtpOperator,
    EnKashSetCardPinOperator,
)
from airflow_provider_enkash.operators.loads import EnKashLoadCardBalanceOperator
from tests.operators.helpers import new_card, run

SECRET_ARGUMENTS = {
    "pin",
    "otp",
    "mfa_code",
    "pin_source",
    "otp_source",
    "mfa_code_source",
    "password",
    "secret",
    "token",
}


def _all_secrets(sandbox) -> list[str]:
    secrets = sandbox.get("secrets")
    return [s for key in ("card_numbers", "cvvs", "pins", "otps") for s in secrets[key]] + [
        secrets["password"],
        secrets["client_secret"],
        *secrets["access_tokens"],
    ]


def leaks(secret: str, text: str) -> bool:
    """Whether ``secret`` appears in ``text``.

    Long secrets (card numbers, passwords, tokens) match anywhere. A short numeric one (CVV, PIN,
    OTP) would also match port numbers and timestamps by chance, so it counts only as a JSON
    string value or next to a label such as ``cvv`` or ``otp``.
    """
    if len(secret) >= 8:
        return secret in text
    labelled = rf"(?i)(cvv|cvc|pin|otp|mfa|code)[^\n\d]{{0,12}}(?<!\d){re.escape(secret)}(?!\d)"
    return f'"{secret}"' in text or re.search(labelled, text) is not None


@pytest.fixture
def captured(caplog, capfd):
    """Every log line and every byte printed while the test runs."""
    caplog.set_level(logging.DEBUG)

    def text() -> str:
        out, err = capfd.readouterr()
        return caplog.text + out + err

    return text


def test_view_card_details_drops_card_secrets_from_xcom_and_logs(sandbox, hook, captured):
    card = new_card(hook)
    out = run(EnKashViewCardDetailsOperator(task_id="view", enkash_card_id=card))
    assert set(out["card"]) == {"enKashCardId", "maskedNumber", "nameOnCard"}
    dumped = json.dumps(out) + captured()
    for secret in _all_secrets(sandbox):
        assert not leaks(secret, dumped)


def test_include_sensitive_puts_card_data_in_xcom_only(sandbox, hook, captured):
    card = new_card(hook)
    out = run(EnKashViewCardDetailsOperator(task_id="view", enkash_card_id=card, include_sensitive=True))
    (number,) = [
        n for n in sandbox.get("secrets")["card_numbers"] if n.endswith(out["card"]["maskedNumber"][-4:])
    ]
    assert out["card"]["cardNumber"] == number and out["card"]["cvv"] and out["card"]["expiryYear"]
    logs = captured()
    assert not leaks(number, logs) and not leaks(out["card"]["cvv"], logs)


def test_otp_pin_and_tokens_never_reach_xcom_or_logs(sandbox, hook, captured, monkeypatch):
    created = run(
        EnKashCreatePrepaidCardOperator(
            task_id="card", card_holder={"first_name": "Asha", "primary_enkash_card": True}
        )
    )
    card = created["enkash_card_id"]
    otp_out = run(EnKashGenerateCardOtpOperator(task_id="otp", enkash_card_id=card))
    monkeypatch.setenv("AIRFLOW_VAR_OPS_SECRET_PIN", "493817")
    pin_out = run(
        EnKashSetCardPinOperator(task_id="pin", enkash_card_id=card, pin_source="variable:ops_secret_pin")
    )
    details = run(EnKashGetCardDetailsOperator(task_id="details", enkash_card_id=card))
    account = run(EnKashGetCardAccountDetailsOperator(task_id="account"))
    load = run(EnKashLoadCardBalanceOperator(task_id="load", enkash_card_id=card, amount="10"))
    dumped = json.dumps([created, otp_out, pin_out, details, account, load]) + captured()
    secrets = _all_secrets(sandbox)
    assert "493817" in secrets and sandbox.get("secrets")["otps"]
    for secret in secrets:
        assert not leaks(secret, dumped)
    assert '"token"' not in dumped


def test_no_operator_templates_a_secret():
    operators = {
        value
        for module in (card_issue, cards, card_reads, transaction_lookups, loads)
        for name, value in vars(module).items()
        if name.startswith("EnKash")
        and name.endswith("Operator")
        and isinstance(value, type)
        and issubclass(value, EnKashBaseOperator)
        and value.__module__ == module.__name__
    }
    assert len(operators) == 16
    for operator in operators:
        assert not SECRET_ARGUMENTS & set(operator.template_fields), operator.__name__


def test_scrub_keeps_the_masked_number_and_drops_secrets_at_any_depth():
    data = {
        "maskedNumber": "XXXX XXXX XXXX 1234",
        "card_number": "6083 2612 3456 1234",
        "CVV": "123",
        "expiryMonth": "08",
        "primaryEnKashCard": {"token": "30acb157bcea5ae6d3b9", "enKashCardId": "EKC1"},
        "data": [{"pinBlock": "1234", "note": "6083261234561234"}],
    }
    assert scrub(data) == {
        "maskedNumber": "XXXX XXXX XXXX 1234",
        "primaryEnKashCard": {"enKashCardId": "EKC1"},
        "data": [{}],
    }
