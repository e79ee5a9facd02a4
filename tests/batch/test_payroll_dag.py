"""The example payroll DAG end to end with dag.test(), on a sandbox seeded with the sample file's 12 cards."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pendulum
import pytest
import requests

from airflow_provider_enkash.references import batch_row_reference
from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig
from airflow_provider_enkash.token_cache import TOKEN_CACHE
from tests.conftest import connection_json, load_dag

SAMPLE = Path(__file__).resolve().parents[2] / "dags_examples" / "data" / "payroll_sample.csv"


@pytest.fixture
def seeded_sandbox(monkeypatch) -> Iterator[Sandbox]:
    """A sandbox holding the 12 cards the sample payroll file names (seed_cards=12, default random seed)."""
    sandbox = Sandbox(SandboxConfig(seed_cards=12, settle_delay_s=0.2)).start()
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(sandbox))
    TOKEN_CACHE.clear()
    yield sandbox
    sandbox.stop()


def _admin(sandbox: Sandbox, name: str) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/{name}", timeout=10).json()


def _run(dag, *, day: int, conf: dict) -> str:
    run = dag.test(logical_date=pendulum.datetime(2025, 1, day, 3, 30, tz="UTC"), run_conf=conf)
    return run.state


def test_payroll_dag_loads_the_sample_file_once_even_when_run_twice(seeded_sandbox, tmp_path):
    dag = load_dag("enkash_payroll_card_loads.py", "enkash_payroll_card_loads")
    conf = {"pay_period": "2025-01-15", "ledger_path": str(tmp_path / "ledger")}
    assert _run(dag, day=15, conf=conf) == "success"

    with SAMPLE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    loads = {e["reference"]: e for e in _admin(seeded_sandbox, "ledger")["loads"]}
    assert len(loads) == len(rows) == 12
    for row in rows:
        entry = loads[batch_row_reference(batch_id="payroll-2025-01-15", row_key=row["reference"])]
        assert (entry["enkash_card_id"], Decimal(entry["amount"]), entry["times_applied"]) == (
            row["enkash_card_id"], Decimal(row["amount"]), 1,
        )  # fmt: skip
    balances = {c["enkash_card_id"]: Decimal(c["balance"]) for c in _admin(seeded_sandbox, "cards")["cards"]}
    assert all(balances[r["enkash_card_id"]] == Decimal(r["amount"]) for r in rows)

    # A manual rerun for the same pay period (a new DAG run) moves no money.
    loads_before = _admin(seeded_sandbox, "counters")["operations"].get("load_card_balance", 0)
    assert _run(dag, day=16, conf=conf) == "success"
    assert _admin(seeded_sandbox, "counters")["operations"].get("load_card_balance", 0) == loads_before
    assert all(e["times_applied"] == 1 for e in _admin(seeded_sandbox, "ledger")["loads"])


def test_a_bad_payroll_file_fails_validation_and_loads_nothing(seeded_sandbox, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE.read_text() + "EMP1013,EKCDW1YHXT,12.345,typo\n")
    dag = load_dag("enkash_payroll_card_loads.py", "enkash_payroll_card_loads")
    conf = {
        "pay_period": "2025-02-01",
        "ledger_path": str(tmp_path / "ledger"),
        "payroll_file": str(bad),
    }
    assert _run(dag, day=20, conf=conf) == "failed"
    assert _admin(seeded_sandbox, "ledger")["loads"] == []
    assert _admin(seeded_sandbox, "counters")["operations"].get("load_card_balance", 0) == 0


def test_schedule_is_the_1st_and_15th_at_nine_ist():
    dag = load_dag("enkash_payroll_card_loads.py", "enkash_payroll_card_loads")
    # the DAG file uses the SDK's definition; the scheduler's timetable is what it becomes once serialised
    from airflow.serialization.encoders import coerce_to_core_timetable

    after_jan_1 = coerce_to_core_timetable(dag.timetable).next_dagrun_info(
        last_automated_data_interval=None,
        restriction=_restriction(pendulum.datetime(2025, 1, 2, tz="Asia/Kolkata")),
    )
    assert after_jan_1.run_after == pendulum.datetime(2025, 1, 15, 9, 0, tz="Asia/Kolkata")
    assert json.loads(json.dumps(dag.params.dump()))["require_approval"] is False
    assert os.path.isfile(dag.params.dump()["payroll_file"])


def _restriction(earliest):
    from airflow.timetables.base import TimeRestriction

    return TimeRestriction(earliest=earliest, latest=None, catchup=True)
