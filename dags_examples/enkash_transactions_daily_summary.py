"""
### EnKash transactions: daily summary (runs on the warehouse asset)

Scheduled on the warehouse table that `enkash_daily_transaction_export` fills: every successful
export emits an event of that Airflow Asset, carrying the window it exported (`window_start`,
`window_end`) and its row counts, and this DAG runs after it. It sums the window's transactions
by status (count and rupees, exact in paise) and returns the table; a manual run summarises the
latest event's window.
"""

from __future__ import annotations

from decimal import Decimal

import pendulum
from airflow.sdk import BaseOperator, Context, dag

from airflow_provider_enkash.export.lineage import table_asset

WAREHOUSE_CONN_ID = "enkash_warehouse"
TABLE = "enkash_transactions"
# The same arguments as the export DAG's WAREHOUSE_ASSET, so this is the same asset.
WAREHOUSE_ASSET = table_asset(conn_id=WAREHOUSE_CONN_ID, table=TABLE)


class SummarizeWindowOperator(BaseOperator):
    """Transactions of the exported window by status: ``{window_start, window_end, rows, by_status}``.

    An operator class rather than a ``@task``: ``@task`` imports Airflow's Python operators, about
    25 ms on every parse of this file.
    """

    def execute(self, context: Context) -> dict:
        from airflow.providers.common.sql.hooks.sql import DbApiHook
        from airflow.sdk import BaseHook

        triggering = list(context["triggering_asset_events"].get(WAREHOUSE_ASSET, ()))
        events = triggering or list(context["inlet_events"][WAREHOUSE_ASSET])
        if not events:
            raise ValueError(f"no event of {WAREHOUSE_ASSET.uri} yet: run the export first")
        event = events[-1].extra
        db = BaseHook.get_connection(WAREHOUSE_CONN_ID).get_hook()
        if not isinstance(db, DbApiHook):
            raise TypeError(f"{WAREHOUSE_CONN_ID} is not a SQL connection")
        records = db.get_records(
            f"SELECT status, COUNT(*), SUM(principal_amount_paise) FROM {TABLE}"
            f" WHERE txn_date >= {db.placeholder} AND txn_date < {db.placeholder} GROUP BY status ORDER BY status",
            parameters=(event["window_start"], event["window_end"]),
        )
        by_status = {
            status: {"transactions": count, "rupees": str(Decimal(int(paise or 0)).scaleb(-2))}
            for status, count, paise in records
        }
        rows = sum(item["transactions"] for item in by_status.values())
        print(
            f"{event['window_start']} .. {event['window_end']}: {rows} transactions (the export wrote {event['rows']})"
        )
        for status, item in by_status.items():
            print(f"  {status:<12} {item['transactions']:>8} {item['rupees']:>16} rupees")
        return {
            "window_start": event["window_start"],
            "window_end": event["window_end"],
            "rows": rows,
            "by_status": by_status,
        }


@dag(
    dag_id="enkash_transactions_daily_summary",
    schedule=[WAREHOUSE_ASSET],
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["enkash", "export"],
)
def enkash_transactions_daily_summary():
    SummarizeWindowOperator(task_id="summarize_window", inlets=[WAREHOUSE_ASSET])


daily_summary = enkash_transactions_daily_summary()
