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
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from airflow_provider_enkash.batch.rows import CARD_ID_COLUMNS
from airflow_provider_enkash.references import batch_row_reference
from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig
from scripts.airflow_stack import AirflowStack
from tests.e2e.secrets_scan import (
    find_leaks,
    needles_from,
    stack_api_records,
    stack_files,
)
from tests.e2e.stack_runs import RUN_TIMEOUT_S, Runs, sandbox_admin, sandbox_hook, utc_midnight

REPO = Path(__file__).resolve().parents[2]
PAYROLL_DAG = "enkash_payroll_card_loads"
PAYROLL_CSV = REPO / "dags_examples" / "data" / "payroll_sample.csv"
PAY_PERIOD = "2025-01-15"
EXPORT_DAG = "enkash_daily_transaction_export"
DAG_FILES = [REPO / "dags_examples" / f"{dag_id}.py" for dag_id in (PAYROLL_DAG, EXPORT_DAG)]
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
EXPORT_DAG_ENV = {"ENKASH_EXPORT_POKE_INTERVAL_S": "2"}  # read when the DAG file is parsed
# Every process logs at DEBUG (urllib3 included), so the secrets scan also covers what only
# DEBUG prints; DEBUG output is a superset of INFO's, so this one pass covers INFO as well.
DEBUG_LOGGING_ENV = {"AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG"}


@pytest.fixture(scope="module")
def e2e_sandbox() -> Iterator[Sandbox]:
    sandbox = Sandbox(SandboxConfig(seed_cards=SANDBOX_SEED_CARDS, settle_delay_s=1.0)).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse") / "warehouse.db"


@pytest.fixture(scope="module")
def runs(e2e_sandbox: Sandbox, warehouse: Path) -> Iterator[Runs]:
    """Payroll first; then the export of today, with one load still settling when its sensor looks."""
    connection = json.loads(e2e_sandbox.connection_json())
    connection["extra"] = {**connection["extra"], **CONNECTION_EXTRAS}
    today = utc_midnight()
    env = {
        "AIRFLOW_CONN_ENKASH_DEFAULT": json.dumps(connection),
        f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": json.dumps(
            {"conn_type": "sqlite", "host": str(warehouse)}
        ),
        "ENKASH_EXPORT_START_DATE": (today - timedelta(days=1)).date().isoformat(),
        "ENKASH_PAYROLL_SETTLE_POLL_S": "1",  # reconcile looks again soon, not in 30 s
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

        last_card = sandbox_admin(e2e_sandbox, "cards")["cards"][-1]["enkash_card_id"]
        result.export_today_while_a_load_settles(
            EXPORT_DAG,
            e2e_sandbox,
            enkash_card_id=last_card,
            reference=PENDING_LOAD_REFERENCE,
            settle_s=PENDING_SETTLE_S,
        )
        result.seconds["export done"] = time.monotonic() - started
        yield result
        print(f"\ne2e timings (seconds since start): {result.seconds}")
        if any(state != "success" for state in result.states.values()):
            print(stack.service_log("scheduler")[-6000:])


def test_both_example_dags_succeed(runs: Runs) -> None:
    assert runs.states == {PAYROLL_DAG: "success", EXPORT_DAG: "success"}, runs.task_states_seen


def _payroll_rows() -> list[tuple[str, str, Decimal]]:
    """(row key, card id, amount) of every row of the sample payroll file."""
    with PAYROLL_CSV.open(newline="") as f:
        rows = list(csv.DictReader(f))
    parsed = []
    for row in rows:
        card_id = next(row[c] for c in CARD_ID_COLUMNS if row.get(c))
        parsed.append((row.get("reference") or card_id, card_id, Decimal(row["amount"])))
    return parsed


def test_each_payroll_row_loaded_exactly_once(runs: Runs, e2e_sandbox: Sandbox) -> None:
    """Every run pays one batch (``payroll-<period>``); each row of each batch moved money exactly once."""
    batches = {
        runs.stack.api(
            "GET",
            f"/dags/{PAYROLL_DAG}/dagRuns/{run_id}/taskInstances/batch_name/xcomEntries/return_value",
        )["value"]
        for run_id in runs.run_ids[PAYROLL_DAG]
        # a run whose batch_name short-circuited pays nothing and names no batch (see the next test)
        if _task_states(runs, run_id).get("validate") != "skipped"
    }
    assert f"payroll-{PAY_PERIOD}" in batches
    rows = _payroll_rows()
    ledger = sandbox_admin(e2e_sandbox, "ledger")["loads"]
    loads = {entry["reference"]: entry for entry in ledger if entry["reference"] != PENDING_LOAD_REFERENCE}
    expected = {
        batch_row_reference(batch_id=batch, row_key=row_key): (card_id, amount, 1)
        for batch in batches
        for row_key, card_id, amount in rows
    }
    assert {
        ref: (e["enkash_card_id"], Decimal(e["amount"]), e["times_applied"]) for ref, e in loads.items()
    } == expected
    expected_balances: Counter[str] = Counter()
    for _, card_id, amount in rows:
        expected_balances[card_id] += amount * len(batches)
    cards = {
        card["enkash_card_id"]: Decimal(card["balance"])
        for card in sandbox_admin(e2e_sandbox, "cards")["cards"]
    }
    assert {card_id: cards[card_id] for card_id in expected_balances} == dict(expected_balances)


def _task_states(runs: Runs, run_id: str) -> dict[str, str]:
    return {ti["task_id"]: ti["state"] for ti in runs.stack.task_instances(PAYROLL_DAG, run_id)}


def _wait_for_the_approval_prompt(runs: Runs, run_id: str) -> None:
    """Wait until ``approve`` awaits input and the scheduler has seen its first worker exit.

    Airflow 3.3 races an answer given before the scheduler handles the executor event of the worker
    that paused the task: the resumed task is queued, the late event fails it (up for retry) and the
    retry asks again, so the answer is lost. A person never answers within that second; a test does.
    """
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while (state := _task_states(runs, run_id).get("approve")) != "awaiting_input":
        assert state not in ("success", "failed", "skipped") and time.monotonic() < deadline, state
        time.sleep(1)
    event = (
        "Received executor event with state success for task instance TaskInstanceKey("
        f"dag_id='{PAYROLL_DAG}', task_id='approve', run_id='{run_id}', try_number=1"
    )
    while event not in runs.stack.service_log("scheduler"):
        assert time.monotonic() < deadline, "the scheduler never saw the paused worker exit"
        time.sleep(0.5)


def test_a_late_scheduled_payroll_run_pays_nothing(runs: Runs) -> None:
    """Unpausing adds the scheduler's run for the last 1st/15th: unless that was hours ago, it pays nothing."""
    scheduled = [r for r in runs.stack.dag_runs(PAYROLL_DAG) if r["run_type"] == "scheduled"]
    assert scheduled, "unpausing the payroll DAG added no scheduled run"
    now = datetime.now(UTC)
    for run in scheduled:
        if now - datetime.fromisoformat(run["logical_date"]) <= timedelta(hours=6):
            continue  # on a pay day morning the scheduled run is on time and pays its own period
        states = _task_states(runs, run["dag_run_id"])
        assert states.pop("batch_name") == "success"
        assert set(states.values()) == {"skipped"}, states


def test_export_wrote_every_transaction_of_its_windows_once(
    runs: Runs, e2e_sandbox: Sandbox, warehouse: Path
) -> None:
    exports = runs.task_instances_of(EXPORT_DAG, "EnKashTransactionsToSqlOperator")
    assert {e["rendered_fields"]["conn_id"] for e in exports} == {WAREHOUSE_CONN_ID}
    table, at_enkash = runs.exported_at_enkash(
        EXPORT_DAG, "EnKashTransactionsToSqlOperator", sandbox_hook(e2e_sandbox)
    )
    with sqlite3.connect(warehouse) as db:
        stored = [row[0] for row in db.execute(f"SELECT enkash_transaction_id FROM {table}")]
    assert len(stored) == len(set(stored)), "a transaction is stored twice"
    assert set(stored) == at_enkash


def test_sensor_deferred_to_the_real_triggerer(runs: Runs) -> None:
    trigger_logs = runs.assert_sensor_deferred_to_the_triggerer(EXPORT_DAG, "EnKashTransactionsSettledSensor")
    # the line only the native async path writes: no thread-pool poll ran in the triggerer
    assert any("with native async polls" in path.read_text() for path in trigger_logs), (
        "the trigger did not poll on the async path"
    )


def test_no_secret_in_logs_xcom_or_rendered_fields(runs: Runs, e2e_sandbox: Sandbox) -> None:
    secrets = sandbox_admin(e2e_sandbox, "secrets")
    assert secrets["access_tokens"] and secrets["card_numbers"] and secrets["cvvs"], secrets.keys()
    needles = list(needles_from(secrets, kind="sandbox"))
    all_runs = [(dag_id, run_id) for dag_id, run_ids in runs.run_ids.items() for run_id in run_ids]
    haystacks = [*stack_files(runs.stack), *stack_api_records(runs.stack, all_runs)]
    task_logs = [text for where, text in haystacks if where.startswith("logs/dag_id=")]
    assert any("urllib3.connectionpool" in text for text in task_logs), (
        "no urllib3 DEBUG line in the task logs: the scan did not cover DEBUG output"
    )
    leaks = find_leaks(haystacks, needles)
    assert not leaks, "secrets leaked:\n" + "\n".join(map(str, leaks[:50]))


def test_a_run_that_requires_approval_loads_nothing_until_approved(runs: Runs, e2e_sandbox: Sandbox) -> None:
    """``require_approval``: ``approve`` waits in Airflow's Required Actions showing the batch; nothing is
    loaded before the Approve, then every row once. (Runs last: the earlier tests count the other runs.)"""
    stack, batch = runs.stack, "payroll-2025-02-01"
    references = {batch_row_reference(batch_id=batch, row_key=key) for key, _, _ in _payroll_rows()}
    run_id = stack.trigger(PAYROLL_DAG, conf={"pay_period": "2025-02-01", "require_approval": True})
    _wait_for_the_approval_prompt(runs, run_id)
    hitl = f"/dags/{PAYROLL_DAG}/dagRuns/{run_id}/taskInstances/approve/-1/hitlDetails"
    detail = stack.api("GET", hitl)
    assert detail["subject"] == f"Approve payroll top-ups {batch}", detail
    assert "| 12 |" in detail["body"] and detail["options"] == ["Approve", "Reject"], detail
    loaded = {e["reference"] for e in sandbox_admin(e2e_sandbox, "ledger")["loads"]}
    assert not references & loaded, "loaded before the approval"

    stack.api("PATCH", hitl, json={"chosen_options": ["Approve"]})
    state = stack.wait_for_run(PAYROLL_DAG, run_id, timeout_s=RUN_TIMEOUT_S, on_poll=runs.record_task_states)
    assert state == "success", _task_states(runs, run_id)
    applied = {e["reference"]: e["times_applied"] for e in sandbox_admin(e2e_sandbox, "ledger")["loads"]}
    assert {ref: applied.get(ref) for ref in references} == dict.fromkeys(references, 1)


def test_a_rejected_run_loads_nothing(runs: Runs, e2e_sandbox: Sandbox) -> None:
    """A Reject skips the load; reconcile and report still run (all_done) and the report fails: every row
    of the batch needs action. (Runs last, like the test above.)"""
    stack, batch = runs.stack, "payroll-2025-02-15"
    run_id = stack.trigger(PAYROLL_DAG, conf={"pay_period": "2025-02-15", "require_approval": True})
    _wait_for_the_approval_prompt(runs, run_id)
    stack.api(
        "PATCH",
        f"/dags/{PAYROLL_DAG}/dagRuns/{run_id}/taskInstances/approve/-1/hitlDetails",
        json={"chosen_options": ["Reject"]},
    )
    assert stack.wait_for_run(PAYROLL_DAG, run_id, timeout_s=RUN_TIMEOUT_S) == "failed"
    states = _task_states(runs, run_id)
    assert (states["approve"], states["load"], states["reconcile"], states["report"]) == (
        "success", "skipped", "success", "failed",
    )  # fmt: skip
    references = {batch_row_reference(batch_id=batch, row_key=key) for key, _, _ in _payroll_rows()}
    assert not references & {e["reference"] for e in sandbox_admin(e2e_sandbox, "ledger")["loads"]}
