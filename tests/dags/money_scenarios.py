"""Test DAGs for the money-safety scenarios (tests/money): one single load, one batch load, with retries.

Everything variable comes from ``dag_run.conf``; the quiet period comes from the environment
(``ENKASH_TEST_QUIET_S``): tests keep it to seconds, production's default is 15 minutes.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag

from airflow_provider_enkash.operators.batch_load import EnKashBatchLoadOperator
from airflow_provider_enkash.operators.loads import EnKashLoadCardBalanceOperator

QUIET_S = float(os.environ.get("ENKASH_TEST_QUIET_S", "2"))
RETRIES = {"retries": 2, "retry_delay": timedelta(seconds=1)}


@dag(
    dag_id="money_single_load",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args=RETRIES,
)
def money_single_load():
    EnKashLoadCardBalanceOperator(
        task_id="load",
        enkash_card_id="{{ dag_run.conf['enkash_card_id'] }}",
        amount="{{ dag_run.conf['amount'] }}",
        resend_quiet_period=QUIET_S,
    )


@dag(
    dag_id="money_batch_load",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args=RETRIES,
    render_template_as_native_obj=True,
)
def money_batch_load():
    EnKashBatchLoadOperator(
        task_id="load",
        rows="{{ dag_run.conf['rows'] }}",
        batch_id="{{ dag_run.conf['batch_id'] }}",
        ledger_path="{{ dag_run.conf['ledger_path'] }}",
        resend_quiet_period=QUIET_S,
        concurrency=4,
    )


single_load_dag = money_single_load()
batch_load_dag = money_batch_load()
