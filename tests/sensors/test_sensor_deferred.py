"""Deferrable sensors: TaskDeferred with the right trigger, then execute_complete for each event."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from airflow.sdk.exceptions import AirflowSensorTimeout, TaskDeferred

from airflow_provider_enkash.exceptions import EnKashError, EnKashTransactionFailed, EnKashTransactionNotFound
from airflow_provider_enkash.sensors.transactions import (
    EnKashTransactionSensor,
    EnKashTransactionsSettledSensor,
)
from airflow_provider_enkash.triggers.transactions import EnKashTransactionTrigger
from tests.conftest import run_trigger


def _defer(sensor) -> EnKashTransactionTrigger:
    with pytest.raises(TaskDeferred) as info:
        sensor.execute({})
    assert info.value.method_name == "execute_complete"
    assert isinstance(info.value.trigger, EnKashTransactionTrigger)
    return info.value.trigger


def _complete(sensor, trigger):
    (event,) = run_trigger(trigger)
    return sensor.execute_complete({}, event.payload)


def test_deferral_round_trip_success(sandbox, load, card):
    sandbox.post("config", {"settle_delay_s": 0.8})
    loaded = load("250.50")
    sensor = EnKashTransactionSensor(
        task_id="wait",
        pg_reference_number=loaded.unique_reference_number,
        enkash_card_id=card,
        poke_interval=0.1,
        timeout=30,
        not_found_grace=12,
        deferrable=True,
    )
    before = time.time()
    trigger = _defer(sensor)
    _, kwargs = trigger.serialize()
    assert kwargs["watch"] == {
        "kind": "transaction",
        "enkash_transaction_id": None,
        "pg_reference_number": loaded.unique_reference_number,
        "enkash_card_id": card,
        "company_id": None,
        "card_account_id": None,
    }
    assert before + 29 < kwargs["end_time"] < time.time() + 31
    assert before + 11 < kwargs["not_found_deadline"] < time.time() + 13
    record = _complete(sensor, EnKashTransactionTrigger(**kwargs))
    assert record["status"] == "SUCCESS"
    assert Decimal(record["principalAmount"]) == Decimal("250.50")


def test_already_settled_returns_without_deferring(sandbox, load):
    loaded = load()
    sandbox.post("settle")
    sensor = EnKashTransactionSensor(
        task_id="wait", enkash_transaction_id=loaded.enkash_transaction_id, deferrable=True
    )
    assert sensor.execute({})["status"] == "SUCCESS"


def test_failure_event_fails_the_task(sandbox, load):
    sandbox.post("config", {"failure_rate": 1.0})
    loaded = load()
    sensor = EnKashTransactionSensor(
        task_id="wait", enkash_transaction_id=loaded.enkash_transaction_id, poke_interval=0.1, deferrable=True
    )
    with pytest.raises(EnKashTransactionFailed, match="FAILED"):
        _complete(sensor, _defer(sensor))


def test_not_found_event_fails_the_task(sandbox):
    sensor = EnKashTransactionSensor(
        task_id="wait",
        enkash_transaction_id="ECTRNOSUCH01",
        poke_interval=0.1,
        not_found_grace=0.3,
        deferrable=True,
    )
    with pytest.raises(EnKashTransactionNotFound, match="ECTRNOSUCH01"):
        _complete(sensor, _defer(sensor))


def test_timeout_event_is_a_sensor_timeout(sandbox, load):
    sandbox.post("config", {"settle_delay_s": 30})
    loaded = load()
    sensor = EnKashTransactionSensor(
        task_id="wait",
        enkash_transaction_id=loaded.enkash_transaction_id,
        poke_interval=0.1,
        timeout=0.5,
        deferrable=True,
    )
    with pytest.raises(AirflowSensorTimeout, match="did not settle"):
        _complete(sensor, _defer(sensor))


def test_error_event_raises_an_enkash_error(sandbox, load, monkeypatch):
    sandbox.post("config", {"settle_delay_s": 30})
    loaded = load()
    sensor = EnKashTransactionSensor(
        task_id="wait", enkash_transaction_id=loaded.enkash_transaction_id, poke_interval=0.1, deferrable=True
    )
    trigger = _defer(sensor)
    sandbox.post("faults", {"operation": "get_all_transactions", "mode": "malformed", "count": 50})
    with pytest.raises(EnKashError, match="polling transaction"):
        _complete(sensor, trigger)


def test_settled_sensor_defers_then_reports_the_window(sandbox, load):
    sandbox.post("config", {"settle_delay_s": 0.6})
    start = time.time() - 5
    load("5.00")
    load("6.00")
    sensor = EnKashTransactionsSettledSensor(
        task_id="settled",
        txn_date_from=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
        txn_date_to=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60)),
        poke_interval=0.1,
        deferrable=True,
    )
    summary = _complete(sensor, _defer(sensor))
    assert summary["transactions"] == 2
    assert summary["by_status"] == {"SUCCESS": 2}


def test_defaults_poke_every_minute_and_follow_default_deferrable():
    assert EnKashTransactionSensor(task_id="a", enkash_transaction_id="ECTR1").deferrable is False
    assert EnKashTransactionSensor(task_id="b", enkash_transaction_id="ECTR1").poke_interval == 60
