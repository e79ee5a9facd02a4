"""Upsert EnKash card transactions of a DAG run's window into a table of any common.sql connection."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.exceptions import EnKashConfigError
from airflow_provider_enkash.export.arguments import DEFAULT_CHUNK_SIZE, check_table_name
from airflow_provider_enkash.export.lineage import sql_table_dataset, table_asset
from airflow_provider_enkash.transfers.base import TransactionExportOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class EnKashTransactionsToSqlOperator(TransactionExportOperator):
    """Upsert the run window's EnKash transactions into a table of any common.sql connection.

    The table is created when missing (``enkash_transaction_id`` primary key, NUMERIC amounts,
    UTC timestamps, masked card number only, ``txnDetails`` flattened) and written with
    common.sql's dialect upsert, so reruns, backfills, overlapping lookbacks and late status
    changes leave exactly one current row per transaction.

    Returns (to XCom) ``{window_start, window_end, table, fetched, inserted, updated, requests,
    bisections, ...}``; ``inserted``/``updated`` count rows of the window new to the table and
    rows that replaced an existing one.

    :param conn_id: the destination connection (SQLite, Postgres, or any common.sql database).
    :param table: ``name`` or ``schema.name`` (default ``enkash_transactions``).
    :param chunk_size: rows per statement batch and per transaction (default 5000).
    :param lookback: see the base class; default 1 day, so yesterday's late changes land today.
    :param outlets: default ``[table_asset(conn_id=..., table=...)]`` (none when either is templated);
        each asset event's extra holds ``window_start``, ``window_end``, ``rows``, ``inserted``,
        ``updated`` and ``table``.
    """

    template_fields: Sequence[str] = (
        *TransactionExportOperator.template_fields,
        "conn_id",
        "table",
    )

    def __init__(
        self,
        *,
        conn_id: str,
        table: str = "enkash_transactions",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        lookback: timedelta = timedelta(days=1),
        **kwargs: Any,
    ) -> None:
        if kwargs.get("outlets") is None and "{{" not in f"{conn_id}{table}":
            kwargs["outlets"] = [table_asset(conn_id=conn_id, table=table)]
        super().__init__(lookback=lookback, **kwargs)
        self.conn_id = conn_id
        self.table = table
        self.chunk_size = chunk_size
        if "{{" not in table:
            check_table_name(table)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.providers.common.sql.hooks.sql import DbApiHook
        from airflow.sdk import BaseHook

        from airflow_provider_enkash.export.sql_sink import SqlTransactionSink

        window = self.export_window(context)
        started = time.monotonic()
        hook = BaseHook.get_connection(self.conn_id).get_hook()  # type: ignore[no-untyped-call]
        if not isinstance(hook, DbApiHook):
            raise EnKashConfigError(
                f"conn_id: {self.conn_id!r} is not a SQL connection (got {type(hook).__name__})"
            )
        sink = SqlTransactionSink(hook, self.table, chunk_size=self.chunk_size)
        sink.ensure_table()
        before = sink.count_window(window)
        rows, reader, stats = self.read_rows(window)
        sink.upsert(rows)
        inserted = sink.count_window(window) - before
        summary = self.summary(window, reader, stats, started)
        self.log.info(
            "Upserted into %s: %s inserted, %s updated",
            self.table,
            inserted,
            stats.rows - inserted,
        )
        counts = {"inserted": inserted, "updated": stats.rows - inserted}
        return self.finish(context, {**summary, "table": self.table, **counts}, table=self.table, **counts)

    def lineage_outputs(self) -> list[tuple[str, str]]:
        return [sql_table_dataset(conn_id=self.conn_id, table=self.table)]
