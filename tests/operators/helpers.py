"""What the operator tests share: running an operator's execute() with a task-instance context."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from airflow.sdk import BaseOperator

DAG_ID = "ops_direct"
RUN_ID = "manual__2025-01-24T00:00:00+00:00"


def run(operator: BaseOperator, *, try_number: int = 1, map_index: int = -1) -> Any:
    """``operator.execute()`` with the task-instance fields the operators read from the context."""
    ti = SimpleNamespace(
        dag_id=DAG_ID, run_id=RUN_ID, task_id=operator.task_id, map_index=map_index, try_number=try_number
    )
    return operator.execute({"ti": ti})


def new_card(hook, **holder: Any) -> str:
    """A fresh prepaid card in the sandbox's reloadable account."""
    return hook.create_prepaid_card(first_name="Asha", mobile="9123456780", **holder)["enKashCardId"]


def counter(sandbox, operation: str) -> int:
    return int(sandbox.get("counters")["operations"].get(operation, 0))


def admin_card(sandbox, card_id: str) -> dict:
    """The sandbox's own view of a card (balance, status, PIN set, ...)."""
    (card,) = [c for c in sandbox.get("cards")["cards"] if c["enkash_card_id"] == card_id]
    return card
