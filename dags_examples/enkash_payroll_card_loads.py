"""Payroll top-ups onto employee prepaid cards, on the 1st and 15th at 09:00 Asia/Kolkata.

validate -> optional human approval -> chunked loads (``.expand``) -> reconcile -> report

- **validate** reads the payroll file and checks the whole batch (amounts, duplicates, a per-card cap
  and a batch cap); a bad file fails here with a row-level report and nothing is loaded.
- **approval** (param ``require_approval``, off by default so scheduled runs and the demo run
  unattended) is Airflow's ``ApprovalOperator``: the run waits for an "Approve" in the UI.
- **load** runs one mapped task per chunk of ``CHUNK_SIZE`` rows, so on Celery or Kubernetes the batch
  spreads over workers; each task loads its rows 8 at a time through one hook and writes the ledger.
  The batch id is ``payroll-<pay period>``: a retry, a cleared task or a manual rerun for the same
  period reuses every reference, so nobody is paid twice.
- **reconcile** looks every ledger reference up at EnKash; **report** logs the result and fails on
  any inconsistency.

Deployment knobs (environment, read when the DAG is parsed): ``ENKASH_PAYROLL_LEDGER_CONN_ID``
puts the ledger in a SQL table on that common.sql connection instead of the ``ledger_path``
folder (use it when workers do not share a disk, e.g. on Celery or Kubernetes);
``ENKASH_PAYROLL_CHUNK_SIZE`` sets the rows per mapped load task (default 500);
``ENKASH_PAYROLL_RETRY_DELAY_S`` the seconds before a failed task's retry (default 120).

Demo against the sandbox (the sample file's cards are the 12 cards the sandbox seeds with
``--seed-cards 12`` and the default random seed)::

    enkash-sandbox --seed-cards 12 &      # prints the AIRFLOW_CONN_ENKASH_DEFAULT to export
    airflow dags test enkash_payroll_card_loads
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import CronTriggerTimetable, Param, XComArg, dag, get_current_context, task

from airflow_provider_enkash.operators.batch_load import (
    EnKashBatchLoadOperator,
    EnKashBatchPlanOperator,
)

IST = ZoneInfo("Asia/Kolkata")
SAMPLE_FILE = Path(__file__).resolve().parent / "data" / "payroll_sample.csv"
DEFAULT_LEDGER = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")) / "enkash_ledgers"
CHUNK_SIZE = int(os.environ.get("ENKASH_PAYROLL_CHUNK_SIZE", "500"))
# A SQL ledger (a common.sql connection id) for workers without a shared disk; unset: the ledger_path folder.
LEDGER_CONN_ID = os.environ.get("ENKASH_PAYROLL_LEDGER_CONN_ID") or None
RETRY_DELAY = timedelta(seconds=float(os.environ.get("ENKASH_PAYROLL_RETRY_DELAY_S", "120")))
MAX_PER_CARD = "200000.00"  # rupees one employee may receive in one payroll run
MAX_BATCH_TOTAL = "5000000.00"  # rupees one payroll run may move


@dag(
    dag_id="enkash_payroll_card_loads",
    schedule=CronTriggerTimetable("0 9 1,15 * *", timezone="Asia/Kolkata"),
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Kolkata"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": RETRY_DELAY},
    params={
        "payroll_file": Param(
            str(SAMPLE_FILE),
            type="string",
            description="CSV or JSON Lines payroll file (any ObjectStoragePath URL)",
        ),
        "pay_period": Param(
            "",
            type="string",
            description="e.g. 2025-01-15; empty: the run's date in IST. Names the batch.",
        ),
        "require_approval": Param(
            False,
            type="boolean",
            description="wait for a human 'Approve' before loading",
        ),
        "ledger_path": Param(
            str(DEFAULT_LEDGER),
            type="string",
            description="folder of the per-row ledger (unused when ENKASH_PAYROLL_LEDGER_CONN_ID is set)",
        ),
    },
    tags=["enkash", "payroll"],
    doc_md=__doc__,
)
def enkash_payroll_card_loads():
    @task
    def batch_name() -> str:
        """``payroll-<pay period>``: the same period always names the same batch (and the same references)."""
        context = get_current_context()
        period = context["params"]["pay_period"] or context["dag_run"].run_after.astimezone(IST).date().isoformat()
        return f"payroll-{period}"

    batch_id = batch_name()
    validate = EnKashBatchPlanOperator(
        task_id="validate",
        source_path="{{ params.payroll_file }}",
        batch_id=batch_id,
        max_amount_per_card=MAX_PER_CARD,
        max_batch_total=MAX_BATCH_TOTAL,
        chunk_size=CHUNK_SIZE,
    )

    @task.branch
    def approval_gate() -> str:
        return "approve" if get_current_context()["params"]["require_approval"] else "no_approval_needed"

    approve = ApprovalOperator(
        task_id="approve",
        subject="Approve payroll top-ups {{ ti.xcom_pull(task_ids='batch_name') }}",
        body="{{ ti.xcom_pull(task_ids='validate', key='summary') }}",
        response_timeout=timedelta(hours=6),
    )
    no_approval_needed = EmptyOperator(task_id="no_approval_needed")

    load = EnKashBatchLoadOperator.partial(
        task_id="load",
        batch_id=batch_id,
        ledger_path=None if LEDGER_CONN_ID else "{{ params.ledger_path }}",
        ledger_conn_id=LEDGER_CONN_ID,
        concurrency=8,
        description="Payroll top-up",
        trigger_rule="none_failed_min_one_success",
    ).expand(rows=validate.output)

    @task(trigger_rule="all_done")
    def reconcile(batch: str) -> dict:
        """Compare every ledger row with EnKash's transactions by reference."""
        from airflow_provider_enkash.batch.ledger import open_ledger
        from airflow_provider_enkash.batch.reconcile import reconcile_ledger
        from airflow_provider_enkash.hooks.enkash import EnKashHook

        params = get_current_context()["params"]
        ledger = open_ledger(
            ledger_path=None if LEDGER_CONN_ID else params["ledger_path"],
            ledger_conn_id=LEDGER_CONN_ID,
        )
        return {
            "batch_id": batch,
            **reconcile_ledger(EnKashHook(), ledger.read(batch).values()),
        }

    @task
    def report(plan: dict, result: dict) -> dict:
        """Log the outcome; fail when EnKash and the ledger disagree."""
        from airflow_provider_enkash.exceptions import EnKashError

        print(f"Payroll batch {result['batch_id']}: {plan['rows']} rows, {plan['total_amount']} rupees planned")
        for verdict, count in sorted(result["verdicts"].items()):
            print(f"  {verdict:<34} {count:>6}")
        print(f"  credited at EnKash: {result['settled_amount_at_enkash']} rupees; still pending: {result['pending']}")
        if not result["consistent"]:
            raise EnKashError(
                f"ledger and EnKash disagree on {len(result['problems'])}+ rows: {result['problems'][:5]}"
            )
        return result

    checked = reconcile(batch_id)
    validate >> approval_gate() >> [approve, no_approval_needed] >> load >> checked
    report(XComArg(validate, key="summary"), checked)


payroll_dag = enkash_payroll_card_loads()
