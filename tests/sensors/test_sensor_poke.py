"""EnKashTransactionSensor in poke and reschedule mode against the sandbox: each outcome, real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from airflow.sdk.exceptions import AirflowRescheduleException, AirflowSensorTimeout

from airflow_provider_enkash.exceptions import (
    EnKashTransactionFailed,
    EnKashTransactionNotFound,
    EnKashValidationError,
)
from airflow_provider_enkash.sensors.transactions import EnKashTransactionSensor

FAST = {"poke_interval": 0.1, "timeout": 10, "deferrable": False}


def _sensor(**kwargs) -> EnKashTransactionSensor:
    return EnKashTransactionSensor(task_id="wait", **{**FAST, **kwargs})


def test_waits_by_transaction_id_until_success_and_returns_redacted_record(sandbox, load):
    loaded = load("1234.56")
    record = _sensor(enkash_transaction_id=loaded.enkash_transaction_id).execute({})
    assert record["enKashCardTransactionId"] == loaded.enkash_transaction_id
    assert record["status"] == "SUCCESS"
    assert record["principalAmount"] == "1234.56"
    assert record["maskedCard"]
    secrets = sandbox.get("secrets")
    card_numbers = [n for values in secrets.values() for n in values]
    assert not any(str(n) in repr(record) for n in card_numbers if len(str(n)) >= 12)


def test_waits_by_reference_and_card(sandbox, load, card):
    loaded = load("10.01")
    record = _sensor(pg_reference_number=loaded.unique_reference_number, enkash_card_id=card).execute({})
    assert record["pgReferenceNumber"] == loaded.unique_reference_number
    assert record["status"] == "SUCCESS"


def test_failure_status_fails_naming_transaction_and_status(sandbox, hook, load):
    sandbox.post("config", {"failure_rate": 1.0})
    before = Decimal(str(hook.get_card_account_details()["availableBalance"]))
    loaded = load("500.00")
    with pytest.raises(EnKashTransactionFailed) as info:
        _sensor(enkash_transaction_id=loaded.enkash_transaction_id).execute({})
    assert info.value.transaction_id == loaded.enkash_transaction_id
    assert info.value.status == "FAILED"
    assert loaded.enkash_transaction_id in str(info.value) and "FAILED" in str(info.value)
    # a failed load returns the money to the card account, exactly
    assert Decimal(str(hook.get_card_account_details()["availableBalance"])) == before


def test_custom_status_sets(sandbox, load):
    sandbox.post("config", {"settle_delay_s": 30})
    loaded = load()
    record = _sensor(enkash_transaction_id=loaded.enkash_transaction_id, target_statuses=["created"]).execute(
        {}
    )
    assert record["status"] == "CREATED"
    with pytest.raises(EnKashTransactionFailed):
        _sensor(enkash_transaction_id=loaded.enkash_transaction_id, failure_statuses=["CREATED"]).execute({})


def test_not_found_waits_out_the_grace_period_then_fails(sandbox, hook):
    hook.get_card_account_details()  # token fetched, so the count below is search calls only
    before = sandbox.requests_total()
    with pytest.raises(EnKashTransactionNotFound, match="ECTRNOSUCH01"):
        _sensor(enkash_transaction_id="ECTRNOSUCH01", not_found_grace=0.35).execute({})
    assert sandbox.requests_total() - before >= 3  # kept polling through the grace period


def test_timeout_while_pending(sandbox, load):
    sandbox.post("config", {"settle_delay_s": 30})
    loaded = load()
    with pytest.raises(AirflowSensorTimeout):
        _sensor(enkash_transaction_id=loaded.enkash_transaction_id, timeout=0.3).execute({})


@pytest.mark.parametrize("mode", ["http_500", "http_429", "drop_before"])
def test_transient_errors_are_polled_through(sandbox, load, mode):
    loaded = load()
    sandbox.post("faults", {"operation": "get_all_transactions", "mode": mode, "count": 6})
    record = _sensor(enkash_transaction_id=loaded.enkash_transaction_id).execute({})
    assert record["status"] == "SUCCESS"


def test_bad_input_fails_before_any_request(sandbox):
    before = sandbox.requests_total()
    with pytest.raises(EnKashValidationError) as info:
        _sensor(pg_reference_number="REF-1").execute({})
    assert info.value.field == "enkash_card_id"
    with pytest.raises(EnKashValidationError) as info:
        _sensor(enkash_transaction_id="ECTR1", not_found_grace=-1)
    assert info.value.field == "not_found_grace"
    assert sandbox.requests_total() == before


class _FirstTry:
    """The slice of a task instance that reschedule mode reads: this is the first try."""

    def get_first_reschedule_date(self, context):
        return None


def test_reschedule_mode_frees_the_slot_while_pending(sandbox, load):
    sandbox.post("config", {"settle_delay_s": 30})
    loaded = load()
    sensor = _sensor(enkash_transaction_id=loaded.enkash_transaction_id, mode="reschedule")
    with pytest.raises(AirflowRescheduleException):
        sensor.execute({"ti": _FirstTry()})
    sandbox.post("settle")
    assert sensor.execute({"ti": _FirstTry()})["status"] == "SUCCESS"
