"""Write EnKash card transactions of a DAG run's window as JSON Lines / Parquet files on an ObjectStoragePath."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import ObjectStoragePath

from airflow_provider_enkash.export.arguments import (
    DEFAULT_ROW_GROUP_SIZE,
    check_file_prefix,
    check_formats,
)
from airflow_provider_enkash.export.lineage import file_dataset, files_asset
from airflow_provider_enkash.request_models.validators import positive_int
from airflow_provider_enkash.transfers.base import TransactionExportOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class EnKashTransactionsToStorageOperator(TransactionExportOperator):
    """Write the run window's EnKash transactions as files on an ``ObjectStoragePath``.

    One object per window and format, named ``<file_prefix><start>_<end>.<format>`` (e.g.
    ``enkash_transactions_20250123T000000Z_20250124T000000Z.jsonl``), written to a temporary
    name and renamed into place, so a rerun replaces it and readers never see half a file.
    JSON Lines carry amounts as exact decimal strings and timestamps as UTC ISO-8601.

    Returns (to XCom) ``{window_start, window_end, fetched, paths: {format: url}, ...}``.

    :param destination: directory URL or ``ObjectStoragePath``: ``file:///...`` (default scheme),
        ``s3://bucket/prefix``, ``gs://...`` (through Airflow's object storage).
    :param storage_conn_id: connection for the object store (e.g. ``aws_default``); ``None`` for local files.
    :param formats: ``("jsonl",)`` (default), ``("parquet",)`` or both; Parquet needs the
        ``parquet`` extra (arro3).
    :param file_prefix: object name prefix (default ``enkash_transactions_``).
    :param row_group_size: Parquet rows per row group (default 10,000; larger groups hold more memory).
    :param outlets: default ``[files_asset(destination)]`` (none when ``destination`` is templated);
        each asset event's extra holds ``window_start``, ``window_end``, ``rows`` and ``paths``.
    """

    template_fields: Sequence[str] = (
        *TransactionExportOperator.template_fields, "destination", "storage_conn_id", "file_prefix",
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
        self.row_group_size = positive_int(row_group_size, field="row_group_size")

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
