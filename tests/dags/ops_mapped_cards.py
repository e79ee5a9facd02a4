"""Operators under dynamic task mapping: issue cards per employee, then PIN, load and limit each of them."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from airflow_provider_enkash.operators.card_reads import (
    EnKashGetCardDetailsOperator,
)
from airflow_provider_enkash.operators.cards import (
    EnKashCreatePrepaidCardOperator,
    EnKashSetCardPinOperator,
    EnKashSetCardUsageControlsOperator,
)
from airflow_provider_enkash.operators.loads import EnKashLoadCardBalanceOperator

EMPLOYEES = [
    {"first_name": "Asha", "last_name": "Rao", "mobile": "9000000001", "email": "asha@acme.example"},
    {"first_name": "Ravi", "last_name": "Kumar", "mobile": "9000000002"},
    {"first_name": "Meera", "mobile": "9000000003", "gender": "F"},
]


def card_id(created: dict) -> str:
    return created["enkash_card_id"]


@dag(
    dag_id="ops_mapped_cards",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    params={"amount": "250.75"},
)
def ops_mapped_cards():
    created = EnKashCreatePrepaidCardOperator.partial(task_id="create_cards").expand(card_holder=EMPLOYEES)
    card_ids = created.output.map(card_id)
    pins = EnKashSetCardPinOperator.partial(task_id="set_pins", pin_source="variable:ops_dag_pin").expand(
        enkash_card_id=card_ids
    )
    loads = EnKashLoadCardBalanceOperator.partial(task_id="load_cards", amount="{{ params.amount }}").expand(
        enkash_card_id=card_ids
    )
    limits = EnKashSetCardUsageControlsOperator(
        task_id="limit_cards", enkash_card_ids=card_ids, online_allowed=False, per_txn_limit="1000"
    )
    check = EnKashGetCardDetailsOperator(task_id="list_cards")
    pins >> loads >> limits >> check


mapped_cards_dag = ops_mapped_cards()
