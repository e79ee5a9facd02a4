"""The export operators' arguments, checked when a DAG file builds its tasks.

Cheap to import (DAG files parse it): nothing here loads the record layout, SQLAlchemy or arro3; the sinks and the reader are imported when a task runs.
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow_provider_enkash._client.settings import MAX_SPAN, MIN_SPAN
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.request_models.validators import whole_number

FORMATS = ("jsonl", "parquet")
DEFAULT_ROW_GROUP_SIZE = 10_000  # rows per Parquet row group, held encoded until the group is complete
DEFAULT_CHUNK_SIZE = 5000  # rows per executemany and per transaction of the SQL sink
_TABLE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?")


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """The requested formats, each one of :data:`FORMATS`, at least one, no repeats."""
    chosen = (formats,) if isinstance(formats, str) else tuple(formats)
    if not chosen or len(set(chosen)) != len(chosen) or not set(chosen) <= set(FORMATS):
        raise EnKashValidationError(
            "formats", f"{formats!r} must be distinct values from {', '.join(FORMATS)}"
        )
    return chosen


def check_file_prefix(prefix: Any) -> str:
    """``prefix`` when it names objects inside the destination: no ``/`` or ``\\``, no control characters.

    A separator would let ``../../x_`` (or ``s3://other-bucket/``) write outside ``destination``.
    """
    if not isinstance(prefix, str):
        raise EnKashValidationError("file_prefix", f"must be a string, got {type(prefix).__name__}")
    if "/" in prefix or "\\" in prefix or not prefix.isprintable():
        raise EnKashValidationError(
            "file_prefix",
            f"{prefix!r} must be a plain name prefix without '/', '\\' or control characters; "
            "put directories in destination",
        )
    return prefix


def parquet_available() -> bool:
    """Whether the optional ``parquet`` extra (arro3) is installed; cheap enough for DAG parsing."""
    return all(importlib.util.find_spec(name) is not None for name in ("arro3.core", "arro3.io"))


def pyarrow_available() -> bool:
    """Deprecated name of :func:`parquet_available`, from when the ``parquet`` extra was pyarrow."""
    from airflow.exceptions import AirflowProviderDeprecationWarning

    warnings.warn(
        "pyarrow_available() is deprecated: use parquet_available() (the parquet extra is arro3 now)",
        AirflowProviderDeprecationWarning,
        stacklevel=2,
    )
    return parquet_available()


def check_table_name(table: Any) -> str:
    """``table`` or ``schema.table`` made of letters, digits and ``_`` (it is interpolated into SQL)."""
    if not isinstance(table, str) or not _TABLE_RE.fullmatch(table):
        raise EnKashValidationError(
            "table",
            f"{table!r} must be 'name' or 'schema.name' of letters, digits and '_' (max 63 each)",
        )
    return table


def check_read_settings(
    *, truncation_limit: int, initial_sub_window: timedelta, page_size: int | None
) -> None:
    """Validate the reader's settings before any call (see ``export.windows.WindowReader`` for their meaning)."""
    whole_number(truncation_limit, field="truncation_limit", minimum=2)
    if not isinstance(initial_sub_window, timedelta) or not MIN_SPAN <= initial_sub_window <= MAX_SPAN:
        raise EnKashValidationError(
            "initial_sub_window",
            f"must be a timedelta from 1 ms to 1 day, got {initial_sub_window!r}",
        )
    if page_size is not None and (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or not 1 <= page_size <= truncation_limit
    ):
        raise EnKashValidationError(
            "page_size",
            f"must be an integer from 1 to truncation_limit, got {page_size!r}",
        )
