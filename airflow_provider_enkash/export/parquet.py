"""Parquet files of export rows, streamed through arro3 (Rust's Arrow and Parquet writer; the ``parquet`` extra).

arro3 adds about 11 MiB to the process where ``pyarrow.parquet`` adds about 30. Its writer
pulls one Arrow record batch per batch of rows and holds only the row group being encoded, so
a file of any size needs the same memory. Column types (the Parquet logical types the files
always had): amounts ``DECIMAL(18, 2)``, foreign amounts ``DECIMAL(28, 8)``, paise ``INT64``,
API timestamps ``TIMESTAMP(MILLIS, UTC)``, the export time ``TIMESTAMP(MICROS, UTC)``, the rest
``STRING``; snappy-compressed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Literal

from arro3.core import Array, DataType, Field, RecordBatch, RecordBatchReader, Schema
from arro3.io import write_parquet

from airflow_provider_enkash.export.errors import EnKashRecordError
from airflow_provider_enkash.export.records import COLUMNS

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PAGE_ROWS = 1000  # rows per data page: the row group being filled holds ~2 MiB less than with 20,000
_STRING = DataType.string()

# An Array of one column's values, given the column's name and the rows' transaction ids (for errors).
_Builder = Callable[[Sequence[Any], str, Sequence[Any]], Array]


def _texts(values: Sequence[Any], column: str, ids: Sequence[Any]) -> Array:
    return Array(values, type=_STRING)


def _integers(values: Sequence[Any], column: str, ids: Sequence[Any]) -> Array:
    return Array(values, type=DataType.int64())


def _decimals(precision: int, scale: int) -> _Builder:
    """Decimals, exactly: Arrow casts their text to ``DECIMAL(precision, scale)`` in one call.

    The cast would round extra decimals and turn an overflow or an exponent into null; when a
    text has any of these, each amount is checked, and one the column cannot hold exactly is
    refused naming its transaction and column.
    """
    arrow_type = DataType.decimal128(precision, scale)
    unusual = re.compile(rf"[Ee]|\.\d{{{scale + 1}}}")  # an exponent, or more than `scale` decimals
    quantum = Decimal(1).scaleb(-scale)
    limit = Decimal(10) ** (precision - scale)

    def exact_text(value: Decimal, column: str, txn_id: Any) -> str:
        try:
            exact = value.quantize(quantum)
        except InvalidOperation:
            exact = None
        if exact is None or exact != value or abs(exact) >= limit:
            raise EnKashRecordError(
                transaction_id=txn_id,
                field=column,
                problem=f"{value} does not fit DECIMAL({precision}, {scale}) exactly",
            )
        return f"{exact:f}"

    def build(values: Sequence[Any], column: str, ids: Sequence[Any]) -> Array:
        texts = [None if v is None else str(v) for v in values]
        array = Array(texts, type=_STRING).cast(arrow_type)
        if array.null_count == texts.count(None) and not unusual.search(" ".join(t for t in texts if t)):
            return array
        exact = [None if v is None else exact_text(v, column, i) for v, i in zip(values, ids, strict=True)]
        return Array(exact, type=_STRING).cast(arrow_type)

    return build


def _timestamps(unit: Literal["ms", "us"]) -> _Builder:
    """Aware datetimes as whole ``unit``s (``ms``, ``us``) since 1970 UTC, truncated as pyarrow did."""
    arrow_type = DataType.timestamp(unit, tz="UTC")
    step = timedelta(milliseconds=1) if unit == "ms" else timedelta(microseconds=1)

    def build(values: Sequence[Any], column: str, ids: Sequence[Any]) -> Array:
        ticks = [None if t is None else (t - _EPOCH) // step for t in values]
        return Array(ticks, type=DataType.int64()).cast(arrow_type)

    return build


_BUILDERS: dict[str, _Builder] = {
    "id": _texts,
    "text": _texts,
    "card": _texts,
    "paise": _integers,
    "amount": _decimals(18, 2),
    "foreign_amount": _decimals(28, 8),
    "timestamp": _timestamps("ms"),
    "export_time": _timestamps("us"),
}
_COLUMN_BUILDERS = [(c.name, _BUILDERS[c.kind]) for c in COLUMNS]


def record_batch(rows: Sequence[tuple[Any, ...]]) -> RecordBatch:
    """Export rows (tuples in :data:`~airflow_provider_enkash.export.records.COLUMNS` order) as one Arrow batch."""
    columns = list(zip(*rows, strict=True))
    ids = columns[0]
    arrays = [
        build(values, name, ids) for (name, build), values in zip(_COLUMN_BUILDERS, columns, strict=True)
    ]
    return RecordBatch.from_arrays(arrays, schema=SCHEMA)


SCHEMA = Schema([Field(name, build([], name, []).type) for name, build in _COLUMN_BUILDERS])


def write_parquet_file(
    stream: IO[bytes], batches: Iterable[list[tuple[Any, ...]]], *, row_group_size: int
) -> None:
    """Write every batch of rows to ``stream`` as one Parquet file, ``row_group_size`` rows per row group.

    The writer pulls the batches; an exception raised while producing them (a failed read, a
    bad amount) ends the file early and is raised again here as itself (arro3 would wrap it).
    """
    failure: list[BaseException] = []

    def arrow_batches() -> Iterator[RecordBatch]:
        try:
            for rows in batches:
                if rows:
                    yield record_batch(rows)
        except BaseException as exc:  # raised again below, once the writer has let go of the stream
            failure.append(exc)

    write_parquet(
        RecordBatchReader.from_batches(SCHEMA, arrow_batches()),
        stream,
        max_row_group_size=row_group_size,
        data_page_row_count_limit=_PAGE_ROWS,
        compression="snappy",
    )
    if failure:
        raise failure[0]
