"""
### EnKash daily transaction export

Every day (UTC), once the day's EnKash card transactions have settled, upsert them into a
warehouse table, check the result, and optionally write the day as files.

1. **wait_until_settled** - `EnKashTransactionsSettledSensor`, deferrable: waits in the triggerer
   until no transaction of the data interval is still pending.
2. **export_to_sql** - `EnKashTransactionsToSqlOperator`: the interval plus one day of lookback
   (late changes such as `REVERSED` land in the next run) upserted into `enkash_transactions`.
3. **check_export** - `CheckExportOperator` (below) querying the warehouse: the table holds exactly as many
   rows for the window as EnKash returned, ids are unique, and no amount is missing.
4. **export_files** (when the `export_files` param is true, decided by **files_requested**) -
   `EnKashTransactionsToStorageOperator`: the interval as JSON Lines (and Parquet when pyarrow is
   installed) under `file_destination`.

The two small steps are operator classes rather than `@task` functions: `@task` imports Airflow's
Python operators (about 25 ms on every parse of this file), more than the rest of the file costs.

Catch-up is on: enabling the DAG backfills from `start_date` (environment variable
`ENKASH_EXPORT_START_DATE`, default 2025-01-01: one run per day since then), and reruns converge
to one row per transaction. `ENKASH_EXPORT_POKE_INTERVAL_S` sets the sensor's poll interval
(default 300 s). Both are read from the environment when the DAG file is parsed (an Airflow
Variable would cost a metadata lookup on every parse). Every EnKash call runs in the
pool `enkash_api`, so concurrent runs share its rate limit.

Assets: the warehouse table (`WAREHOUSE_ASSET`) and the files folder are the exports' outlets; each
asset event carries the window and row counts. `enkash_transactions_daily_summary` runs after every
warehouse update.

Setup:

```bash
airflow pools set enkash_api 4 "EnKash API calls"
export ENKASH_EXPORT_START_DATE=2025-01-01   # optional: first day to export
export AIRFLOW_CONN_ENKASH_DEFAULT='{"conn_type": "enkash", ...}'   # or: enkash-sandbox
export AIRFLOW_CONN_ENKASH_WAREHOUSE='{"conn_type": "sqlite", "host": "'"$AIRFLOW_HOME"'/enkash_warehouse.db"}'
```

Any common.sql connection works as the warehouse (e.g. `postgres://...`).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.standard.operators.branch import BaseBranchOperator
from airflow.sdk import BaseOperator, Context, CronDataIntervalTimetable, Param, dag

from airflow_provider_enkash.export.arguments import parquet_available
from airflow_provider_enkash.export.lineage import files_asset, table_asset
from airflow_provider_enkash.sensors.transactions import EnKashTransactionsSettledSensor
from airflow_provider_enkash.transfers.enkash_to_sql import EnKashTransactionsToSqlOperator
from airflow_provider_enkash.transfers.enkash_to_storage import EnKashTransactionsToStorageOperator

ENKASH_POOL = "enkash_api"
WAREHOUSE_CONN_ID = "enkash_warehouse"
TABLE = "enkash_transactions"
EXPORT_TASK = "export_to_sql"
AIRFLOW_HOME = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
DEFAULT_FILE_DESTINATION = f"file://{AIRFLOW_HOME}/enkash_exports"
WAREHOUSE_ASSET = table_asset(conn_id=WAREHOUSE_CONN_ID, table=TABLE)
# The files' asset is the default destination; each event names the files actually written.
FILES_ASSET = files_asset(DEFAULT_FILE_DESTINATION)
# Catch-up starts here when the DAG is enabled; set it to the first day you want in the warehouse.
START_DATE = pendulum.parse(os.environ.get("ENKASH_EXPORT_START_DATE", "2025-01-01"), tz="UTC")
# Seconds between the settled sensor's polls (the triggerer does the waiting).
POKE_INTERVAL_S = float(os.environ.get("ENKASH_EXPORT_POKE_INTERVAL_S", "300"))

# The quality check on the exported window: every one of these must hold.
QUALITY_CHECKS = {
    "row_count_matches_enkash": "COUNT(*) = {fetched}",
    "transaction_ids_unique": "COUNT(*) = COUNT(DISTINCT enkash_transaction_id)",
    "amounts_present": "COALESCE(SUM(CASE WHEN principal_amount IS NULL THEN 1 ELSE 0 END), 0) = 0",
}
QUALITY_SQL = (
    "SELECT "
    + ", ".join(f"{check} AS {name}" for name, check in QUALITY_CHECKS.items())
    + f" FROM {TABLE} WHERE txn_date >= '{{window_start}}' AND txn_date < '{{window_end}}'"
)


class CheckExportOperator(BaseOperator):
    """Fail unless the table holds exactly the window's EnKash rows, ids unique, amounts present.

    :param summary: the SQL export's XCom (``window_start``, ``window_end``, ``fetched``, ...).
    """

    template_fields = ("summary",)

    def __init__(self, *, summary: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.summary = summary

    def execute(self, context: Context) -> None:
        from airflow.sdk import BaseHook  # imported when the task runs, not when the file is parsed
        from airflow.sdk.exceptions import AirflowException

        warehouse = BaseHook.get_connection(WAREHOUSE_CONN_ID).get_hook()  # a common.sql DbApiHook
        row = warehouse.get_first(QUALITY_SQL.format(**self.summary)) or [False] * len(QUALITY_CHECKS)
        failed = [name for name, ok in zip(QUALITY_CHECKS, row, strict=True) if not ok]
        if failed:
            raise AirflowException(f"check_export failed on {TABLE}: {', '.join(failed)}")


class FilesRequestedOperator(BaseBranchOperator):
    """Continue to ``export_files`` only when the run's ``export_files`` param is true; else skip it."""

    def choose_branch(self, context: Context) -> list[str]:
        return ["export_files"] if context["params"]["export_files"] else []


@dag(
    dag_id="enkash_daily_transaction_export",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=START_DATE,
    catchup=True,
    max_active_runs=4,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    params={
        "export_files": Param(False, type="boolean", description="also write the day as files"),
        "file_destination": Param(
            DEFAULT_FILE_DESTINATION,
            type="string",
            description="directory URL for the files",
        ),
    },
    doc_md=__doc__,
    tags=["enkash", "export"],
)
def enkash_daily_transaction_export():
    settled = EnKashTransactionsSettledSensor(
        task_id="wait_until_settled",
        txn_date_from="{{ data_interval_start.isoformat() }}",
        txn_date_to="{{ data_interval_end.isoformat() }}",
        deferrable=True,
        poke_interval=POKE_INTERVAL_S,
        timeout=6 * 3600,
        pool=ENKASH_POOL,
    )
    export = EnKashTransactionsToSqlOperator(
        task_id=EXPORT_TASK,
        conn_id=WAREHOUSE_CONN_ID,
        table=TABLE,
        lookback=timedelta(days=1),
        pool=ENKASH_POOL,
        outlets=[WAREHOUSE_ASSET],
    )

    files = EnKashTransactionsToStorageOperator(
        task_id="export_files",
        destination="{{ params.file_destination }}",
        formats=("jsonl", "parquet") if parquet_available() else ("jsonl",),
        pool=ENKASH_POOL,
        outlets=[FILES_ASSET],
    )
    check = CheckExportOperator(task_id="check_export", summary=export.output)
    files_requested = FilesRequestedOperator(task_id="files_requested")
    settled >> export >> check >> files_requested >> files


daily_transaction_export = enkash_daily_transaction_export()
