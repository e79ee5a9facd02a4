"""Loads through the hook never double-spend: every fault ends loaded once, refused, or outcome-unknown."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from airflow_provider_enkash.exceptions import (
    EnKashBusinessError,
    EnKashOutcomeUnknown,
    EnKashRateLimitError,
    EnKashTransactionFailed,
    EnKashValidationError,
)


def _card(hook) -> str:
    return hook.create_prepaid_card(first_name="Ravi", mobile="9123456780")["enKashCardId"]


def _ledger_entry(sandbox, reference: str) -> dict:
    entries = [e for e in sandbox.get("ledger")["loads"] if e["reference"] == reference]
    assert len(entries) == 1, entries
    return entries[0]


def _card_balance(hook, card: str) -> Decimal:
    (record,) = hook.get_card_details(enkash_card_id=card)["data"]
    return Decimal(str(record["otbBalance"]))


def test_load_moves_money_once(sandbox, hook):
    card = _card(hook)
    result = hook.load_card_balance(enkash_card_id=card, amount="250.75", unique_reference_number="PAY-1")
    assert result.outcome == "loaded"
    assert result.amount == Decimal("250.75")
    assert result.enkash_transaction_id
    assert _ledger_entry(sandbox, "PAY-1")["times_applied"] == 1
    assert _card_balance(hook, card) == Decimal("250.75")


def test_drop_after_commit_is_settled_by_lookup_not_resent(sandbox, hook):
    card = _card(hook)
    sandbox.post("faults", {"operation": "load_card_balance", "mode": "drop_after_commit", "count": 1})
    result = hook.load_card_balance(
        enkash_card_id=card, amount=Decimal("100.00"), unique_reference_number="PAY-2"
    )
    assert result.outcome == "already_loaded"
    assert _ledger_entry(sandbox, "PAY-2")["times_applied"] == 1
    assert _card_balance(hook, card) == Decimal("100.00")


def test_rate_limited_load_is_resent_after_retry_after(sandbox, hook):
    card = _card(hook)
    sandbox.post(
        "faults", {"operation": "load_card_balance", "mode": "http_429", "count": 1, "retry_after_s": 0}
    )
    result = hook.load_card_balance(
        enkash_card_id=card, amount=Decimal("42.42"), unique_reference_number="PAY-429"
    )
    assert result.outcome == "loaded"
    assert _ledger_entry(sandbox, "PAY-429")["times_applied"] == 1
    assert _card_balance(hook, card) == Decimal("42.42")


@pytest.mark.parametrize("mode", ["drop_before", "http_500"])
def test_unclear_failures_are_not_resent_in_the_same_call(sandbox, hook, mode):
    card = _card(hook)
    sandbox.post("faults", {"operation": "load_card_balance", "mode": mode, "count": 1})
    with pytest.raises(EnKashOutcomeUnknown) as info:
        hook.load_card_balance(
            enkash_card_id=card, amount=Decimal("42.42"), unique_reference_number=f"PAY-{mode}"
        )
    assert info.value.reference == f"PAY-{mode}"
    assert int(sandbox.get("counters")["operations"]["load_card_balance"]) == 1
    # the task retry looks the reference up first, finds nothing, and loads exactly once
    result = hook.load_card_balance(
        enkash_card_id=card, amount=Decimal("42.42"), unique_reference_number=f"PAY-{mode}", lookup_first=True
    )
    assert result.outcome == "loaded"
    assert _ledger_entry(sandbox, f"PAY-{mode}")["times_applied"] == 1
    assert _card_balance(hook, card) == Decimal("42.42")


def test_a_timed_out_load_still_processing_is_not_sent_twice(sandbox, sandbox_server, monkeypatch):
    """The race a resend-after-look-up loses: EnKash is still processing when the look-up runs."""
    from airflow_provider_enkash.hooks.enkash import EnKashHook
    from tests.conftest import connection_json

    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(sandbox_server, timeout=0.5))
    hook = EnKashHook()
    card = _card(hook)
    sandbox.post(
        "faults", {"operation": "load_card_balance", "mode": "latency", "latency_ms": 1500, "count": 1}
    )
    with pytest.raises(EnKashOutcomeUnknown):
        hook.load_card_balance(
            enkash_card_id=card, amount=Decimal("100.00"), unique_reference_number="PAY-SLOW"
        )
    time.sleep(1.5)  # EnKash finishes the first request
    again = hook.load_card_balance(
        enkash_card_id=card, amount=Decimal("100.00"), unique_reference_number="PAY-SLOW", lookup_first=True
    )
    assert again.outcome == "already_loaded"
    assert _ledger_entry(sandbox, "PAY-SLOW")["times_applied"] == 1
    assert _card_balance(hook, card) == Decimal("100.00")


def test_a_failed_credit_is_never_reported_loaded_nor_resent(sandbox, hook):
    card = _card(hook)
    sandbox.post("config", {"failure_rate": 1.0, "settle_delay_s": 0})
    hook.load_card_balance(enkash_card_id=card, amount=Decimal("9.00"), unique_reference_number="PAY-F")
    with pytest.raises(EnKashTransactionFailed) as info:
        hook.load_card_balance(
            enkash_card_id=card, amount=Decimal("9.00"), unique_reference_number="PAY-F", lookup_first=True
        )
    assert info.value.status == "FAILED"
    assert _ledger_entry(sandbox, "PAY-F")["times_applied"] == 1
    assert _card_balance(hook, card) == Decimal("0")


def test_persistent_rate_limiting_ends_as_the_typed_error_after_max_attempts(sandbox, hook):
    card = _card(hook)
    sandbox.post(
        "faults", {"operation": "load_card_balance", "mode": "http_429", "rate": 1.0, "retry_after_s": 0}
    )
    with pytest.raises(EnKashRateLimitError):
        hook.load_card_balance(enkash_card_id=card, amount=Decimal("10.00"), unique_reference_number="PAY-X")
    assert int(sandbox.get("counters")["operations"]["load_card_balance"]) == 3
    assert "PAY-X" not in {e["reference"] for e in sandbox.get("ledger")["loads"]}


def test_lookup_first_returns_the_existing_load(sandbox, hook):
    card = _card(hook)
    hook.load_card_balance(enkash_card_id=card, amount=Decimal("5.00"), unique_reference_number="PAY-R")
    again = hook.load_card_balance(
        enkash_card_id=card, amount=Decimal("5.00"), unique_reference_number="PAY-R", lookup_first=True
    )
    assert again.outcome == "already_loaded"
    assert _ledger_entry(sandbox, "PAY-R")["times_applied"] == 1


def test_blocked_card_load_is_a_business_error(hook):
    card = _card(hook)
    hook.block_card(enkash_card_id=card, block_code="BL", reason="lost")
    with pytest.raises(EnKashBusinessError):
        hook.load_card_balance(enkash_card_id=card, amount=Decimal("1.00"), unique_reference_number="PAY-B")


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        ("0", "amount"),
        ("-1", "amount"),
        ("1.234", "amount"),
        (0.1 + 0.2, "amount"),
        ("abc", "amount"),
        (None, "amount"),
    ],
)
def test_bad_amounts_send_nothing(sandbox, hook, amount, field):
    with pytest.raises(EnKashValidationError, match=field):
        hook.load_card_balance(enkash_card_id="EKC1234567", amount=amount, unique_reference_number="PAY-V")
    assert sandbox.requests_total() == 0


def test_thirty_two_threads_on_one_hook_keep_every_balance_exact(sandbox, hook):
    cards = [_card(hook) for _ in range(8)]
    before = Decimal(sandbox.get("accounts")["CASANDBOX1"]["balance"])
    jobs = [(cards[i % 8], Decimal("1.01") + Decimal(i) / 100, f"PAR-{i}") for i in range(200)]
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(
            pool.map(
                lambda j: hook.load_card_balance(
                    enkash_card_id=j[0], amount=j[1], unique_reference_number=j[2]
                ),
                jobs,
            )
        )
    assert {r.outcome for r in results} == {"loaded"}
    for card in cards:
        expected = sum((amount for c, amount, _ in jobs if c == card), Decimal("0"))
        assert _card_balance(hook, card) == expected
    total = sum((amount for _, amount, _ in jobs), Decimal("0"))
    assert Decimal(sandbox.get("accounts")["CASANDBOX1"]["balance"]) == before - total
