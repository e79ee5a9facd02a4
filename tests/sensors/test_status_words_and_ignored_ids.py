"""Sensors and the trigger read the connection's status words, and never settle on a search that ignored
the transaction id filter (sandbox variants ``status_words`` and ``ignore_transaction_ids``)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from airflow_provider_enkash.exceptions import EnKashTransactionFailed, EnKashTransactionNotFound
from airflow_provider_enkash.sensors.transactions import EnKashTransactionSensor
from airflow_provider_enkash.triggers.transactions import EnKashTransactionTrigger

from ..conftest import connection_json

RENAMED = {"SUCCESS": "SUCCESSFUL", "FAILED": "FAILURE", "CREATED": "INITIATED"}


@pytest.fixture
def renamed_words(sandbox, sandbox_server, monkeypatch):
    """The sandbox speaks other status words; ``words_in_connection()`` puts them in the connection."""
    sandbox.post("config", {"status_words": RENAMED, "settle_delay_s": 0})

    def words_in_connection() -> None:
        monkeypatch.setenv(
            "AIRFLOW_CONN_ENKASH_DEFAULT",
            connection_json(
                sandbox_server,
                success_statuses=["SUCCESSFUL"],
                failure_statuses="FAILURE,REVERSED",
                pending_statuses=["INITIATED"],
            ),
        )

    return words_in_connection


def _sensor(**kwargs) -> EnKashTransactionSensor:
    return EnKashTransactionSensor(task_id="wait", poke_interval=0.1, **kwargs)


def _events(*triggers: EnKashTransactionTrigger) -> list[dict]:
    async def collect(trigger):
        return [event.payload async for event in trigger.run()]

    async def all_of():
        return await asyncio.gather(*(collect(t) for t in triggers))

    runs = asyncio.run(all_of())
    assert all(len(events) == 1 for events in runs), runs
    return [events[0] for events in runs]


def test_sensor_settles_on_the_connections_success_word(renamed_words, load):
    renamed_words()
    loaded = load("12.00")
    done = _sensor(enkash_transaction_id=loaded.enkash_transaction_id).poke({})
    assert done and done.xcom_value["status"] == "SUCCESSFUL"


def test_sensor_fails_on_the_connections_failure_word(renamed_words, sandbox, load):
    renamed_words()
    sandbox.post("config", {"failure_rate": 1.0})
    loaded = load()
    with pytest.raises(EnKashTransactionFailed, match="FAILURE"):
        _sensor(enkash_transaction_id=loaded.enkash_transaction_id).poke({})


def test_without_the_words_an_unknown_status_never_settles(renamed_words, load):
    loaded = load()  # SUCCESSFUL is none of the default words: unknown, keep waiting
    sensor = _sensor(enkash_transaction_id=loaded.enkash_transaction_id)
    assert sensor.poke({}) is False
    (event,) = _events(
        EnKashTransactionTrigger(
            enkash_conn_id="enkash_default",
            end_time=time.time() + 0.5,
            poll_interval=0.1,
            enkash_transaction_id=loaded.enkash_transaction_id,
        )
    )
    assert (event["status"], event["state"]) == ("timeout", "unknown")
    assert "'SUCCESSFUL'" in event["message"]


def test_deferred_sensor_passes_the_connections_words_to_the_trigger(renamed_words, sandbox, load):
    renamed_words()
    sandbox.post("config", {"settle_delay_s": 0.3})
    loaded = load()
    sensor = _sensor(enkash_transaction_id=loaded.enkash_transaction_id)
    sensor._watch = sensor._make_watch()
    trigger = sensor._trigger(end_time=time.time() + 10)
    assert trigger.serialize()[1]["target_statuses"] is None  # resolved in the triggerer
    (event,) = _events(trigger)
    assert (event["status"], event["transaction"]["status"]) == ("success", "SUCCESSFUL")
    assert sensor.execute_complete({}, event)["status"] == "SUCCESSFUL"


def test_coalesced_polls_report_unknown_when_the_id_filter_is_ignored(sandbox, load):
    load("1.00")  # the account's first transaction: what an ignoring search answers
    second, third = load("2.00"), load("3.00")
    time.sleep(0.6)  # settled
    ids = [second.enkash_transaction_id, third.enkash_transaction_id]

    def triggers() -> list[EnKashTransactionTrigger]:
        return [
            EnKashTransactionTrigger(
                enkash_conn_id="enkash_default",
                end_time=time.time() + 0.8,
                poll_interval=0.2,
                not_found_deadline=time.time(),  # "not found" would fail at once
                enkash_transaction_id=i,
            )
            for i in ids
        ]

    assert os.environ.get("AIRFLOW__ENKASH__COALESCE_POLLS", "true") == "true"
    assert [e["status"] for e in _events(*triggers())] == ["success", "success"]
    # the variant: every search answers the account's first transaction, whatever ids were asked
    sandbox.post("config", {"ignore_transaction_ids": True, "max_records": 1})
    events = _events(*triggers())
    assert [(e["status"], e["state"]) for e in events] == [("timeout", "unknown")] * 2
    assert all("id filter was not applied" in e["message"] for e in events)


def test_sensor_poke_is_not_fooled_by_an_ignored_id_filter(sandbox, load):
    load("1.00")
    later = load("2.00")
    sandbox.post("settle")
    sandbox.post("config", {"ignore_transaction_ids": True, "max_records": 1})
    sensor = _sensor(enkash_transaction_id=later.enkash_transaction_id, not_found_grace=0)
    assert sensor.poke({}) is False  # unknown: neither success nor "not found" after the grace period
    sandbox.post("config", {"ignore_transaction_ids": False})
    assert sensor.poke({}).xcom_value["enKashCardTransactionId"] == later.enkash_transaction_id
    with pytest.raises(EnKashTransactionNotFound):
        _sensor(enkash_transaction_id="ECTR99999999", not_found_grace=0).poke({})
