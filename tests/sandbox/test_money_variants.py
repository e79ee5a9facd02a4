"""The sandbox's adversarial variants for money safety (issue 11): each one really happens at the wire."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_enkash.sandbox.__main__ import config_from_args


def _times_applied(sandbox, reference):
    return [e["times_applied"] for e in sandbox.get("ledger")["loads"] if e["reference"] == reference]


def test_search_lag_hides_a_committed_credit_for_n_seconds(client, sandbox):
    card = client.new_card()
    sandbox.post("config", {"search_lag_s": 1.0})
    assert client.load(card, 5, "LAG-1")["code"] == 0
    assert _times_applied(sandbox, "LAG-1") == [1]
    assert client.search(pgReferenceNumbers=["LAG-1"]) == {"recordsCount": 0, "data": []}
    time.sleep(1.2)
    assert client.search(pgReferenceNumbers=["LAG-1"])["recordsCount"] == 1


@pytest.mark.parametrize(("mode", "seen"), [("queued_commit", "dropped"), ("queued_commit_503", 503)])
def test_queued_commit_applies_the_load_after_the_reply(client, sandbox, mode, seen):
    card = client.new_card()
    sandbox.post(
        "faults", {"operation": "load_card_balance", "mode": mode, "count": 1, "commit_after_s": 0.6}
    )
    if seen == "dropped":
        with pytest.raises(requests.ConnectionError):
            client.load(card, 5, "QUEUED-1")
    else:
        response = client.post(
            "load_card_balance",
            {"enKashCardId": card, "amount": 5, "transactionType": "CR", "uniqueReferenceNumber": "QUEUED-1"},
        )
        assert response.status_code == 503
    assert _times_applied(sandbox, "QUEUED-1") == []
    assert client.search(pgReferenceNumbers=["QUEUED-1"])["recordsCount"] == 0
    time.sleep(1.0)
    assert _times_applied(sandbox, "QUEUED-1") == [1]
    assert client.search(pgReferenceNumbers=["QUEUED-1"])["recordsCount"] == 1
    assert sandbox.get("faults")["fired"] == {mode: 1}


def test_a_search_that_ignores_filters_returns_capped_unfiltered_rows(client, sandbox):
    card = client.new_card()
    for i in range(5):
        client.load(card, 1 + i, f"CAP-{i}")
    sandbox.post("config", {"ignore_search_filters": True, "max_records": 3})
    answer = client.search(pgReferenceNumber="CAP-4", enKashCardId=card)
    assert answer["recordsCount"] == 5
    assert [r["pgReferenceNumber"] for r in answer["data"]] == ["CAP-0", "CAP-1", "CAP-2"]
    sandbox.post("config", {"records_count": "returned"})
    assert client.search(pgReferenceNumbers=["CAP-4"])["recordsCount"] == 3


def test_records_can_carry_the_reference_under_another_field_name(client, sandbox):
    card = client.new_card()
    client.load(card, 5, "FIELD-1")
    sandbox.post("config", {"reference_field": "uniqueReferenceNumber"})
    (record,) = client.search(pgReferenceNumbers=["FIELD-1"])["data"]
    assert "pgReferenceNumber" not in record
    assert record["uniqueReferenceNumber"] == "FIELD-1"


def test_status_words_rename_statuses_in_records_and_filters(client, sandbox):
    card = client.new_card()
    client.load(card, 5, "WORD-1")
    sandbox.post("settle")
    sandbox.post("config", {"status_words": {"SUCCESS": "SUCCESSFUL", "FAILED": "FAILURE"}})
    (record,) = client.search(pgReferenceNumbers=["WORD-1"])["data"]
    assert record["status"] == "SUCCESSFUL"
    assert client.search(status="SUCCESSFUL")["recordsCount"] == 1
    assert [e["statuses"] for e in sandbox.get("ledger")["loads"]] == [
        ["SUCCESS"]
    ]  # the oracle keeps its words


def test_cli_flags_for_the_money_variants():
    config = config_from_args(
        [
            "--search-lag-s", "3", "--ignore-search-filters", "--reference-field", "uniqueReferenceNumber",
            "--status-words", "SUCCESS=SUCCESSFUL", "FAILED=FAILURE",
            "--fault", "mode=queued_commit,operation=load_card_balance,commit_after_s=2.5",
        ]
    )  # fmt: skip
    assert config.search_lag_s == 3.0 and config.ignore_search_filters
    assert config.reference_field == "uniqueReferenceNumber"
    assert config.status_words == {"SUCCESS": "SUCCESSFUL", "FAILED": "FAILURE"}
    assert config.faults[0].mode == "queued_commit" and config.faults[0].commit_after_s == 2.5
