"""What an export reads and writes, named for Airflow Assets, OpenLineage and the UI's links.

- Assets: :func:`table_asset` (a table of a common.sql connection) and :func:`files_asset` (a
  folder of an object store). The export operators declare them as outlets by default and attach
  the window and row counts to each asset event.
- OpenLineage: :class:`ExportLineage` holds what one finished export touched (EnKash's
  transactions of one card account in, the table or files out, the row count) and turns it into
  the provider's ``OperatorLineage``. The OpenLineage provider is imported only there, so the
  export runs without it.
- :func:`browsable_url`: the address of a location people can open (object-store consoles).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    from airflow.sdk import Asset

#: OpenLineage namespace scheme of EnKash's API: ``enkash://<api host>``.
ENKASH_NAMESPACE_SCHEME = "enkash"
_CONSOLES = {
    "s3": "https://s3.console.aws.amazon.com/s3/buckets/{bucket}?prefix={key}",
    "gs": "https://console.cloud.google.com/storage/browser/{bucket}/{key}",
    "gcs": "https://console.cloud.google.com/storage/browser/{bucket}/{key}",
}


def table_asset(*, conn_id: str, table: str) -> Asset:
    """The Asset of ``table`` on the Airflow connection ``conn_id``: ``x-enkash-sql://<conn_id>/<table>``.

    Declare the same asset (same arguments) in a DAG's ``schedule`` to run after each export.
    """
    from airflow.sdk import Asset

    return Asset(name=f"{conn_id}.{table}", uri=f"x-enkash-sql://{conn_id}/{table}")


def files_asset(destination: Any) -> Asset:
    """The Asset of an export folder: its URL (``file:///...``, ``s3://bucket/prefix``, ...)."""
    from airflow.sdk import Asset

    return Asset(uri=location_url(destination))


def location_url(location: Any) -> str:
    """``location`` as a URL: a plain path becomes ``file:///path``; URLs are returned unchanged."""
    text = str(location)
    if "://" in text:
        return text
    from pathlib import Path

    return Path(text).absolute().as_uri()


def browsable_url(location: Any) -> str:
    """An address a browser can open for the folder or file ``location``; ``""`` for ``None`` or an unknown scheme.

    ``s3://`` and ``gs://`` map to the AWS and Google Cloud consoles, paths to ``file://`` URLs,
    ``http(s)://`` is kept.
    """
    if location is None:
        return ""
    url = location_url(location)
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "file"):
        return url
    console = _CONSOLES.get(parts.scheme)
    if console is None:
        return ""
    return console.format(bucket=parts.netloc, key=quote(parts.path.lstrip("/").rstrip("/") + "/"))


def enkash_source(*, base_url: str, card_account_id: str | None) -> tuple[str, str]:
    """OpenLineage ``(namespace, name)`` of a card account's transactions at EnKash."""
    host = urlsplit(base_url).netloc
    return f"{ENKASH_NAMESPACE_SCHEME}://{host}", f"cardAccount/{card_account_id or 'default'}/transactions"


def sql_table_dataset(*, conn_id: str, table: str) -> tuple[str, str]:
    """OpenLineage ``(namespace, name)`` of ``table``, from the connection's own OpenLineage naming when its
    hook has one (Postgres: ``postgres://host:port``, ``database.schema.table``), else
    ``<conn type>://<host>`` and the table name."""
    from airflow.sdk import BaseHook

    connection = BaseHook.get_connection(conn_id)
    db_hook = connection.get_hook()  # type: ignore[no-untyped-call]
    info = None
    with contextlib.suppress(AttributeError, ImportError, NotImplementedError):
        info = db_hook.get_openlineage_database_info(connection)
    if info is None:
        return f"{connection.conn_type}://{connection.host or conn_id}", table
    namespace = f"{info.scheme}://{info.authority}" if info.authority else info.scheme
    parts = table.split(".")
    if len(parts) == 1:
        schema = db_hook.get_openlineage_default_schema()
        parts = [schema, *parts] if schema else parts
    return namespace, ".".join(p for p in (info.database, *parts) if p)


def file_dataset(url: str) -> tuple[str, str]:
    """OpenLineage ``(namespace, name)`` of a file: ``("file", "/path")`` or ``("s3://bucket", "key")``."""
    parts = urlsplit(location_url(url))
    if parts.scheme == "file":
        return "file", parts.path
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")


@dataclass(frozen=True)
class ExportLineage:
    """What one finished export read and wrote.

    :param source: ``(namespace, name)`` of EnKash's transactions (see :func:`enkash_source`).
    :param outputs: ``(namespace, name)`` of each table or file written.
    :param rows: transactions read from EnKash and written to each output.
    :param window: ``{"window_start", "window_end"}`` (UTC ISO-8601), the half-open window read.
    """

    source: tuple[str, str]
    outputs: Sequence[tuple[str, str]]
    rows: int
    window: dict[str, str] = field(default_factory=dict)

    def operator_lineage(self) -> Any:
        """The OpenLineage provider's ``OperatorLineage``: input and output datasets with row counts."""
        from airflow.providers.common.compat.openlineage.facet import (
            InputDataset,
            OutputDataset,
            OutputStatisticsOutputDatasetFacet,
        )
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.generated.input_statistics_input_dataset import (
            InputStatisticsInputDatasetFacet,
        )

        source = InputDataset(
            namespace=self.source[0],
            name=self.source[1],
            inputFacets={"inputStatistics": InputStatisticsInputDatasetFacet(rowCount=self.rows)},
        )
        outputs = [
            OutputDataset(
                namespace=namespace,
                name=name,
                outputFacets={"outputStatistics": OutputStatisticsOutputDatasetFacet(rowCount=self.rows)},
            )
            for namespace, name in self.outputs
        ]
        return OperatorLineage(inputs=[source], outputs=outputs)
