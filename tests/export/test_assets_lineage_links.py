"""Exports as Airflow Assets (events with window and row counts, a DAG scheduled on them),
OpenLineage lineage through the OpenLineage provider, and the task page's destination link."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from airflow.models.pool import Pool
from airflow.utils.state import DagRunState

from airflow_provider_enkash.export.lineage import browsable_url, table_asset
from airflow_provider_enkash.transfers.enkash_to_sql import EnKashTransactionsToSqlOperator
from airflow_provider_enkash.transfers.enkash_to_storage import EnKashTransactionsToStorageOperator
from tests.conftest import load_dag
from tests.export.conftest import api_records, day, run_export

WAREHOUSE_URI = "x-enkash-sql://enkash_warehouse/enkash_transactions"


@pytest.fixture
def enkash_pool():
    Pool.create_or_update_pool(
        name="enkash_api", slots=4, description="EnKash API calls", include_deferred=False
    )


def _asset_events(uri: str, run_id: str) -> list:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return [
            event.extra
            for event in session.scalars(
                select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                .where(AssetModel.uri == uri, AssetEvent.source_run_id == run_id)
            )
        ]  # fmt: skip


def _scheduled_on(uri: str) -> set[str]:
    """DAGs the scheduler runs after an event of the asset ``uri`` (as parsed into the metadata DB)."""
    from airflow.models.asset import AssetModel, DagScheduleAssetReference
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return set(
            session.scalars(
                select(DagScheduleAssetReference.dag_id)
                .join(AssetModel, DagScheduleAssetReference.asset_id == AssetModel.id)
                .where(AssetModel.uri == uri)
            )
        )  # fmt: skip


def test_export_dag_emits_asset_events_and_the_summary_dag_runs_on_them(
    seeded, sqlite_warehouse, enkash_pool, tmp_path
):
    export = load_dag("enkash_daily_transaction_export.py", "enkash_daily_transaction_export")
    files = tmp_path / "files"
    run = export.test(
        logical_date=datetime(2025, 1, 3, tzinfo=UTC),
        run_conf={"export_files": True, "file_destination": f"file://{files}"},
    )
    assert run.state == DagRunState.SUCCESS

    expected = api_records(seeded, day(1)[0], day(2)[1])  # the interval plus one day of lookback
    (warehouse_event,) = _asset_events(WAREHOUSE_URI, run.run_id)
    assert warehouse_event == {
        "window_start": "2025-01-01T00:00:00.000Z",
        "window_end": "2025-01-03T00:00:00.000Z",
        "rows": len(expected),
        "inserted": len(expected),
        "updated": 0,
        "table": "enkash_transactions",
    }
    files_task = export.get_task("export_files")
    (files_event,) = _asset_events(files_task.outlets[0].uri, run.run_id)
    assert files_event["rows"] == len(api_records(seeded, *day(2)))  # the file export has no lookback
    assert {fmt: path.rsplit("/", 1)[-1] for fmt, path in files_event["paths"].items()}["jsonl"] == (
        "enkash_transactions_20250102T000000Z_20250103T000000Z.jsonl"
    )
    # docs/airflow-integration.md's example DAG, run earlier in the same metadata DB, may be scheduled on it too
    assert "enkash_transactions_daily_summary" in _scheduled_on(WAREHOUSE_URI)

    # The destination link on the task's page, as the API server computes it from the stored run.
    from airflow.models.serialized_dag import SerializedDagModel

    ti = run.get_task_instance("export_files")
    serialized_task = SerializedDagModel.get_dag(export.dag_id).get_task("export_files")
    assert serialized_task.get_extra_links(ti, "EnKash export destination") == f"file://{files}"

    summary_dag = load_dag("enkash_transactions_daily_summary.py", "enkash_transactions_daily_summary")
    summary_run = summary_dag.test()
    assert summary_run.state == DagRunState.SUCCESS
    result = summary_run.get_task_instance("summarize_window").xcom_pull(task_ids="summarize_window")
    with sqlite3.connect(tmp_path / "wh.db") as db:
        by_status = dict(
            db.execute("SELECT status, COUNT(*) FROM enkash_transactions GROUP BY status").fetchall()
        )
    assert result["rows"] == len(expected) == sum(by_status.values())
    assert {s: v["transactions"] for s, v in result["by_status"].items()} == by_status


def test_default_outlets_follow_the_destination_unless_templated():
    sql = EnKashTransactionsToSqlOperator(task_id="a", conn_id="wh", table="txns")
    assert sql.outlets == [table_asset(conn_id="wh", table="txns")]
    templated = EnKashTransactionsToSqlOperator(task_id="b", conn_id="wh", table="{{ params.table }}")
    assert templated.outlets == []
    files = EnKashTransactionsToStorageOperator(task_id="c", destination="s3://bucket/enkash")
    assert [a.uri for a in files.outlets] == ["s3://bucket/enkash"]


@pytest.mark.parametrize(
    ("location", "url"),
    [
        ("/data/enkash", "file:///data/enkash"),
        ("file:///data/enkash", "file:///data/enkash"),
        (
            "s3://payroll/ledgers/batch-1",
            "https://s3.console.aws.amazon.com/s3/buckets/payroll?prefix=ledgers/batch-1/",
        ),
        ("gs://payroll/ledgers", "https://console.cloud.google.com/storage/browser/payroll/ledgers/"),
        ("sftp://host/x", ""),
        (None, ""),
    ],
)
def test_browsable_url(location, url):
    assert browsable_url(location) == url


def _lineage(operator):
    """What the OpenLineage provider's listener extracts from a finished task, as OpenLineage JSON."""
    from airflow.providers.openlineage.extractors.manager import ExtractorManager
    from openlineage.client.serde import Serde

    extractor = ExtractorManager().get_extractor_class(operator)(operator)
    lineage = extractor.extract_on_complete(task_instance=None)
    assert lineage is not None
    return [Serde.to_dict(d) for d in lineage.inputs], [Serde.to_dict(d) for d in lineage.outputs]


def test_openlineage_of_the_sql_export(seeded, sqlite_warehouse, tmp_path):
    operator = EnKashTransactionsToSqlOperator(task_id="export", conn_id=sqlite_warehouse, table="txns")
    summary = run_export(operator, *day(2))
    inputs, outputs = _lineage(operator)
    assert inputs == [
        {
            "namespace": f"enkash://{seeded.url.split('://', 1)[1]}",
            "name": f"cardAccount/{seeded.sandbox.config.card_account_id}/transactions",
            "facets": {},
            "inputFacets": {"inputStatistics": inputs[0]["inputFacets"]["inputStatistics"]},
        }
    ]
    assert inputs[0]["inputFacets"]["inputStatistics"]["rowCount"] == summary["fetched"] > 0
    (output,) = outputs
    assert (output["namespace"], output["name"]) == (f"sqlite://{tmp_path / 'wh.db'}", "txns")
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == summary["fetched"]


def test_openlineage_of_the_postgres_export_uses_the_databases_naming(seeded, postgres_warehouse):
    conn_id, table = postgres_warehouse
    operator = EnKashTransactionsToSqlOperator(task_id="export", conn_id=conn_id, table=table)
    summary = run_export(operator, *day(2))
    _, (output,) = _lineage(operator)
    assert output["namespace"].startswith("postgres://127.0.0.1:")
    assert output["name"].endswith(f".public.{table}")
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == summary["fetched"]


def test_openlineage_of_the_file_export_names_each_file(seeded, tmp_path):
    operator = EnKashTransactionsToStorageOperator(task_id="files", destination=f"file://{tmp_path}")
    summary = run_export(operator, *day(2))
    _, outputs = _lineage(operator)
    assert [(o["namespace"], o["name"]) for o in outputs] == [
        ("file", str(tmp_path / "enkash_transactions_20250102T000000Z_20250103T000000Z.jsonl"))
    ]
    assert outputs[0]["outputFacets"]["outputStatistics"]["rowCount"] == summary["fetched"]


def test_no_lineage_before_the_export_ran():
    operator = EnKashTransactionsToSqlOperator(task_id="export", conn_id="wh", table="txns")
    assert operator.get_openlineage_facets_on_complete(None) is None
