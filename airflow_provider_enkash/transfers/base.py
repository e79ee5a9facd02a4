"""What both transaction exports share: the run's window, reading it from EnKash, the summary, lineage.

The exports read ``[data_interval_start - lookback, data_interval_end)`` (snapped to midnights in
``day_boundaries``, UTC by default) sub-window by sub-window (see
:mod:`airflow_provider_enkash.export.windows`), turn records into typed rows with the masked card
number only, and stream them to the destination: memory holds a few sub-windows, never the whole
interval, and XCom receives only a summary.

What only runs the export (the EnKash hook, requests, the sinks' writers, common.sql) is imported in
``execute``, so parsing a DAG file that builds these operators stays cheap.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from airflow.sdk import BaseOperator

from airflow_provider_enkash import DEFAULT_CONN_ID
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.export.arguments import check_read_settings
from airflow_provider_enkash.export.lineage import ExportLineage, enkash_source
from airflow_provider_enkash.operators.links import EnKashExportDestinationLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_enkash.export.records import RowStats
    from airflow_provider_enkash.export.windows import Window, WindowReader


class TransactionExportOperator(BaseOperator):
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
        from airflow_provider_enkash.export.windows import export_window  # at run time: parsing stays cheap

        return export_window(start, end, lookback=self.lookback, day_boundaries=self.day_boundaries)

    def read_rows(self, window: Window) -> tuple[Iterator[list[tuple[Any, ...]]], WindowReader, RowStats]:
        """Rows of ``window`` batch by batch, with the statistics they fill."""
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
        local_tz = ZoneInfo(hook.settings.response_timezone)
        rows = window_rows(
            reader.batches(window), window, exported_at=exported_at, stats=stats, local_tz=local_tz
        )

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
        if events is not None:
            for outlet in self.outlets:
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
