"""The example DAG end to end with dag.test(): settled sensor (deferred) -> SQL export -> quality check -> files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from airflow.models.pool import Pool
from airflow.sdk import BaseHook
from airflow.utils.state import DagRunState, TaskInstanceState

from airflow_provider_enkash.export.sql_sink import SqlTransactionSink
from tests.conftest import load_dag
from tests.export.conftest import api_records, day


@pytest.fixture
def enkash_pool():
    Pool.create_or_update_pool(
        name="enkash_api",
        slots=4,
        description="EnKash API calls",
        include_deferred=False,
    )


@pytest.mark.parametrize("export_files", [False, True])
def test_example_dag_exports_one_day_into_sqlite(
    seeded, sqlite_warehouse, enkash_pool, tmp_path, export_files
):
    dag = load_dag("enkash_daily_transaction_export.py", "enkash_daily_transaction_export")
    run = dag.test(
        logical_date=datetime(2025, 1, 3, tzinfo=UTC),
        run_conf={
            "export_files": export_files,
            "file_destination": f"file://{tmp_path}/files",
        },
    )
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == DagRunState.SUCCESS, states
    assert states["check_export"] == TaskInstanceState.SUCCESS
    assert states["export_files"] == (
        TaskInstanceState.SUCCESS if export_files else TaskInstanceState.SKIPPED
    )

    assert (run.data_interval_start, run.data_interval_end) == day(2)
    expected = api_records(seeded, day(1)[0], day(2)[1])  # the interval plus one day of lookback
    with sqlite3.connect(tmp_path / "wh.db") as db:
        ids = [i for (i,) in db.execute("SELECT enkash_transaction_id FROM enkash_transactions")]
    assert sorted(ids) == sorted(expected)
    files = sorted(p.name for p in (tmp_path / "files").iterdir()) if export_files else []
    assert files == (
        [
            "enkash_transactions_20250102T000000Z_20250103T000000Z.jsonl",
            "enkash_transactions_20250102T000000Z_20250103T000000Z.parquet",
        ]
        if export_files
        else []
    )


def test_the_quality_check_fails_when_the_table_lost_a_row(seeded, sqlite_warehouse, enkash_pool, tmp_path):
    victim = min(api_records(seeded, *day(2)))
    SqlTransactionSink(
        BaseHook.get_connection(sqlite_warehouse).get_hook(), "enkash_transactions"
    ).ensure_table()
    with sqlite3.connect(tmp_path / "wh.db") as db:  # a warehouse that silently loses one row
        db.execute(
            "CREATE TRIGGER lose_one AFTER INSERT ON enkash_transactions "
            f"WHEN NEW.enkash_transaction_id = '{victim}' "
            "BEGIN DELETE FROM enkash_transactions WHERE enkash_transaction_id = NEW.enkash_transaction_id; END"
        )
    dag = load_dag("enkash_daily_transaction_export.py", "enkash_daily_transaction_export")
    dag.get_task("check_export").retries = 0  # the DAG retries after 5 minutes; fail now
    run = dag.test(logical_date=datetime(2025, 1, 3, tzinfo=UTC))
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == DagRunState.FAILED
    assert (states["export_to_sql"], states["check_export"]) == (
        TaskInstanceState.SUCCESS,
        TaskInstanceState.FAILED,
    )
