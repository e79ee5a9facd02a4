"""dag.test(): a load task, then a deferrable sensor that completes when the sandbox settles the load."""

from __future__ import annotations

from decimal import Decimal

from airflow.utils.state import DagRunState, TaskInstanceState

from tests.conftest import load_dag


def test_load_then_deferred_sensor_completes_on_settlement(sandbox, hook, card):
    sandbox.post("config", {"settle_delay_s": 1.5})
    dag = load_dag("sensors_load_then_wait.py", "sensors_load_then_wait")
    run = dag.test(run_conf={"enkash_card_id": card})
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == DagRunState.SUCCESS, states
    assert states == {"load": TaskInstanceState.SUCCESS, "wait_settled": TaskInstanceState.SUCCESS}
    (record,) = hook.get_card_details(enkash_card_id=card)["data"]
    assert Decimal(str(record["otbBalance"])) == Decimal("1234.56")
    (entry,) = [e for e in sandbox.get("ledger")["loads"] if e["enkash_card_id"] == card]
    assert (entry["amount"], entry["times_applied"], entry["statuses"]) == ("1234.56", 1, ["SUCCESS"])
