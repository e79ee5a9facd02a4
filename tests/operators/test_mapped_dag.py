"""The operators inside dag.test() with .partial().expand(): every mapped load applied once, nothing secret in XCom."""

from __future__ import annotations

import json
from decimal import Decimal

from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
from sqlalchemy import select

from airflow_provider_enkash.references import load_reference
from tests.conftest import load_dag


def test_mapped_card_issue_pin_load_and_limits(sandbox, monkeypatch, capfd, caplog):
    monkeypatch.setenv("AIRFLOW_VAR_OPS_DAG_PIN", "582914")
    before = Decimal(sandbox.get("accounts")["CASANDBOX1"]["balance"])
    dag = load_dag("ops_mapped_cards.py", "ops_mapped_cards")
    dag_run = dag.test()
    assert dag_run.state == "success"

    cards = sandbox.get("cards")["cards"]
    assert len(cards) == 3
    assert all(c["balance"] == "250.75" and c["pin_set"] for c in cards)
    loads = sandbox.get("ledger")["loads"]
    expected = {
        load_reference(dag_id="ops_mapped_cards", run_id=dag_run.run_id, task_id="load_cards", map_index=i)
        for i in range(3)
    }
    assert {e["reference"] for e in loads} == expected
    assert all(e["times_applied"] == 1 for e in loads)
    assert Decimal(sandbox.get("accounts")["CASANDBOX1"]["balance"]) == before - 3 * Decimal("250.75")

    with create_session() as session:
        rows = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == "ops_mapped_cards", XComModel.run_id == dag_run.run_id
            )
        ).all()
        values = {(row.task_id, row.map_index): row.value for row in rows}
    assert {task for task, _ in values} == {
        "create_cards",
        "set_pins",
        "load_cards",
        "limit_cards",
        "list_cards",
    }
    out, err = capfd.readouterr()
    dumped = json.dumps(list(values.values()), default=str) + out + err + caplog.text
    secrets = sandbox.get("secrets")
    for secret in [*secrets["card_numbers"], *secrets["pins"], *secrets["access_tokens"]]:
        assert secret not in dumped
    card_ids = sorted(c["enkash_card_id"] for c in cards)
    assert sorted(_value(values[("limit_cards", -1)])["enkash_card_ids"]) == card_ids
    assert sorted(_value(values[("load_cards", i)])["enkash_card_id"] for i in range(3)) == card_ids


def _value(stored):
    return json.loads(stored) if isinstance(stored, str) else stored
