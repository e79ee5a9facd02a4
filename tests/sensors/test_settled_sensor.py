"""EnKashTransactionsSettledSensor in poke mode: pending windows wait, truncated responses are re-read smaller."""

from __future__ import annotations

import time

import pytest
from airflow.sdk.exceptions import AirflowSensorTimeout

from airflow_provider_enkash._client.reader import WindowTooDense
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.sensors.transactions import EnKashTransactionsSettledSensor
from airflow_provider_enkash.token_cache import TOKEN_CACHE
from tests.conftest import connection_json


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _sensor(start: float, **kwargs) -> EnKashTransactionsSettledSensor:
    defaults = {
        "task_id": "settled",
        "txn_date_from": _iso(start),
        "txn_date_to": _iso(time.time() + 60),
        "poke_interval": 0.1,
        "timeout": 10,
        "deferrable": False,
    }
    return EnKashTransactionsSettledSensor(**{**defaults, **kwargs})


def test_waits_until_every_transaction_in_the_window_settled(sandbox, load):
    sandbox.post("config", {"settle_delay_s": 0.5, "failure_rate": 0.5})
    start = time.time() - 5
    for i in range(6):
        load(f"{i + 1}.00")
    summary = _sensor(start).execute({})
    assert summary["transactions"] == 6
    assert set(summary["by_status"]) <= {"SUCCESS", "FAILED"}
    assert sum(summary["by_status"].values()) == 6
    assert summary["pending_sample"] == []


def test_truncated_responses_are_split_until_complete(sandbox, hook, load):
    start = time.time() - 5
    for _ in range(9):
        load("1.00")
    sandbox.post("settle")
    sandbox.post("config", {"max_records": 2, "records_count": "returned"})
    summary = _sensor(start, max_records_per_response=2).execute({})
    assert summary["transactions"] == 9
    assert summary["by_status"] == {"SUCCESS": 9}


def test_the_connections_search_cap_marks_a_full_answer_truncated(sandbox, sandbox_server, load, monkeypatch):
    """EnKash cuts searches at 2 rows, oldest first, and counts only those; the connection says so
    (search_cap=2). The sensor, left at its default of 1000, must still split the window and find the
    pending load beyond the cut rather than call the window settled."""
    start = time.time() - 5
    for _ in range(3):
        load("1.00")
    sandbox.post("settle")
    sandbox.post("config", {"settle_delay_s": 30})
    load("2.00")  # the newest: pending, and not among the first 2 rows
    sandbox.post("config", {"max_records": 2, "records_count": "returned"})
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(sandbox_server, search_cap=2))
    TOKEN_CACHE.clear()
    with pytest.raises(AirflowSensorTimeout):
        _sensor(start, timeout=0.5).execute({})


def test_a_millisecond_still_truncated_fails_rather_than_dropping_records(sandbox, load):
    start = time.time() - 5
    load()
    sandbox.post("settle")
    before = sandbox.requests_total()
    # one record per response is always "possibly truncated": the walk narrows down to the record's millisecond
    with pytest.raises(WindowTooDense, match="cannot be split further"):
        _sensor(start, max_records_per_response=1).execute({})
    assert sandbox.requests_total() - before > 10  # it did halve, one search per sub-window


def test_a_truncated_answer_holding_a_pending_record_is_pending_not_split(sandbox, load):
    sandbox.post("config", {"settle_delay_s": 30})
    start = time.time() - 5
    load()
    with pytest.raises(AirflowSensorTimeout):  # pending, polled again: not WindowTooDense
        _sensor(start, max_records_per_response=1, timeout=0.3).execute({})


def test_pending_window_times_out(sandbox, load):
    sandbox.post("config", {"settle_delay_s": 30})
    start = time.time() - 5
    load()
    with pytest.raises(AirflowSensorTimeout):
        _sensor(start, timeout=0.3).execute({})


def test_card_filter_ignores_other_cards(sandbox, hook, load):
    start = time.time() - 5
    other = hook.create_prepaid_card(first_name="Other", mobile="9000000001")["enKashCardId"]
    sandbox.post("config", {"settle_delay_s": 30})
    load(enkash_card_id=other)  # pending, but on another card
    sandbox.post("config", {"settle_delay_s": 0.2})
    mine = load()
    summary = _sensor(start, enkash_card_id=mine.enkash_card_id).execute({})
    assert summary["transactions"] == 1


def test_missing_window_fails_before_any_request(sandbox):
    before = sandbox.requests_total()
    with pytest.raises(EnKashValidationError) as info:
        _sensor(time.time(), txn_date_to=None).execute({})
    assert info.value.field == "txn_date_to"
    assert sandbox.requests_total() == before
