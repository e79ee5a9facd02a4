"""Shared by the money-safety scenario tests: run a scenario DAG, read its task and XCom, check the ground truth."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.batch.helpers import card_balances, sandbox_loads
from tests.conftest import load_dag

DAG_FILE = "money_scenarios.py"


def run_dag(dag_id: str, conf: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """``dag.test()`` the scenario DAG; return (run state, state of task ``load``, its XComs by key)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dag = load_dag(DAG_FILE, dag_id)
    dag_run = dag.test(run_conf=conf)
    (ti,) = [ti for ti in dag_run.get_task_instances() if ti.task_id == "load"]
    with create_session() as session:
        rows = session.scalars(
            select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == dag_run.run_id)
        ).all()
        xcoms = {row.key: _xcom_value(row.value) for row in rows}
    return str(dag_run.state), str(ti.state), xcoms


def _xcom_value(stored: Any) -> Any:
    """An XCom as stored: JSON text for values the task returned; other keys (e.g. an extra link's
    location) may be plain text."""
    if not isinstance(stored, str):
        return stored
    try:
        return json.loads(stored)
    except json.JSONDecodeError:
        return stored


def assert_at_most_once(
    sandbox, rows: list[dict[str, str]], references: list[str], *, all_loaded: bool
) -> None:
    """Ground truth from the sandbox ledger: no reference applied twice, no amount differs, and, when
    ``all_loaded``, every row's card holds exactly its amount (nothing lost)."""
    loads = sandbox_loads(sandbox)
    for reference, row in zip(references, rows, strict=False):
        entry = loads.get(reference)
        assert entry is None or entry["times_applied"] == 1, entry
        if entry is not None:
            assert Decimal(entry["amount"]) == Decimal(row["amount"]), (entry, row)
        if all_loaded:
            assert entry is not None, f"row {row} was never loaded"
    if all_loaded:
        balances = card_balances(sandbox)
        for row in rows:
            assert balances[row["enkash_card_id"]] == Decimal(row["amount"]), row
