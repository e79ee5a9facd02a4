"""EnKashLoadCardBalanceOperator never double-spends: derived references, look-up on retry, typed unknowns."""

from __future__ import annotations

import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.operators.cards import EnKashCreateGiftCardOperator
from airflow_provider_enkash.operators.loads import EnKashLoadCardBalanceOperator
from airflow_provider_enkash.references import load_reference
from tests.batch.helpers import QUIET_S, execute_through_deferrals
from tests.operators.helpers import DAG_ID, RUN_ID, counter, new_card, run


def _ledger(sandbox, reference: str) -> dict:
    (entry,) = [e for e in sandbox.get("ledger")["loads"] if e["reference"] == reference]
    return entry


def _balance(sandbox, card: str) -> Decimal:
    (record,) = [c for c in sandbox.get("cards")["cards"] if c["enkash_card_id"] == card]
    return Decimal(record["balance"])


def test_load_derives_its_reference_and_returns_what_a_sensor_needs(sandbox, hook):
    card = new_card(hook)
    out = run(
        EnKashLoadCardBalanceOperator(task_id="load", enkash_card_id=card, amount=Decimal("1250.50")),
        map_index=3,
    )
    reference = load_reference(dag_id=DAG_ID, run_id=RUN_ID, task_id="load", map_index=3)
    assert out["unique_reference_number"] == reference
    assert out["outcome"] == "loaded" and out["amount"] == "1250.50" and out["enkash_card_id"] == card
    assert out["enkash_transaction_id"].startswith("ECTR")
    assert _ledger(sandbox, reference)["times_applied"] == 1
    assert _balance(sandbox, card) == Decimal("1250.50")


def test_map_indexes_get_distinct_references(sandbox, hook):
    card = new_card(hook)
    refs = {
        run(EnKashLoadCardBalanceOperator(task_id="load", enkash_card_id=card, amount="1"), map_index=i)[
            "unique_reference_number"
        ]
        for i in range(3)
    }
    assert len(refs) == 3
    assert _balance(sandbox, card) == Decimal("3.00")


def test_a_given_reference_is_used_as_is(sandbox, hook):
    card = new_card(hook)
    out = run(
        EnKashLoadCardBalanceOperator(
            task_id="load", enkash_card_id=card, amount="7", unique_reference_number="PAYROLL-7"
        )
    )
    assert out["unique_reference_number"] == "PAYROLL-7"
    assert _ledger(sandbox, "PAYROLL-7")["times_applied"] == 1


def test_retry_after_drop_after_commit_is_applied_exactly_once(sandbox, hook):
    card = new_card(hook)
    before = Decimal(sandbox.get("accounts")["CASANDBOX1"]["balance"])
    # the load commits but the answer is lost, and the look-ups that would settle it fail too
    sandbox.post("faults", {"operation": "load_card_balance", "mode": "drop_after_commit", "count": 1})
    sandbox.post("faults", {"operation": "get_transaction_details", "mode": "http_500", "rate": 1.0})
    sandbox.post("faults", {"operation": "get_all_transactions", "mode": "http_500", "rate": 1.0})
    operator = EnKashLoadCardBalanceOperator(
        task_id="load", enkash_card_id=card, amount="300.30", resend_quiet_period=QUIET_S
    )
    ti = SimpleNamespace(dag_id=DAG_ID, run_id=RUN_ID, task_id="load", map_index=-1, try_number=1)
    with pytest.raises(TaskDeferred) as deferred:  # unclear: it waits in the triggerer, nothing resent
        operator.execute({"ti": ti})
    reference = load_reference(dag_id=DAG_ID, run_id=RUN_ID, task_id="load")
    assert deferred.value.trigger.state["reference"] == reference
    # EnKash answers again; the look-up after the wait finds the credit: settled, nothing resent
    sandbox.post("faults", {"clear": True})
    out = execute_through_deferrals(
        operator,
        {"ti": ti},
        first=lambda c: operator.execute_after_quiet_period(c, event={"state": deferred.value.trigger.state}),
    )
    assert out["outcome"] == "already_loaded" and out["unique_reference_number"] == reference
    assert out["enkash_transaction_id"]
    assert counter(sandbox, "load_card_balance") == 1
    assert _ledger(sandbox, reference)["times_applied"] == 1
    assert _balance(sandbox, card) == Decimal("300.30")
    assert Decimal(sandbox.get("accounts")["CASANDBOX1"]["balance"]) == before - Decimal("300.30")


def test_retry_without_a_ledger_waits_the_quiet_period_then_resends_visibly(sandbox, hook):
    """A retry cannot know whether try 1 sent: unclear from now, two absent look-ups, then resent_after_unknown."""
    card = new_card(hook)
    operator = EnKashLoadCardBalanceOperator(
        task_id="load", enkash_card_id=card, amount="12.34", resend_quiet_period=QUIET_S
    )
    ti = SimpleNamespace(dag_id=DAG_ID, run_id=RUN_ID, task_id="load", map_index=-1, try_number=2)
    started = time.monotonic()
    out = execute_through_deferrals(operator, {"ti": ti})
    assert time.monotonic() - started >= QUIET_S
    assert out["outcome"] == "resent_after_unknown"
    assert counter(sandbox, "load_card_balance") == 1
    assert _balance(sandbox, card) == Decimal("12.34")


def test_retry_with_a_ledger_that_never_sent_loads_at_once(sandbox, hook, tmp_path):
    card = new_card(hook)
    operator = EnKashLoadCardBalanceOperator(
        task_id="load", enkash_card_id=card, amount="12.34", ledger_path=str(tmp_path / "ledger")
    )
    out = run(operator, try_number=2)
    assert out["outcome"] == "loaded"
    assert counter(sandbox, "load_card_balance") == 1
    assert _balance(sandbox, card) == Decimal("12.34")


def test_gift_card_hint_from_the_create_operator_refuses_the_load(sandbox):
    gift = run(
        EnKashCreateGiftCardOperator(
            task_id="gift",
            card_holder={"first_name": "Meera"},
            load_amount="100",
            card_account_id="CAGIFT0001",
        )
    )
    before = sandbox.requests_total()
    load = EnKashLoadCardBalanceOperator(
        task_id="load", enkash_card_id=gift["enkash_card_id"], amount="10", is_gift_card=gift["is_gift_card"]
    )
    with pytest.raises(EnKashValidationError, match="gift card"):
        run(load)
    assert sandbox.requests_total() == before
    assert _balance(sandbox, gift["enkash_card_id"]) == Decimal("100.00")
