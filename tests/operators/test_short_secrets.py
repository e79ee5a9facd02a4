"""Short card secrets (a 4-digit PIN) never reach Airflow's masker, so its "too short" warning never shows."""

from __future__ import annotations

import logging

import pytest
from airflow.sdk._shared.secrets_masker import should_hide_value_for_key
from airflow.sdk._shared.secrets_masker.secrets_masker import SecretsMasker
from airflow.sdk.log import mask_secret

from airflow_provider_enkash.operators.cards import EnKashSetCardPinOperator
from tests.operators.helpers import new_card, run
from tests.operators.test_card_data import leaks

TOO_SHORT = "too short"


@pytest.fixture
def fresh_short_secret_warning(monkeypatch):
    """Airflow warns about a short secret once per process: make this test's warning the first."""
    monkeypatch.setattr(SecretsMasker, "_has_warned_short_secret", False)


def test_a_short_value_given_to_airflow_s_masker_warns(fresh_short_secret_warning, caplog):
    """The control: the warning this provider avoids is real, and caplog sees it."""
    caplog.set_level(logging.DEBUG)
    mask_secret("4931")
    assert TOO_SHORT in caplog.text


def test_set_pin_with_a_four_digit_pin_logs_neither_the_pin_nor_the_warning(
    sandbox, hook, caplog, monkeypatch, fresh_short_secret_warning
):
    caplog.set_level(logging.DEBUG)
    card = new_card(hook)
    monkeypatch.setenv("AIRFLOW_VAR_CARD_PIN_SECRET", "4931")
    out = run(
        EnKashSetCardPinOperator(task_id="pin", enkash_card_id=card, pin_source="variable:card_pin_secret")
    )
    assert out["pin_set"] is True and "4931" in sandbox.get("secrets")["pins"]
    assert TOO_SHORT not in caplog.text
    assert not leaks("4931", caplog.text)


def test_the_recommended_variable_name_is_hidden_in_the_ui_and_the_plain_one_is_not():
    assert should_hide_value_for_key("card_pin_secret")
    assert not should_hide_value_for_key("payroll_pin")
