"""Fault injection: every mode, counts and rates, scoping, determinism, and faults from the config."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_enkash.crypto import loads_payload, open_envelope
from airflow_provider_enkash.exceptions import EnKashCryptoError
from airflow_provider_enkash.sandbox import FaultRule
from airflow_provider_enkash.sandbox.faults import FaultInjector, parse_fault_spec


def _times_applied(sandbox, reference):
    return [e["times_applied"] for e in sandbox.get("ledger")["loads"] if e["reference"] == reference]


@pytest.mark.parametrize(("mode", "status"), [("http_500", 500), ("http_502", 502), ("http_503", 503)])
def test_server_errors_are_not_processed(client, sandbox, mode, status):
    card = client.new_card()
    sandbox.post("faults", {"operation": "load_card_balance", "mode": mode, "count": 1})
    assert (
        client.post(
            "load_card_balance",
            {"enKashCardId": card, "amount": 5, "transactionType": "CR", "uniqueReferenceNumber": "F-5XX"},
        ).status_code
        == status
    )
    assert _times_applied(sandbox, "F-5XX") == []
    assert client.load(card, 5, "F-5XX")["code"] == 0  # the count is used up
    assert sandbox.get("counters")["statuses"][str(status)] == 1


def test_rate_limit_has_retry_after_and_is_not_processed(client, sandbox):
    card = client.new_card()
    sandbox.post(
        "faults", {"operation": "load_card_balance", "mode": "http_429", "count": 1, "retry_after_s": 7}
    )
    response = client.post(
        "load_card_balance",
        {"enKashCardId": card, "amount": 5, "transactionType": "CR", "uniqueReferenceNumber": "F-429"},
    )
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert _times_applied(sandbox, "F-429") == []


def test_drop_before_processing(client, sandbox):
    card = client.new_card()
    sandbox.post("faults", {"operation": "load_card_balance", "mode": "drop_before", "count": 1})
    with pytest.raises(requests.ConnectionError):
        client.load(card, 5, "F-DROP")
    assert _times_applied(sandbox, "F-DROP") == []
    assert sandbox.get("counters")["statuses"]["dropped"] == 1


def test_drop_after_commit_is_the_double_spend_trap(client, sandbox, sandbox_server):
    card = client.new_card()
    sandbox.post("faults", {"operation": "load_card_balance", "mode": "drop_after_commit", "count": 1})
    with pytest.raises(requests.ConnectionError):
        client.load(card, 5, "F-COMMIT")
    assert _times_applied(sandbox, "F-COMMIT") == [1]  # the money moved although no answer came
    assert sandbox_server.state.card_balance(card) == 5
    assert client.search(pgReferenceNumbers=["F-COMMIT"])["recordsCount"] == 1
    client.load(card, 5, "F-COMMIT")  # a blind resend double-spends (default duplicate policy)
    assert _times_applied(sandbox, "F-COMMIT") == [2]


def test_revoke_token_answers_401_and_kills_the_token(client, sandbox):
    token = client.login()
    sandbox.post("faults", {"mode": "revoke_token", "count": 1})
    response = client.post("get_card_account_details", {}, token=token)
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    assert client.post("get_card_account_details", {}, token=token).status_code == 401
    assert client.post("get_card_account_details", {}, token=client.login()).status_code == 200


def test_undecryptable_response_after_processing(client, sandbox):
    card = client.new_card()
    sandbox.post("faults", {"operation": "load_card_balance", "mode": "undecryptable", "count": 1})
    response = client.post(
        "load_card_balance",
        {"enKashCardId": card, "amount": 5, "transactionType": "CR", "uniqueReferenceNumber": "F-UND"},
    )
    assert response.status_code == 200 and response.json() == {"request": "not-base64!!"}
    with pytest.raises(EnKashCryptoError):
        open_envelope(response.json(), "sandbox-client-secret")
    assert _times_applied(sandbox, "F-UND") == [1]


def test_malformed_response_after_processing(client, sandbox):
    card = client.new_card()
    sandbox.post("faults", {"operation": "load_card_balance", "mode": "malformed", "count": 1})
    response = client.post(
        "load_card_balance",
        {"enKashCardId": card, "amount": 5, "transactionType": "CR", "uniqueReferenceNumber": "F-BAD"},
    )
    assert response.status_code == 200
    with pytest.raises(ValueError):
        loads_payload(response.content)
    assert _times_applied(sandbox, "F-BAD") == [1]


def test_latency_fixed_plus_jitter(client, sandbox):
    client.login()
    sandbox.post(
        "faults",
        {
            "operation": "get_card_account_details",
            "mode": "latency",
            "latency_ms": 200,
            "jitter_ms": 50,
            "count": 1,
        },
    )
    began = time.perf_counter()
    assert client.post("get_card_account_details", {}).status_code == 200
    assert 0.2 <= time.perf_counter() - began < 1.0
    began = time.perf_counter()
    client.post("get_card_account_details", {})
    assert time.perf_counter() - began < 0.2


def test_faults_are_scoped_to_their_operation(client, sandbox):
    client.login()
    sandbox.post("faults", {"operation": "get_card_details", "mode": "http_503", "rate": 1.0})
    assert client.post("get_card_account_details", {}).status_code == 200
    assert client.post("get_card_details", {}).status_code == 503
    assert client.token_response().status_code == 200  # global and other-operation rules spare the token call


def test_token_endpoint_faults_only_when_named(client, sandbox):
    sandbox.post("faults", {"mode": "http_500", "rate": 1.0})
    assert client.token_response().status_code == 200
    sandbox.post("faults", {"clear": True})
    sandbox.post("faults", {"operation": "auth_token", "mode": "http_503", "count": 1})
    assert client.token_response().status_code == 503
    assert client.token_response().status_code == 200


def test_clear_removes_every_rule(client, sandbox):
    client.login()
    sandbox.post("faults", {"mode": "http_500", "rate": 1.0})
    assert client.post("get_card_account_details", {}).status_code == 500
    cleared = sandbox.post("faults", {"clear": True})
    assert cleared["faults"] == []
    assert cleared["fired"] == {"http_500": 1}
    assert client.post("get_card_account_details", {}).status_code == 200


def test_bad_fault_rules_are_400(sandbox):
    for rule in ({"mode": "explode"}, {"mode": "http_500", "rate": 2}, {"mode": "http_500", "when": "now"}):
        assert sandbox.session.post(f"{sandbox.url}/_sandbox/faults", json=rule, timeout=5).status_code == 400


def test_rates_are_deterministic_for_a_seed():
    def pattern(seed):
        faults = FaultInjector([FaultRule("http_500", rate=0.3)], seed=seed)
        return [faults.decide("load_card_balance").before for _ in range(200)]

    first = pattern(5)
    assert first == pattern(5) and first != pattern(6)
    assert 30 <= first.count("http_500") <= 90


def test_rate_and_count_together_cap_the_firings():
    faults = FaultInjector([FaultRule("http_500", rate=0.5, count=3)], seed=1)
    assert [faults.decide("x").before for _ in range(100)].count("http_500") == 3
    assert faults.active() == []


def test_cli_fault_spec_parsing():
    assert parse_fault_spec("mode=http_500,rate=0.1,operation=load_card_balance") == FaultRule(
        "http_500", operation="load_card_balance", rate=0.1
    )
    assert parse_fault_spec('{"mode": "latency", "latency_ms": 50, "jitter_ms": 5}') == FaultRule(
        "latency", latency_ms=50, jitter_ms=5
    )


def test_faults_from_the_config_survive_reset(make_sandbox):
    sandbox, client = make_sandbox(
        faults=({"operation": "get_card_details", "mode": "http_502", "count": 1},)
    )
    assert client.post("get_card_details", {}).status_code == 502
    assert client.post("get_card_details", {}).status_code == 200
    requests.post(f"{sandbox.url}/_sandbox/reset", json={}, timeout=5)
    assert client.post("get_card_details", {}).status_code == 502


def test_fractional_latency_from_the_admin_api_delays_instead_of_failing(sandbox, hook):
    import time

    sandbox.post(
        "faults",
        {"operation": "get_card_account_details", "mode": "latency", "latency_ms": 20.5, "rate": 1.0},
    )
    started = time.monotonic()
    hook.get_card_account_details()
    assert time.monotonic() - started >= 0.02
    assert sandbox.get("counters")["statuses"].get("500", 0) == 0
