"""Export EnKash card transactions of a DAG run's window into SQL or object storage.

Both operators read ``[data_interval_start - lookback, data_interval_end)``
(snapped to midnights in ``day_boundaries``, UTC by default) sub-window by
sub-window (see :mod:`airflow_provider_enkash.export.windows`), turn records
into typed rows with the masked card number only, and stream them to the
destination: memory holds a few sub-windows, never the whole interval, and
XCom receives only a summary.

Each operator declares its destination as an Airflow Asset (unless ``outlets`` is given or the
destination is templated) and attaches the window and row counts to the asset event; it reports
OpenLineage lineage (EnKash's transactions of the card account in, the table or files out, row
counts) and links to its destination folder from the task's page.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from airflow.sdk import BaseOperator, ObjectStoragePath

from airflow_provider_enkash.connection import DEFAULT_CONN_ID
from airflow_provider_enkash.exceptions import EnKashConfigError, EnKashValidationError
from airflow_provider_enkash.export.lineage import (
    ExportLineage,
    enkash_source,
    file_dataset,
    files_asset,
    sql_table_dataset,
    table_asset,
)
from airflow_provider_enkash.export.sql_sink import DEFAULT_CHUNK_SIZE, check_table_name
from airflow_provider_enkash.export.storage_sink import (
    DEFAULT_ROW_GROUP_SIZE,
    check_file_prefix,
    check_formats,
)
from airflow_provider_enkash.export.windows import Window, check_read_settings, export_window
from airflow_provider_enkash.operators.links import EnKashExportDestinationLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_enkash.export.records import RowStats
    from airflow_provider_enkash.export.windows import WindowReader

# What only runs the export (the EnKash hook, requests, the sinks' writers, common.sql) is imported in
# execute, so parsing a DAG file that builds these operators stays cheap.

_PREFETCH_DEPTH = 2


class _TransactionExportOperator(BaseOperator):
    """What both exports share: the window, reading it from EnKash, and the summary.

    :param enkash_conn_id: EnKash connection (default ``enkash_default``).
    :param lookback: re-read this much before the data interval, so late status changes
        (e.g. a settled transaction turning ``REVERSED``) are picked up.
    :param day_boundaries: IANA zone whose midnights bound the window: ``"UTC"`` (default) or
        ``"Asia/Kolkata"``; ``None`` uses the data interval as is (sub-daily schedules).
    :param truncation_limit: records per response at which EnKash is assumed to have cut the
        result, so the sub-window is halved and read again (default 1000).
    :param initial_sub_window: span of the first request; later spans adapt to the density,
        between 1 ms and 1 day (default 1 hour).
    :param page_size: send ``page``/``size`` with this page size when the API honours them
        (verified on first use; otherwise the reader bisects). Default ``None``: never sent.
    :param card_account_id: export this card account instead of the connection's.
    """

    template_fields: Sequence[str] = ("enkash_conn_id", "card_account_id")
    ui_color = "#e8f4ea"
    operator_extra_links = (EnKashExportDestinationLink(),)

    def __init__(
        self,
        *,
        enkash_conn_id: str = DEFAULT_CONN_ID,
        lookback: timedelta = timedelta(0),
        day_boundaries: str | None = "UTC",
        truncation_limit: int = 1000,
        initial_sub_window: timedelta = timedelta(hours=1),
        page_size: int | None = None,
        card_account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.enkash_conn_id = enkash_conn_id
        self.lookback = lookback
        self.day_boundaries = day_boundaries
        self.truncation_limit = truncation_limit
        self.initial_sub_window = initial_sub_window
        self.page_size = page_size
        self.card_account_id = card_account_id
        #: Set by ``execute``: EnKash's (namespace, name) for lineage, the summary, the folder written.
        self.lineage_source: tuple[str, str] | None = None
        self.exported: dict[str, Any] | None = None
        self.destination_location: str | None = None
        if not isinstance(lookback, timedelta) or lookback < timedelta(0):
            raise EnKashValidationError("lookback", f"must be a non-negative timedelta, got {lookback!r}")
        check_read_settings(
            truncation_limit=truncation_limit,
            initial_sub_window=initial_sub_window,
            page_size=page_size,
        )

    def export_window(self, context: Context) -> Window:
        """The run's window: its data interval, snapped to ``day_boundaries``, widened by ``lookback``."""
        start, end = (
            context.get("data_interval_start"),
            context.get("data_interval_end"),
        )
        if start is None or end is None:
            raise EnKashValidationError("data_interval", "this run has no data interval to export")
        return export_window(start, end, lookback=self.lookback, day_boundaries=self.day_boundaries)

    def read_rows(self, window: Window) -> tuple[Iterator[list[tuple[Any, ...]]], WindowReader, RowStats]:
        """Rows of ``window`` batch by batch (read ahead in a thread), with the statistics they fill."""
        from airflow_provider_enkash.export.prefetch import prefetched
        from airflow_provider_enkash.export.records import RowStats, window_rows
        from airflow_provider_enkash.export.windows import WindowReader
        from airflow_provider_enkash.hooks.enkash import EnKashHook
        from airflow_provider_enkash.progress import export_progress

        hook = EnKashHook(self.enkash_conn_id)
        self.lineage_source = enkash_source(
            base_url=hook.settings.base_url,
            card_account_id=self.card_account_id or hook.settings.card_account_id,
        )
        reader = WindowReader(
            hook,
            truncation_limit=self.truncation_limit,
            initial_sub_window=self.initial_sub_window,
            page_size=self.page_size,
            search_filters={} if self.card_account_id is None else {"card_account_id": self.card_account_id},
        )
        stats = RowStats()
        exported_at = datetime.now(UTC)
        batches = prefetched(reader.batches(window), depth=_PREFETCH_DEPTH)
        local_tz = ZoneInfo(hook.settings.response_timezone)
        rows = window_rows(batches, window, exported_at=exported_at, stats=stats, local_tz=local_tz)

        def covered() -> float | None:
            if reader.covered_until is None:
                return None
            return (reader.covered_until - window.start) / window.span

        rows = export_progress(rows, self.log, label=f"Export {window.start} - {window.end}", covered=covered)
        return rows, reader, stats

    def summary(
        self, window: Window, reader: WindowReader, stats: RowStats, started: float
    ) -> dict[str, Any]:
        elapsed = time.monotonic() - started
        self.log.info(
            "Read %s transactions of %s - %s in %s requests (%s sub-windows, %s bisections) in %.1f s (%.0f rows/s)",
            stats.rows, window.start, window.end, reader.stats.requests, reader.stats.sub_windows,
            reader.stats.bisections, elapsed, stats.rows / elapsed if elapsed else 0.0,
        )  # fmt: skip
        if stats.outside_window:
            self.log.warning(
                "%s transactions returned for %s - %s have a txnDate outside it; kept. If this repeats, "
                "EnKash's timestamps are probably not in the zone assumed for 'MMM d, yyyy h:mm:ss a' "
                "(the connection extra response_timezone, default Asia/Kolkata)",
                stats.outside_window, window.start, window.end,
            )  # fmt: skip
        return {
            **window.to_xcom(),
            "fetched": stats.rows,
            "repeats_skipped": stats.repeats,
            "outside_window": stats.outside_window,
            "next_window_skipped": stats.next_window,
            "requests": reader.stats.requests,
            "bisections": reader.stats.bisections,
            "paged": reader.stats.paging,
            "seconds": round(elapsed, 3),
        }

    def finish(self, context: Context, summary: dict[str, Any], **event: Any) -> dict[str, Any]:
        """Record ``summary`` for lineage and attach the window, row count and ``event`` to every asset event."""
        from airflow.sdk import Asset

        self.exported = summary
        extra = {
            "window_start": summary["window_start"],
            "window_end": summary["window_end"],
            "rows": summary["fetched"],
            **event,
        }
        events = context.get("outlet_events")  # absent when execute is called outside a task run
        for outlet in self.outlets if events is not None else ():
            if isinstance(outlet, Asset):
                events[outlet].extra = extra
        return summary

    def lineage_outputs(self) -> list[tuple[str, str]]:
        """OpenLineage ``(namespace, name)`` of what this export wrote."""
        raise NotImplementedError

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the card account's transactions in, the table or files out, with row counts."""
        if self.exported is None or self.lineage_source is None:
            return None
        return ExportLineage(
            source=self.lineage_source,
            outputs=self.lineage_outputs(),
            rows=int(self.exported["fetched"]),
        ).operator_lineage()


class EnKashTransactionsToSqlOperator(_TransactionExportOperator):
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
        *_TransactionExportOperator.template_fields,
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
        hook = BaseHook.get_connection(self.conn_id).get_hook()
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


class EnKashTransactionsToStorageOperator(_TransactionExportOperator):
    """Write the run window's EnKash transactions as files on an ``ObjectStoragePath``.

    One object per window and format, named ``<file_prefix><start>_<end>.<format>`` (e.g.
    ``enkash_transactions_20250123T000000Z_20250124T000000Z.jsonl``), written to a temporary
    name and renamed into place, so a rerun replaces it and readers never see half a file.
    JSON Lines carry amounts as exact decimal strings and timestamps as UTC ISO-8601.

    Returns (to XCom) ``{window_start, window_end, fetched, paths: {format: url}, ...}``.

    :param destination: directory URL or ``ObjectStoragePath``: ``file:///...`` (default scheme),
        ``s3://bucket/prefix``, ``gs://...`` (through Airflow's object storage).
    :param storage_conn_id: connection for the object store (e.g. ``aws_default``); ``None`` for local files.
    :param formats: ``("jsonl",)`` (default), ``("parquet",)`` or both; Parquet needs pyarrow
        (the ``parquet`` extra).
    :param file_prefix: object name prefix (default ``enkash_transactions_``).
    :param row_group_size: Parquet rows per row group (default 50,000).
    :param outlets: default ``[files_asset(destination)]`` (none when ``destination`` is templated);
        each asset event's extra holds ``window_start``, ``window_end``, ``rows`` and ``paths``.
    """

    template_fields: Sequence[str] = (
        *_TransactionExportOperator.template_fields, "destination", "storage_conn_id", "file_prefix",
    )  # fmt: skip

    def __init__(
        self,
        *,
        destination: str | ObjectStoragePath,
        storage_conn_id: str | None = None,
        formats: Sequence[str] = ("jsonl",),
        file_prefix: str = "enkash_transactions_",
        row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("outlets") is None and "{{" not in str(destination):
            kwargs["outlets"] = [files_asset(destination)]
        super().__init__(**kwargs)
        self.destination = destination
        self.storage_conn_id = storage_conn_id
        self.formats = check_formats(formats)
        self.file_prefix = file_prefix if "{{" in str(file_prefix) else check_file_prefix(file_prefix)
        if isinstance(row_group_size, bool) or not isinstance(row_group_size, int) or row_group_size < 1:
            raise EnKashValidationError(
                "row_group_size", f"must be a positive integer, got {row_group_size!r}"
            )
        self.row_group_size = row_group_size

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_enkash.export.storage_sink import write_files

        window = self.export_window(context)
        started = time.monotonic()
        base = (
            self.destination
            if isinstance(self.destination, ObjectStoragePath)
            else ObjectStoragePath(self.destination, conn_id=self.storage_conn_id)
        )
        prefix = check_file_prefix(self.file_prefix)  # again once templates are rendered
        targets = {fmt: base / f"{prefix}{window.label()}.{fmt}" for fmt in self.formats}
        self.destination_location = str(base)
        rows, reader, stats = self.read_rows(window)
        write_files(targets, rows, row_group_size=self.row_group_size)
        summary = self.summary(window, reader, stats, started)
        self.log.info("Wrote %s", ", ".join(str(p) for p in targets.values()))
        paths = {fmt: str(path) for fmt, path in targets.items()}
        return self.finish(context, {**summary, "paths": paths}, paths=paths)

    def lineage_outputs(self) -> list[tuple[str, str]]:
        return [file_dataset(path) for path in (self.exported or {}).get("paths", {}).values()]
