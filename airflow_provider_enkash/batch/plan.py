"""Planning a batch: read it from one source, name it, and split it for fan-out.

The batch id names the batch for good: every row reference derives from it
and the row key, so the same id on a rerun or a retry means the same
references. The default, ``<dag_id>/<run_id>/<task_id>``, is stable per DAG
run and task and deliberately leaves the map index out: chunks of one batch
share the id, and a row keeps its reference whichever chunk it lands in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_provider_enkash.batch.arguments import DEFAULT_CHUNK_SIZE as DEFAULT_CHUNK_SIZE
from airflow_provider_enkash.batch.rows import (
    BatchRow,
    number_rows,
    read_rows_from_file,
    read_rows_from_sql,
)
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.request_models.validators import positive_int


def read_batch(
    *,
    rows: Iterable[Mapping[str, Any]] | None = None,
    source_path: Any = None,
    file_format: str | None = None,
    sql: str | None = None,
    sql_conn_id: str | None = None,
    sql_parameters: Mapping[str, Any] | Sequence[Any] | None = None,
) -> list[dict[str, Any]]:
    """Raw rows from exactly one of ``rows``, ``source_path`` or ``sql`` (with ``sql_conn_id``)."""
    given = [
        name
        for name, value in (("rows", rows), ("source_path", source_path), ("sql", sql))
        if value is not None
    ]
    if len(given) != 1:
        raise EnKashValidationError(
            "rows",
            f"give exactly one source of rows (rows, source_path or sql); got {given or 'none'}",
        )
    if rows is not None:
        if isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
            raise EnKashValidationError("rows", f"must be a list of row mappings, got {type(rows).__name__}")
        return number_rows(rows)
    if source_path is not None:
        return read_rows_from_file(source_path, file_format=file_format)
    if not sql_conn_id:
        raise EnKashValidationError("sql_conn_id", "is required with sql")
    return read_rows_from_sql(sql=str(sql), sql_conn_id=sql_conn_id, parameters=sql_parameters)


def default_batch_id(context: Mapping[str, Any]) -> str:
    """``<dag_id>/<run_id>/<task_id>`` of the running task (map index left out on purpose, see module doc)."""
    ti = context["ti"]
    return f"{ti.dag_id}/{ti.run_id}/{ti.task_id}"


def chunk_rows(
    rows: Sequence[BatchRow], *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> list[list[dict[str, Any]]]:
    """Validated rows as JSON-serialisable chunks of at most ``chunk_size`` rows, for ``.expand(rows=...)``.

    Rows keep their source ``row_number`` and ``reference`` (row key), so each chunk's references and reports
    match the whole batch's.

    :param chunk_size: rows per chunk (default 1000).
    """
    positive_int(chunk_size, field="chunk_size")
    return [
        [row.to_dict() for row in rows[start : start + chunk_size]]
        for start in range(0, len(rows), chunk_size)
    ]
