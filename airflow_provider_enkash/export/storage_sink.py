"""The file destination: JSON Lines (and Parquet with the ``parquet`` extra) on any ObjectStoragePath.

Each format is written to a temporary sibling object first and renamed over
the final name when complete, so readers never see a partial file and a
rerun replaces the previous one (``file://`` renames atomically; object
stores copy server-side, and the final key only ever holds a whole object).
Rows stream through: JSON Lines line by line; Parquet (``export.parquet``)
turns each batch into an Arrow record batch as it arrives and encodes one
row group per ``row_group_size`` rows. When Parquet is written its writer
pulls the batches, and JSON Lines are written as each batch passes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_enkash.exceptions import EnKashConfigError
from airflow_provider_enkash.export.arguments import (  # noqa: F401  (their old import path)
    DEFAULT_ROW_GROUP_SIZE,
    FORMATS,
    check_file_prefix,
    check_formats,
    parquet_available,
    pyarrow_available,
)
from airflow_provider_enkash.export.records import COLUMN_NAMES
from airflow_provider_enkash.export.timestamps import format_utc

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath


def _json_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, Decimal):
        return str(value)  # exact; JSON numbers would go through float in most readers
    return value


def _write_json_lines(stream: IO[bytes], rows: list[tuple[Any, ...]]) -> None:
    lines = [
        json.dumps(dict(zip(COLUMN_NAMES, map(_json_cell, row), strict=False)), ensure_ascii=False)
        for row in rows
    ]
    stream.write(("\n".join(lines) + "\n").encode("utf-8"))


def write_files(
    targets: dict[str, ObjectStoragePath],
    batches: Iterable[list[tuple[Any, ...]]],
    *,
    row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
) -> int:
    """Stream ``batches`` into one object per format, each published atomically; return the rows written.

    :param targets: final path per format, e.g. ``{"jsonl": path / "x.jsonl"}``.
    :param row_group_size: Parquet rows per row group (default 10,000), held encoded until complete.
    """
    if "parquet" in targets and not parquet_available():
        raise EnKashConfigError("formats: 'parquet' needs arro3; install airflow-provider-enkash[parquet]")
    temps = {fmt: path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp" for fmt, path in targets.items()}
    streams: dict[str, IO[bytes]] = {}
    written = 0

    def rows_written_to_json_lines() -> Iterator[list[tuple[Any, ...]]]:
        """``batches``, each written to the JSON Lines (when asked for) as it passes, and counted."""
        nonlocal written
        json_lines = streams.get("jsonl")
        for rows in batches:
            if json_lines is not None:
                _write_json_lines(json_lines, rows)
            written += len(rows)
            yield rows

    try:
        for fmt, temp in temps.items():
            temp.parent.mkdir(parents=True, exist_ok=True)
            streams[fmt] = temp.open("wb")  # type: ignore[no-untyped-call]
        if "parquet" in streams:
            from airflow_provider_enkash.export.parquet import write_parquet_file

            write_parquet_file(
                streams["parquet"], rows_written_to_json_lines(), row_group_size=row_group_size
            )
        else:
            for _ in rows_written_to_json_lines():
                pass
        while streams:
            streams.popitem()[1].close()
        for fmt, temp in temps.items():
            temp.rename(targets[fmt])
        return written
    except BaseException:
        for stream in streams.values():
            stream.close()
        for temp in temps.values():
            if temp.exists():
                temp.unlink()
        raise
