"""Fault matrix: every sandbox fault mode x {single load, batch load, transaction export, sensor}.

In every cell the work either completes or raises a typed ``EnKashError`` (a sensor may also
time out), and afterwards, with the faults cleared, the ground truth holds: no reference moved
money twice, a completed load or batch moved exactly its amounts, and a completed export holds
exactly the window's transactions once. Faults hit every card call (look-ups and searches
included) at a rate of 30 %, except ``revoke_token`` which fires on the first call; the single
load takes each fault on its first send, the case that matters. Each cell checks its fault fired.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout

from airflow_provider_enkash.exceptions import EnKashError
from airflow_provider_enkash.operators.batch_load import EnKashBatchLoadOperator
from airflow_provider_enkash.references import batch_row_reference
from airflow_provider_enkash.sensors.transactions import EnKashTransactionSensor
from airflow_provider_enkash.transfers.enkash_to_sql import EnKashTransactionsToSqlOperator
from tests.batch.helpers import (
    QUIET_S,
    card_balances,
    context,
    execute_through_deferrals,
    new_cards,
    payroll,
    sandbox_loads,
)

FAULTS = {
    "latency": {"mode": "latency", "latency_ms": 30, "rate": 0.3},
    "http_500": {"mode": "http_500", "rate": 0.3},
    "http_503": {"mode": "http_503", "rate": 0.3},
    "http_429": {"mode": "http_429", "rate": 0.3, "retry_after_s": 0},
    "drop_before": {"mode": "drop_before", "rate": 0.3},
    "drop_after_commit": {"mode": "drop_after_commit", "rate": 0.3},
    "revoke_token": {"mode": "revoke_token", "count": 1},
    "undecryptable": {"mode": "undecryptable", "rate": 0.3},
    "malformed": {"mode": "malformed", "rate": 0.3},
}
UTC = UTC


def _inject(sandbox, fault: str, *, first_call_of: str | None = None) -> int:
    """Arm ``fault`` at its matrix rate, or on exactly the first call of one operation.

    Returns how often the mode had fired before, so ``_clear`` can tell it fired in this cell.
    """
    sandbox.post("faults", {"clear": True})
    rule = dict(FAULTS[fault])
    if first_call_of is not None:
        rule.pop("rate", None)
        rule.update(count=1, operation=first_call_of)
    return sandbox.post("faults", rule)["fired"].get(rule["mode"], 0)


def _clear(sandbox, fault: str, fired_before: int) -> None:
    """Clear the rules, after checking the cell's fault really fired."""
    mode = FAULTS[fault]["mode"]
    assert sandbox.get("faults")["fired"].get(mode, 0) > fired_before, (
        f"{mode} never fired: the cell proved nothing"
    )
    sandbox.post("faults", {"clear": True})


def _assert_no_double_loads(sandbox) -> None:
    doubled = {ref: e["times_applied"] for ref, e in sandbox_loads(sandbox).items() if e["times_applied"] > 1}
    assert doubled == {}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_single_load(sandbox, hook, fault):
    (card,) = new_cards(hook, 1)
    fired_before = _inject(sandbox, fault, first_call_of="load_card_balance")
    try:
        result = hook.load_card_balance(
            enkash_card_id=card, amount=Decimal("777.77"), unique_reference_number=f"M-{fault}"
        )
    except EnKashError:
        result = None
    _clear(sandbox, fault, fired_before)
    _assert_no_double_loads(sandbox)
    applied = sandbox_loads(sandbox).get(f"M-{fault}", {}).get("times_applied", 0)
    if result is not None:
        assert applied == 1
    assert card_balances(sandbox)[card] == Decimal("777.77") * applied


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_batch_load(sandbox, hook, tmp_path, fault):
    cards = new_cards(hook, 12)
    rows = payroll(cards)
    operator = EnKashBatchLoadOperator(
        task_id="load",
        rows=rows,
        batch_id=f"matrix-{fault}",
        ledger_path=str(tmp_path / "ledger"),
        on_unknown="fail",
    )
    fired_before = _inject(sandbox, fault)
    try:
        summary = operator.execute(context())
    except (EnKashError, AirflowFailException):
        summary = None
    _clear(sandbox, fault, fired_before)
    _assert_no_double_loads(sandbox)
    loads = sandbox_loads(sandbox)
    balances = card_balances(sandbox)
    for row in rows:
        reference = batch_row_reference(batch_id=f"matrix-{fault}", row_key=row["enkash_card_id"])
        applied = loads.get(reference, {}).get("times_applied", 0)
        assert balances[row["enkash_card_id"]] == Decimal(row["amount"]) * applied
        if summary is not None:
            assert applied == 1
    # a retry after the faults settles every row exactly once
    retry = EnKashBatchLoadOperator(
        task_id="load",
        rows=rows,
        batch_id=f"matrix-{fault}",
        ledger_path=str(tmp_path / "ledger"),
        resend_quiet_period=QUIET_S,
    )
    execute_through_deferrals(retry, context(try_number=2))
    _assert_no_double_loads(sandbox)
    assert card_balances(sandbox) == {**balances, **{r["enkash_card_id"]: Decimal(r["amount"]) for r in rows}}


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    path = tmp_path / "warehouse.db"
    monkeypatch.setenv(
        "AIRFLOW_CONN_MATRIX_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(path)})
    )
    return path


def _warehouse_ids(path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT enkash_transaction_id FROM enkash_transactions")]


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_transaction_export(sandbox, hook, warehouse, fault):
    sandbox.post("config", {"settle_delay_s": 0})
    cards = new_cards(hook, 3)
    for i in range(24):
        hook.load_card_balance(
            enkash_card_id=cards[i % 3], amount=Decimal("10.00") + i, unique_reference_number=f"X{i}"
        )
    start = datetime.now(UTC) - timedelta(hours=1)
    interval = {"data_interval_start": start, "data_interval_end": start + timedelta(hours=2)}
    found = hook.get_all_transactions(txn_date_from=start, txn_date_to=start + timedelta(hours=2))
    expected = {r["enKashCardTransactionId"] for r in found["data"]}
    assert len(expected) == found["recordsCount"] == 24
    sandbox.post("config", {"max_records": 7})  # forces bisection under the faults too

    def export():
        return EnKashTransactionsToSqlOperator(
            task_id="export", conn_id="matrix_warehouse", lookback=timedelta(0), day_boundaries=None
        ).execute(interval)

    fired_before = _inject(sandbox, fault)
    try:
        summary = export()
    except EnKashError:
        summary = None
    _clear(sandbox, fault, fired_before)
    ids = _warehouse_ids(warehouse) if warehouse.exists() else []
    assert len(ids) == len(set(ids))
    assert set(ids) <= expected
    if summary is not None:
        assert set(ids) == expected, f"export completed under {fault} but lost rows"
    export()  # the rerun converges
    ids = _warehouse_ids(warehouse)
    assert sorted(ids) == sorted(expected)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_sensor(sandbox, hook, fault):
    sandbox.post("config", {"settle_delay_s": 0.3})
    (card,) = new_cards(hook, 1)
    hook.load_card_balance(enkash_card_id=card, amount=Decimal("5.00"), unique_reference_number=f"S-{fault}")
    sensor = EnKashTransactionSensor(
        task_id="wait",
        pg_reference_number=f"S-{fault}",
        enkash_card_id=card,
        mode="poke",
        poke_interval=0.1,
        timeout=15,
        not_found_grace=5,
        deferrable=False,
    )
    fired_before = _inject(
        sandbox, fault, first_call_of="get_transaction_details"
    )  # its few polls: always hit one
    try:
        transaction = sensor.execute({})
    except (EnKashError, AirflowSensorTimeout):
        transaction = None
    _clear(sandbox, fault, fired_before)
    _assert_no_double_loads(sandbox)
    if transaction is not None:
        assert transaction["status"] == "SUCCESS"
        assert transaction["pgReferenceNumber"] == f"S-{fault}"
