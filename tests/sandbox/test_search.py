"""Transaction search: filters, date windows, ordering, truncation and paging, seeded volume."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from airflow_provider_enkash.sandbox.clock import render
from airflow_provider_enkash.sandbox.model import txn_id


def _iso(ms: int) -> str:
    return render(ms, "iso")


def _loaded(client, count: int, card: str | None = None) -> tuple[str, list[dict]]:
    card = card or client.new_card()
    return card, [client.load(card, i + 1, f"S-{card}-{i}")["payload"] for i in range(count)]


def test_filters_by_card_user_type_amount_status_and_ids(client, sandbox):
    card_a, loads_a = _loaded(client, 3)
    card_b, _ = _loaded(client, 2)
    sandbox.post("spend", {"enKashCardId": card_b, "amount": 2})
    assert client.search(enKashCardId=card_a)["recordsCount"] == 3
    user_b = client.ok("get_card_details", {"enKashCardId": card_b})["data"][0]["userId"]
    assert client.search(userId=user_b)["recordsCount"] == 3
    assert client.search(cardTransactionType="DR")["recordsCount"] == 1
    assert client.search(cardTransactionType="CR", enKashCardId=card_b)["recordsCount"] == 2
    assert [r["principalAmount"] for r in client.search(amountFrom=2, amountTo=2)["data"]] == [2, 2, 2]
    assert client.search(status="CREATED")["recordsCount"] == 6
    assert client.search(status="SUCCESS")["recordsCount"] == 0
    ids = [p["enkashCardTxnId"] for p in loads_a[:2]]
    assert [r["enKashCardTransactionId"] for r in client.search(enKashTransactionIds=ids)["data"]] == ids
    assert client.search(enKashTransactionId=ids[0], enKashCardId=card_b)["recordsCount"] == 0
    assert client.search(pgReferenceNumbers=[f"S-{card_a}-0", f"S-{card_b}-1"])["recordsCount"] == 2
    assert client.search(enKashCardId="EKCNOSUCH1") == {"recordsCount": 0, "data": []}


def test_results_are_in_date_then_id_order(client):
    _loaded(client, 4)
    rows = client.search()["data"]
    keys = [(r["txnDetails"]["id"], r["enKashCardTransactionId"]) for r in rows]
    assert keys == sorted(keys)


def test_truncation_page_and_size(client, sandbox):
    _loaded(client, 12)
    sandbox.post("config", {"max_records": 5})
    first = client.search()
    assert first["recordsCount"] == 12 and len(first["data"]) == 5  # silently truncated
    page = client.search(page=1, size=4)
    assert [r["txnDetails"]["id"] for r in page["data"]] == [5, 6, 7, 8]
    capped = client.search(page=1, size=8)  # a page larger than max_records is cut too
    assert [r["txnDetails"]["id"] for r in capped["data"]] == [9, 10, 11, 12]
    assert client.search(page=3, size=4)["data"] == []
    sandbox.post("config", {"records_count": "returned"})
    assert client.search()["recordsCount"] == 5


def test_window_is_half_open_unless_configured(client, sandbox, sandbox_server):
    card = client.new_card()
    loads = []
    for i in range(3):
        loads.append(client.load(card, 1, f"W-{i}")["payload"]["enkashCardTxnId"])
        time.sleep(0.005)  # distinct milliseconds
    times = list(sandbox_server.state.txns.t_ms)

    def ids(**window):
        return [r["enKashCardTransactionId"] for r in client.search(**window)["data"]]

    assert ids(txnDateFrom=_iso(times[1])) == loads[1:]  # from is inclusive
    assert ids(txnDateFrom=_iso(times[0]), txnDateTo=_iso(times[2])) == loads[:2]  # to is exclusive
    assert ids(txnDateFrom=_iso(times[1]), txnDateTo=_iso(times[1] + 1)) == [loads[1]]
    sandbox.post("config", {"date_to_inclusive": True})
    assert ids(txnDateFrom=_iso(times[0]), txnDateTo=_iso(times[2])) == loads


def test_seeding_100k_is_fast_and_window_queries_match_a_full_scan(make_sandbox):
    end = datetime(2025, 3, 1, tzinfo=UTC)
    started = time.perf_counter()
    sandbox, client = make_sandbox(
        seed_cards=200, seed_transactions=100_000, days=10, seed_end=end, random_seed=3
    )
    assert time.perf_counter() - started < 10
    store = sandbox.state.txns
    assert len(store) == 100_000
    assert list(store.t_ms) == sorted(store.t_ms)
    start_ms = int((end - timedelta(days=4)).timestamp() * 1000)
    end_ms = start_ms + 3 * 3_600_000
    expected = [s for s in range(len(store)) if start_ms <= store.t_ms[s] < end_ms]
    began = time.perf_counter()
    result = client.search(txnDateFrom=_iso(start_ms), txnDateTo=_iso(end_ms), size=1000)
    assert time.perf_counter() - began < 2
    assert result["recordsCount"] == len(expected) > 0
    assert [r["enKashCardTransactionId"] for r in result["data"]] == [txn_id(s) for s in expected[:1000]]
    statuses = {r["status"] for r in result["data"]}
    assert "SUCCESS" in statuses and statuses <= {"SUCCESS", "FAILED", "REVERSED"}
    success = client.search(txnDateFrom=_iso(start_ms), txnDateTo=_iso(end_ms), status="SUCCESS", size=1)
    assert 0.9 * len(expected) < success["recordsCount"] < len(expected)


def test_seeding_is_deterministic_and_balances_match_history(make_sandbox):
    end = datetime(2025, 3, 1, tzinfo=UTC)
    config = {"seed_cards": 20, "seed_transactions": 2_000, "days": 3, "seed_end": end, "random_seed": 11}
    first, client = make_sandbox(**config)
    second, _ = make_sandbox(**config)
    assert list(first.state.txns.amount) == list(second.state.txns.amount)
    assert [c.enkash_card_id for c in first.state.card_list] == [
        c.enkash_card_id for c in second.state.card_list
    ]
    card = first.state.card_list[0]
    history = client.search(enKashCardId=card.enkash_card_id, size=1000)["data"]
    net = sum(
        (r["principalAmount"] if r["cardTransactionType"] == "CR" else -r["principalAmount"])
        for r in history
        if r["status"] != "FAILED"
    )
    assert Decimal(net) == card.balance
    load = next(r for r in history if r["cardTransactionType"] == "CR")
    (found,) = client.search(pgReferenceNumbers=[load["pgReferenceNumber"]])["data"]
    assert found["enKashCardTransactionId"] == load["enKashCardTransactionId"]
