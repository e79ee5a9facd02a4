"""Both example DAGs on a real Airflow 3 (api-server, scheduler, dag-processor, triggerer; LocalExecutor).

One stack and one sandbox serve the whole module. Through the REST API the payroll DAG is
unpaused and triggered (the scheduler adds its latest scheduled run), then the export DAG for
today, while a load made by the test is still settling, so its sensor must defer. The tests check
what the runs left behind: the sandbox ledger (each payroll row loaded exactly once, balances exact
to the paisa), the warehouse rows against EnKash's, the sensor's trip through the real triggerer,
and that no secret reached a log, an XCom or a rendered template field. Set ``ENKASH_E2E_KEEP_HOME=1`` to keep the stack's AIRFLOW_HOME for a post-mortem.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow.sdk import Connection

from airflow_provider_enkash.batch.rows import CARD_ID_COLUMNS
from airflow_provider_enkash.hooks.enkash import EnKashHook
from airflow_provider_enkash.references import batch_row_reference
from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig
from scripts.airflow_stack import AirflowStack
from tests.e2e.secrets_scan import (
    find_leaks,
    needles_from,
    stack_api_records,
    stack_files,
)

REPO = Path(__file__).resolve().parents[2]
PAYROLL_DAG = "enkash_payroll_card_loads"
PAYROLL_CSV = REPO / "dags_examples" / "data" / "payroll_sample.csv"
PAY_PERIOD = "2025-01-15"
EXPORT_DAG = "enkash_daily_transaction_export"
DAG_FILES = [
    REPO / "dags_examples" / f"{dag_id}.py" for dag_id in (PAYROLL_DAG, EXPORT_DAG)
]
WAREHOUSE_CONN_ID = "enkash_warehouse"
ENKASH_POOL = "enkash_api"
# The payroll file names the first 12 cards the sandbox seeds (default random seed); card 13 is
# paid by the test itself, so the export window holds a transaction that is still settling.
SANDBOX_SEED_CARDS = 13
PENDING_LOAD_REFERENCE = "E2EPENDINGLOAD0001"
PENDING_SETTLE_S = 20.0
# Quick settlement and short waits: the defaults are for production, not for a test stack.
CONNECTION_EXTRAS = {"load_lookup_delay": 0.05, "max_retry_wait": 0.5, "timeout": 10}
# The export DAG's knobs: poll every 2 s instead of 5 min (and, below, catch up from yesterday only).
EXPORT_DAG_ENV = {"ENKASH_EXPORT_POKE_INTERVAL_S": "2"}
# Every process logs at DEBUG (urllib3 included), so the secrets scan also covers what only
# DEBUG prints; DEBUG output is a superset of INFO's, so this one pass covers INFO as well.
DEBUG_LOGGING_ENV = {"AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG"}
RUN_TIMEOUT_S = 180


@dataclass
class Runs:
    """The finished DAG runs and what the test saw of them while they ran."""

    stack: AirflowStack
    run_ids: dict[str, list[str]] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    task_states_seen: dict[str, set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    seconds: dict[str, float] = field(default_factory=dict)

    def record_task_states(self) -> None:
        for dag_id in self.run_ids:
            for run in self.stack.dag_runs(dag_id):
                for ti in self.stack.task_instances(dag_id, run["dag_run_id"]):
                    self.task_states_seen[f"{dag_id}.{ti['task_id']}"].add(
                        str(ti["state"])
                    )

    def run_to_the_end(self, dag_id: str, **trigger: Any) -> None:
        """Unpause and trigger ``dag_id``; wait for that run and every run the scheduler added."""
        self.run_ids[dag_id] = [self.stack.trigger(dag_id, **trigger)]
        self.states[dag_id] = "success"
        waiting = list(self.run_ids[dag_id])
        while waiting:
            for run_id in waiting:
                state = self.stack.wait_for_run(
                    dag_id,
                    run_id,
                    timeout_s=RUN_TIMEOUT_S,
                    on_poll=self.record_task_states,
                )
                if state != "success":
                    self.states[dag_id] = f"{run_id}: {state}"
            # Unpausing lets the scheduler start the runs the timetable owes: check and scan those too.
            waiting = [
                r["dag_run_id"]
                for r in self.stack.dag_runs(dag_id)
                if r["dag_run_id"] not in self.run_ids[dag_id]
            ]
            self.run_ids[dag_id].extend(waiting)


@pytest.fixture(scope="module")
def e2e_sandbox() -> Iterator[Sandbox]:
    sandbox = Sandbox(
        SandboxConfig(seed_cards=SANDBOX_SEED_CARDS, settle_delay_s=1.0)
    ).start()
    yield sandbox
    sandbox.stop()


def _admin(sandbox: Sandbox, name: str, body: dict[str, Any] | None = None) -> Any:
    url = f"{sandbox.url}/_sandbox/{name}"
    response = (
        requests.post(url, json=body, timeout=10)
        if body is not None
        else requests.get(url, timeout=10)
    )
    response.raise_for_status()
    return response.json()


def _hook(sandbox: Sandbox) -> EnKashHook:
    return EnKashHook.from_connection(
        Connection.from_json(sandbox.connection_json(), conn_id="enkash_default")
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse") / "warehouse.db"


@pytest.fixture(scope="module")
def runs(e2e_sandbox: Sandbox, warehouse: Path) -> Iterator[Runs]:
    """Payroll first; then the export of today, with one load still settling when its sensor looks."""
    connection = json.loads(e2e_sandbox.connection_json())
    connection["extra"] = {**connection["extra"], **CONNECTION_EXTRAS}
    today = datetime.now(timezone.utc).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    env = {
        "AIRFLOW_CONN_ENKASH_DEFAULT": json.dumps(connection),
        f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": json.dumps(
            {"conn_type": "sqlite", "host": str(warehouse)}
        ),
        "ENKASH_EXPORT_START_DATE": (today - timedelta(days=1)).date().isoformat(),
        **EXPORT_DAG_ENV,
        **DEBUG_LOGGING_ENV,
    }
    started = time.monotonic()
    stack = AirflowStack(
        dag_files=DAG_FILES,
        env=env,
        keep_home=bool(os.environ.get("ENKASH_E2E_KEEP_HOME")),
    )
    with stack:
        result = Runs(stack=stack)
        result.seconds["stack healthy"] = time.monotonic() - started
        for dag_id in (PAYROLL_DAG, EXPORT_DAG):
            stack.wait_for_dag(dag_id)
        stack.create_pool(ENKASH_POOL, slots=4)
        result.run_to_the_end(PAYROLL_DAG, conf={"pay_period": PAY_PERIOD})
        result.seconds["payroll done"] = time.monotonic() - started

        _admin(e2e_sandbox, "config", {"settle_delay_s": PENDING_SETTLE_S})
        last_card = _admin(e2e_sandbox, "cards")["cards"][-1]["enkash_card_id"]
        _hook(e2e_sandbox).load_card_balance(
            enkash_card_id=last_card,
            amount="1.00",
            unique_reference_number=PENDING_LOAD_REFERENCE,
        )
        day = (today.isoformat(), (today + timedelta(days=1)).isoformat())
        result.run_to_the_end(EXPORT_DAG, logical_date=day[0], data_interval=day)
        result.seconds["export done"] = time.monotonic() - started
        yield result
        print(f"\ne2e timings (seconds since start): {result.seconds}")
        if any(state != "success" for state in result.states.values()):
            print(stack.service_log("scheduler")[-6000:])


def _task_instances_of(runs: Runs, dag_id: str, operator: str) -> list[dict[str, Any]]:
    found = [
        ti
        for run_id in runs.run_ids[dag_id]
        for ti in runs.stack.task_instances(dag_id, run_id)
        if ti["operator"] == operator
    ]
    assert found, f"{dag_id} has no {operator} task"
    return found


def test_both_example_dags_succeed(runs: Runs) -> None:
    assert runs.states == {PAYROLL_DAG: "success", EXPORT_DAG: "success"}, (
        runs.task_states_seen
    )


def _payroll_rows() -> list[tuple[str, str, Decimal]]:
    """(row key, card id, amount) of every row of the sample payroll file."""
    with PAYROLL_CSV.open(newline="") as f:
        rows = list(csv.DictReader(f))
    parsed = []
    for row in rows:
        card_id = next(row[c] for c in CARD_ID_COLUMNS if row.get(c))
        parsed.append(
            (row.get("reference") or card_id, card_id, Decimal(row["amount"]))
        )
    return parsed


def test_each_payroll_row_loaded_exactly_once(runs: Runs, e2e_sandbox: Sandbox) -> None:
    """Every run pays one batch (``payroll-<period>``); each row of each batch moved money exactly once."""
    batches = {
        runs.stack.api(
            "GET",
            f"/dags/{PAYROLL_DAG}/dagRuns/{run_id}/taskInstances/batch_name/xcomEntries/return_value",
        )["value"]
        for run_id in runs.run_ids[PAYROLL_DAG]
    }
    assert f"payroll-{PAY_PERIOD}" in batches
    rows = _payroll_rows()
    ledger = _admin(e2e_sandbox, "ledger")["loads"]
    loads = {
        entry["reference"]: entry
        for entry in ledger
        if entry["reference"] != PENDING_LOAD_REFERENCE
    }
    expected = {
        batch_row_reference(batch_id=batch, row_key=row_key): (card_id, amount, 1)
        for batch in batches
        for row_key, card_id, amount in rows
    }
    assert {
        ref: (e["enkash_card_id"], Decimal(e["amount"]), e["times_applied"])
        for ref, e in loads.items()
    } == expected
    expected_balances: Counter[str] = Counter()
    for _, card_id, amount in rows:
        expected_balances[card_id] += amount * len(batches)
    cards = {
        card["enkash_card_id"]: Decimal(card["balance"])
        for card in _admin(e2e_sandbox, "cards")["cards"]
    }
    assert {card_id: cards[card_id] for card_id in expected_balances} == dict(
        expected_balances
    )


def test_export_wrote_every_transaction_of_its_windows_once(
    runs: Runs, e2e_sandbox: Sandbox, warehouse: Path
) -> None:
    hook = EnKashHook.from_connection(
        Connection.from_json(e2e_sandbox.connection_json(), conn_id="enkash_default")
    )
    at_enkash: set[str] = set()
    tables = set()
    for export in _task_instances_of(
        runs, EXPORT_DAG, "EnKashTransactionsToSqlOperator"
    ):
        assert export["rendered_fields"]["conn_id"] == WAREHOUSE_CONN_ID
        summary = runs.stack.api(
            "GET",
            f"/dags/{EXPORT_DAG}/dagRuns/{export['dag_run_id']}/taskInstances/{export['task_id']}"
            "/xcomEntries/return_value",
        )["value"]
        tables.add(summary["table"])
        found = hook.get_all_transactions(
            txn_date_from=summary["window_start"], txn_date_to=summary["window_end"]
        )
        at_enkash |= {t["enKashCardTransactionId"] for t in found["data"]}
    (table,) = tables
    with sqlite3.connect(warehouse) as db:
        stored = [
            row[0] for row in db.execute(f"SELECT enkash_transaction_id FROM {table}")
        ]
    assert len(stored) == len(set(stored)), "a transaction is stored twice"
    assert set(stored) == at_enkash


def test_sensor_deferred_to_the_real_triggerer(runs: Runs) -> None:
    sensor_tasks = {
        ti["task_id"]
        for ti in _task_instances_of(
            runs, EXPORT_DAG, "EnKashTransactionsSettledSensor"
        )
    }
    assert any(
        "deferred" in runs.task_states_seen[f"{EXPORT_DAG}.{task}"]
        for task in sensor_tasks
    ), runs.task_states_seen
    task_logs = runs.stack.home / "logs" / f"dag_id={EXPORT_DAG}"
    trigger_logs = [
        p
        for task in sensor_tasks
        for p in task_logs.rglob(f"task_id={task}/*.log.trigger.*.log")
    ]
    assert any("trigger completed" in path.read_text() for path in trigger_logs), (
        "the triggerer never ran the trigger"
    )
    # the line only the native async path writes: no thread-pool poll ran in the triggerer
    assert any("with native async polls" in path.read_text() for path in trigger_logs), (
        "the trigger did not poll on the async path"
    )


def test_no_secret_in_logs_xcom_or_rendered_fields(
    runs: Runs, e2e_sandbox: Sandbox
) -> None:
    secrets = _admin(e2e_sandbox, "secrets")
    assert secrets["access_tokens"] and secrets["card_numbers"] and secrets["cvvs"], (
        secrets.keys()
    )
    needles = list(needles_from(secrets, kind="sandbox"))
    all_runs = [
        (dag_id, run_id)
        for dag_id, run_ids in runs.run_ids.items()
        for run_id in run_ids
    ]
    haystacks = [*stack_files(runs.stack), *stack_api_records(runs.stack, all_runs)]
    task_logs = [text for where, text in haystacks if where.startswith("logs/dag_id=")]
    assert any("urllib3.connectionpool" in text for text in task_logs), (
        "no urllib3 DEBUG line in the task logs: the scan did not cover DEBUG output"
    )
    leaks = find_leaks(haystacks, needles)
    assert not leaks, "secrets leaked:\n" + "\n".join(map(str, leaks[:50]))
