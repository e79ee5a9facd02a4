"""Load Card Balance: atomic money movement, duplicate references, the ledger, the status lifecycle."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest


def _ledger(sandbox, reference):
    (entry,) = [e for e in sandbox.get("ledger")["loads"] if e["reference"] == reference]
    return entry


def test_load_moves_money_and_is_searchable_by_reference(client, sandbox, sandbox_server):
    card = client.new_card()
    envelope = client.load(card, "250.75", "PAY-1", type="ALLOCATE_FUND", description="payroll")
    assert envelope["code"] == 0
    payload = envelope["payload"]
    assert payload["enKashCardId"] == card and payload["pgReferenceNumber"] == "PAY-1"
    assert re.fullmatch(r"ECTR[A-Z0-9]{9}", payload["enkashCardTxnId"])
    assert payload["otbBalance"] == Decimal("250.75")
    assert sandbox_server.state.card_balance(card) == Decimal("250.75")
    assert sandbox_server.state.account_balance("CASANDBOX1") == Decimal("9999749.25")
    (record,) = client.search(pgReferenceNumbers=["PAY-1"])["data"]
    assert record["enKashCardTransactionId"] == payload["enkashCardTxnId"]
    assert record["cardTransactionType"] == "CR" and record["type"] == "ALLOCATE_FUND"
    assert record["principalAmount"] == Decimal("250.75") and record["currency"] == "INR"
    assert record["description"] == "payroll" and record["status"] == "CREATED"
    assert _ledger(sandbox, "PAY-1")["times_applied"] == 1


def test_load_to_unknown_card_or_account(client):
    assert client.load("EKCNOSUCH1", 1, "X-1")["message"] == "Card not found"
    assert (
        client.load(client.new_card(), 1, "X-2", cardAccountId="CANOSUCH1")["message"]
        == "Card account not found"
    )


def test_insufficient_balance_is_code_1_and_moves_nothing(client, sandbox_server):
    card = client.new_card()
    envelope = client.load(card, "10000000.01", "BIG-1")
    assert envelope == {
        "code": 1,
        "message": "Insufficient balance in card account",
        "payload": "Insufficient balance in card account",
    }
    assert sandbox_server.state.card_balance(card) == 0


def test_duplicate_reference_is_applied_again_by_default(client, sandbox):
    card = client.new_card()
    first, second = client.load(card, 10, "DUP-1"), client.load(card, 10, "DUP-1")
    assert first["payload"]["enkashCardTxnId"] != second["payload"]["enkashCardTxnId"]
    assert second["payload"]["otbBalance"] == 20
    entry = _ledger(sandbox, "DUP-1")
    assert entry["times_applied"] == 2 and len(entry["transaction_ids"]) == 2
    assert client.search(pgReferenceNumbers=["DUP-1"])["recordsCount"] == 2


def test_duplicate_reference_rejected_in_reject_mode(client, sandbox):
    sandbox.post("config", {"duplicate_references": "reject"})
    card = client.new_card()
    client.load(card, 10, "DUP-2")
    assert client.load(card, 10, "DUP-2")["code"] == 1
    assert _ledger(sandbox, "DUP-2")["times_applied"] == 1


def test_duplicate_reference_returns_the_original(client, sandbox):
    sandbox.post("config", {"duplicate_references": "return_original"})
    card = client.new_card()
    first = client.load(card, 10, "DUP-3")["payload"]
    assert client.load(card, 10, "DUP-3")["payload"] == first
    assert _ledger(sandbox, "DUP-3")["times_applied"] == 1


def test_two_hundred_parallel_loads_keep_every_balance_exact(client, sandbox, sandbox_server):
    cards = [client.new_card() for _ in range(8)]
    client.login()
    state = sandbox_server.state
    before = state.account_balance("CASANDBOX1")
    jobs = [(cards[i % 8], Decimal("1.01") + Decimal(i) / 100, f"PAR-{i}") for i in range(200)]

    def load(job):
        card, amount, reference = job
        return client.load(card, amount, reference)["code"]

    with ThreadPoolExecutor(max_workers=32) as pool:
        assert set(pool.map(load, jobs)) == {0}
    for card in cards:
        assert state.card_balance(card) == sum((a for c, a, _ in jobs if c == card), Decimal(0))
    total = sum((a for _, a, _ in jobs), Decimal(0))
    assert state.account_balance("CASANDBOX1") == before - total
    assert {e["times_applied"] for e in sandbox.get("ledger")["loads"]} == {1}
    assert len(sandbox.get("ledger")["loads"]) == 200


def test_status_settles_lazily_after_the_delay(client, sandbox):
    sandbox.post("config", {"settle_delay_s": 0.3})
    client.load(client.new_card(), 5, "LAZY-1")
    (record,) = client.search(pgReferenceNumbers=["LAZY-1"])["data"]
    assert record["status"] == "CREATED"
    time.sleep(0.35)
    (record,) = client.search(pgReferenceNumbers=["LAZY-1"])["data"]
    assert record["status"] == "SUCCESS"


def test_admin_settle_settles_everything_now(client, sandbox):
    sandbox.post("config", {"settle_delay_s": 3600})
    client.load(client.new_card(), 5, "SETTLE-1")
    assert client.search(status="CREATED")["recordsCount"] == 1
    assert sandbox.post("settle")["settled"] == 1
    assert client.search(status="CREATED")["recordsCount"] == 0
    assert client.search(pgReferenceNumbers=["SETTLE-1"])["data"][0]["status"] == "SUCCESS"


def test_failed_load_returns_the_money_exactly_once(client, sandbox, sandbox_server):
    sandbox.post("config", {"failure_rate": 1.0, "settle_delay_s": 0.2})
    card = client.new_card()
    state = sandbox_server.state
    before = state.account_balance("CASANDBOX1")
    assert client.load(card, "40.00", "FAIL-1")["payload"]["otbBalance"] == 40  # accepted, not yet settled
    assert state.account_balance("CASANDBOX1") == before - 40
    time.sleep(0.25)
    for _ in range(3):  # every read settles, but the refund happens once
        assert client.search(pgReferenceNumbers=["FAIL-1"])["data"][0]["status"] == "FAILED"
        assert state.account_balance("CASANDBOX1") == before
        assert state.card_balance(card) == 0
    assert _ledger(sandbox, "FAIL-1")["statuses"] == ["FAILED"]


def test_late_change_reverses_a_settled_load_and_updates_modified_on(client, sandbox):
    sandbox.post(
        "config",
        {
            "late_change_rate": 1.0,
            "late_change_delay_s": 0.3,
            "settle_delay_s": 0.1,
            "timestamp_format": "iso",
        },
    )
    client.load(client.new_card(), 5, "LATE-1")
    time.sleep(0.15)
    settled = client.search(pgReferenceNumbers=["LATE-1"])["data"][0]
    assert settled["status"] == "SUCCESS"
    time.sleep(0.35)
    changed = client.search(pgReferenceNumbers=["LATE-1"])["data"][0]
    assert changed["status"] == "REVERSED"
    assert changed["modifiedOn"] > settled["modifiedOn"] > settled["createdOn"]


@pytest.mark.parametrize(
    ("style", "pattern"),
    [
        ("enkash", r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M"),
        ("iso", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"),
    ],
)
def test_timestamp_formats(client, sandbox, style, pattern):
    sandbox.post("config", {"timestamp_format": style})
    client.load(client.new_card(), 5, f"TS-{style}")
    record = client.search(pgReferenceNumbers=[f"TS-{style}"])["data"][0]
    for key in ("createdOn", "txnDate", "modifiedOn"):
        assert re.fullmatch(pattern, record[key]), record[key]


def test_spend_creates_a_debit(client, sandbox, sandbox_server):
    card = client.new_card()
    client.load(card, 100, "SPEND-1")
    spent = sandbox.post("spend", {"enKashCardId": card, "amount": "30.50", "merchantName": "Chai Point"})
    assert spent["balance"] == "69.50"
    (record,) = client.search(cardTransactionType="DR")["data"]
    assert record["type"] == "SALE" and record["principalAmount"] == Decimal("30.50")
    assert record["txnDetails"]["merchantName"] == "Chai Point" and record["balance"] == Decimal("69.50")
    response = sandbox.session.post(
        f"{sandbox.url}/_sandbox/spend", json={"enKashCardId": card, "amount": 1000}, timeout=5
    )
    assert response.status_code == 409 and "Insufficient" in response.json()["error"]
