"""Test DAG: load a card, then wait (deferred) until EnKash settles the load.

The card id comes from ``dag_run.conf["enkash_card_id"]``; the sensor takes the load's
reference and card from the load task's XCom.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from airflow_provider_enkash.operators.loads import EnKashLoadCardBalanceOperator
from airflow_provider_enkash.sensors.transactions import EnKashTransactionSensor


@dag(
    dag_id="sensors_load_then_wait",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
)
def sensors_load_then_wait():
    load = EnKashLoadCardBalanceOperator(
        task_id="load",
        enkash_card_id="{{ dag_run.conf['enkash_card_id'] }}",
        amount="1234.56",
    )
    wait = EnKashTransactionSensor(
        task_id="wait_settled",
        pg_reference_number="{{ ti.xcom_pull(task_ids='load')['unique_reference_number'] }}",
        enkash_card_id="{{ ti.xcom_pull(task_ids='load')['enkash_card_id'] }}",
        deferrable=True,
        poke_interval=0.2,
        timeout=60,
    )
    load >> wait


load_then_wait_dag = sensors_load_then_wait()
