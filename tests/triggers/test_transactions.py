"""EnKashTransactionTrigger.run() under asyncio against the sandbox: one event per run, transient errors polled through."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from airflow_provider_enkash.triggers.transactions import EnKashTransactionTrigger
from tests.conftest import run_trigger


def _trigger(**kwargs) -> EnKashTransactionTrigger:
    defaults = {"enkash_conn_id": "enkash_default", "end_time": time.time() + 20, "poll_interval": 0.1}
    return EnKashTransactionTrigger(**{**defaults, **kwargs})


def _only_event(trigger) -> dict:
    events = run_trigger(trigger)
    assert len(events) == 1, events
    return events[0].payload


def test_serialize_is_the_watch_as_one_value_and_round_trips():
    trigger = _trigger(
        pg_reference_number="REF-1",
        enkash_card_id="EKC1234567",
        card_account_id="CASANDBOX1",
        target_statuses=["success", "SETTLED"],
        not_found_deadline=123.5,
        end_time=1000.0,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_enkash.triggers.transactions.EnKashTransactionTrigger"
    assert kwargs == {
        "enkash_conn_id": "enkash_default",
        "end_time": 1000.0,
        "watch": {
            "kind": "transaction",
            "enkash_transaction_id": None,
            "pg_reference_number": "REF-1",
            "enkash_card_id": "EKC1234567",
            "company_id": None,
            "card_account_id": "CASANDBOX1",
        },
        "poll_interval": 0.1,
        "target_statuses": ["SETTLED", "SUCCESS"],
        "failure_statuses": None,  # None: the connection's status words
        "pending_statuses": None,
        "not_found_deadline": 123.5,
    }
    assert EnKashTransactionTrigger(**kwargs).serialize() == (classpath, kwargs)
    window = _trigger(
        txn_date_from="2025-01-01T05:30:00+05:30",
        txn_date_to="2025-01-02T00:00:00Z",
        user_id="EK123456",
        end_time=1000.0,
    )
    assert window.serialize()[1]["watch"] == {
        "kind": "window",
        "txn_date_from": "2025-01-01T00:00:00.000Z",
        "txn_date_to": "2025-01-02T00:00:00.000Z",
        "enkash_card_id": None,
        "user_id": "EK123456",
        "company_id": None,
        "card_account_id": None,
        "max_records_per_response": 1000,
    }
    assert EnKashTransactionTrigger(**window.serialize()[1]).serialize() == window.serialize()


def test_watch_and_flattened_fields_are_not_mixed():
    with pytest.raises(TypeError, match="enkash_card_id"):
        _trigger(watch={"kind": "transaction", "enkash_transaction_id": "ECTR1"}, enkash_card_id="EKC1234567")


def test_success_event_carries_the_redacted_transaction(sandbox, load):
    loaded = load("77.70")
    event = _only_event(_trigger(enkash_transaction_id=loaded.enkash_transaction_id))
    assert event["status"] == "success"
    assert event["transaction"]["status"] == "SUCCESS"
    assert Decimal(event["transaction"]["principalAmount"]) == Decimal("77.70")
    assert loaded.enkash_transaction_id in event["message"]


def test_failure_event(sandbox, load):
    sandbox.post("config", {"failure_rate": 1.0})
    loaded = load()
    event = _only_event(_trigger(enkash_transaction_id=loaded.enkash_transaction_id))
    assert (event["status"], event["state"], event["transaction"]["status"]) == (
        "failure",
        "failure",
        "FAILED",
    )


def test_not_found_after_grace_is_a_failure_event(sandbox):
    event = _only_event(_trigger(enkash_transaction_id="ECTRNOSUCH01", not_found_deadline=time.time() + 0.3))
    assert (event["status"], event["state"]) == ("failure", "not_found")


def test_timeout_event_after_the_deadline(sandbox, load):
    sandbox.post("config", {"settle_delay_s": 30})
    loaded = load()
    started = time.monotonic()
    event = _only_event(
        _trigger(enkash_transaction_id=loaded.enkash_transaction_id, end_time=time.time() + 0.4)
    )
    assert event["status"] == "timeout"
    assert "CREATED" in event["message"]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("mode", ["http_500", "http_429", "drop_before"])
def test_transient_errors_are_polled_again(sandbox, load, mode):
    loaded = load()
    # more failures than the hook's own retries: the trigger itself must back off and poll again
    sandbox.post("faults", {"operation": "get_all_transactions", "mode": mode, "count": 12})
    event = _only_event(_trigger(enkash_transaction_id=loaded.enkash_transaction_id, poll_interval=0.05))
    assert event["status"] == "success"
    assert (
        sandbox.get("counters")["operations"]["get_all_transactions"] >= 13
    )  # all 12 faults served, then success


def test_one_search_call_per_poll(sandbox, load):
    sandbox.post("config", {"settle_delay_s": 30})
    loaded = load()
    before = sandbox.get("counters")["operations"].get("get_all_transactions", 0)
    event = _only_event(
        _trigger(
            enkash_transaction_id=loaded.enkash_transaction_id, poll_interval=0.25, end_time=time.time() + 1.0
        )
    )
    assert event["status"] == "timeout"
    polls = sandbox.get("counters")["operations"]["get_all_transactions"] - before
    assert (
        2 <= polls <= 1.0 / 0.25 + 2
    )  # at most one call per poll interval, plus the final poll at the deadline


def test_error_event_for_unusable_connection(sandbox):
    event = _only_event(_trigger(enkash_conn_id="no_such_connection", enkash_transaction_id="ECTR1"))
    assert event["status"] == "error"
    assert "no_such_connection" in event["message"]


def test_error_event_for_refused_credentials(sandbox, monkeypatch):
    import json

    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_ENKASH_DEFAULT"])
    conn["password"] = "wrong-password"
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_BAD", json.dumps(conn))
    event = _only_event(
        _trigger(enkash_conn_id="enkash_bad", enkash_transaction_id="ECTR1", end_time=time.time() + 5)
    )
    assert event["status"] == "error"
    assert "EnKashLoginRefused" in event["message"]
    assert "wrong-password" not in event["message"]


def test_window_pending_then_settled(sandbox, hook, load):
    sandbox.post("config", {"settle_delay_s": 0.6})
    start = time.time() - 5
    for amount in ("1.00", "2.00", "3.00"):
        load(amount)
    window = {
        "txn_date_from": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
        "txn_date_to": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60)),
    }
    event = _only_event(_trigger(**window))
    assert event["status"] == "success"
    assert event["summary"]["transactions"] == 3
    assert event["summary"]["by_status"] == {"SUCCESS": 3}
