"""A read-only task on ``enkash_default``: the browser test runs it after creating that connection in the UI."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from airflow_provider_enkash.operators.card_reads import EnKashGetCardAccountDetailsOperator


@dag(
    dag_id="enkash_ui_read_card_account",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["enkash", "test"],
)
def enkash_ui_read_card_account():
    EnKashGetCardAccountDetailsOperator(task_id="read_card_account")


ui_read_card_account = enkash_ui_read_card_account()
