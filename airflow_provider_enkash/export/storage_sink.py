"""The file destination: JSON Lines (and Parquet when pyarrow is installed) on any ObjectStoragePath.

Each format is written to a temporary sibling object first and renamed over
the final name when complete, so readers never see a partial file and a
rerun replaces the previous one (``file://`` renames atomically; object
stores copy server-side, and the final key only ever holds a whole object).
Rows stream through: JSON Lines line by line; Parquet turns each batch into
an Arrow record batch as it arrives (columnar, a fraction of the memory of
Python rows) and writes one row group per ``row_group_size`` rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_enkash.exceptions import EnKashConfigError
from airflow_provider_enkash.export.arguments import (  # noqa: F401  (their old import path)
    DEFAULT_ROW_GROUP_SIZE,
    FORMATS,
    check_file_prefix,
    check_formats,
    pyarrow_available,
)
from airflow_provider_enkash.export.records import COLUMN_NAMES, COLUMNS
from airflow_provider_enkash.export.timestamps import format_utc

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath


def _json_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, Decimal):
        return str(value)  # exact; JSON numbers would go through float in most readers
    return value


class _JsonLinesWriter:
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        lines = [
            json.dumps(dict(zip(COLUMN_NAMES, map(_json_cell, row), strict=False)), ensure_ascii=False)
            for row in rows
        ]
        self._stream.write(("\n".join(lines) + "\n").encode("utf-8"))

    def close(self) -> None:
        return None


class _ParquetWriter:
    def __init__(self, stream: IO[bytes], row_group_size: int) -> None:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        self._pa = pa
        types = {
            "id": pa.string(),
            "text": pa.string(),
            "card": pa.string(),
            "amount": pa.decimal128(18, 2),
            "foreign_amount": pa.decimal128(28, 8),
            "paise": pa.int64(),
            "timestamp": pa.timestamp("ms", tz="UTC"),
            "export_time": pa.timestamp("us", tz="UTC"),
        }
        self._schema = pa.schema([pa.field(c.name, types[c.kind]) for c in COLUMNS])
        self._writer = pq.ParquetWriter(stream, self._schema)
        self._batches: list[Any] = []  # Arrow record batches of the row group being filled
        self._pending = 0
        self._row_group_size = row_group_size

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            arrays = [
                self._pa.array(column, type=f.type)
                for column, f in zip(zip(*rows, strict=False), self._schema, strict=False)
            ]
            self._batches.append(self._pa.RecordBatch.from_arrays(arrays, schema=self._schema))
            self._pending += len(rows)
        if self._pending >= self._row_group_size:
            self._flush()

    def _flush(self) -> None:
        if self._batches:
            self._writer.write_table(self._pa.Table.from_batches(self._batches, schema=self._schema))
            self._batches, self._pending = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()


def write_files(
    targets: dict[str, ObjectStoragePath],
    batches: Iterable[list[tuple[Any, ...]]],
    *,
    row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
) -> int:
    """Stream ``batches`` into one object per format, each published atomically; return the rows written.

    :param targets: final path per format, e.g. ``{"jsonl": path / "x.jsonl"}``.
    :param row_group_size: Parquet rows per row group (default 10,000), buffered as Arrow batches.
    """
    if "parquet" in targets and not pyarrow_available():
        raise EnKashConfigError("formats: 'parquet' needs pyarrow; install airflow-provider-enkash[parquet]")
    temps = {fmt: path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp" for fmt, path in targets.items()}
    streams: list[IO[bytes]] = []
    try:
        writers = []
        for fmt, temp in temps.items():
            temp.parent.mkdir(parents=True, exist_ok=True)
            stream = temp.open("wb")  # type: ignore[no-untyped-call]
            streams.append(stream)
            writers.append(
                _JsonLinesWriter(stream) if fmt == "jsonl" else _ParquetWriter(stream, row_group_size)
            )
        written = 0
        for rows in batches:
            for writer in writers:
                writer.write(rows)
            written += len(rows)
        for writer in writers:
            writer.close()
        while streams:
            streams.pop().close()
        for fmt, temp in temps.items():
            temp.rename(targets[fmt])
        return written
    except BaseException:
        for stream in streams:
            stream.close()
        for temp in temps.values():
            if temp.exists():
                temp.unlink()
        raise
