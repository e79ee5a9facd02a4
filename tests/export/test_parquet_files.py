"""Parquet exports (written by arro3) read back with pyarrow: same types as ever, same cells as the JSON Lines."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_enkash.exceptions import EnKashServerError
from airflow_provider_enkash.export.errors import EnKashRecordError
from airflow_provider_enkash.export.records import COLUMNS, to_row
from airflow_provider_enkash.export.storage_sink import write_files
from airflow_provider_enkash.transfers.enkash_to_storage import EnKashTransactionsToStorageOperator
from tests.export.conftest import day, run_export
from tests.export.test_timestamps_windows_records import RECORD

NAME = "enkash_transactions_20250102T000000Z_20250103T000000Z"
# The Arrow types of the files written with pyarrow before (what readers of older files saw).
ARROW_TYPES = {
    "id": pa.string(),
    "text": pa.string(),
    "card": pa.string(),
    "amount": pa.decimal128(18, 2),
    "foreign_amount": pa.decimal128(28, 8),
    "paise": pa.int64(),
    "timestamp": pa.timestamp("ms", tz="UTC"),
    "export_time": pa.timestamp("us", tz="UTC"),
}
# Their Parquet logical types, as pyarrow prints them.
LOGICAL_TYPES = {
    "id": "String",
    "text": "String",
    "card": "String",
    "amount": "Decimal(precision=18, scale=2)",
    "foreign_amount": "Decimal(precision=28, scale=8)",
    "paise": "None",
    "timestamp": "Timestamp(isAdjustedToUTC=true, timeUnit=milliseconds, is_from_converted_type=false, "
    "force_set_converted_type=false)",
    "export_time": "Timestamp(isAdjustedToUTC=true, timeUnit=microseconds, is_from_converted_type=false, "
    "force_set_converted_type=false)",
}


def _typed(column_kind: str, value: object) -> object:
    """A JSON Lines cell as the Python value its Parquet cell holds."""
    if value is None:
        return None
    if column_kind in ("amount", "foreign_amount"):
        return Decimal(str(value))
    if column_kind in ("timestamp", "export_time"):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return value


def test_parquet_keeps_its_types_and_holds_the_json_lines_cells(seeded, tmp_path):
    operator = EnKashTransactionsToStorageOperator(
        task_id="files", destination=f"file://{tmp_path}", formats=("jsonl", "parquet"), row_group_size=300
    )
    summary = run_export(operator, *day(2))
    parquet = tmp_path / f"{NAME}.parquet"

    assert pq.read_schema(parquet) == pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in COLUMNS])
    file = pq.ParquetFile(parquet)
    assert {c.name: str(file.schema.column(i).logical_type) for i, c in enumerate(COLUMNS)} == {
        c.name: LOGICAL_TYPES[c.kind] for c in COLUMNS
    }
    groups = [file.metadata.row_group(i) for i in range(file.metadata.num_row_groups)]
    assert [g.num_rows for g in groups[:-1]] == [300] * (len(groups) - 1)
    assert len(groups) == math.ceil(summary["fetched"] / 300) > 1
    assert {g.column(i).compression for g in groups for i in range(len(COLUMNS))} == {"SNAPPY"}

    lines = (tmp_path / f"{NAME}.jsonl").read_text().splitlines()
    from_json = [{c.name: _typed(c.kind, json.loads(line)[c.name]) for c in COLUMNS} for line in lines]
    from_parquet = pq.read_table(parquet).to_pylist()
    assert len(from_parquet) == summary["fetched"] > 0
    for (
        row
    ) in from_parquet:  # JSON Lines write the export time to the millisecond, Parquet to the microsecond
        row["exported_at"] = row["exported_at"].replace(
            microsecond=row["exported_at"].microsecond // 1000 * 1000
        )
    assert from_parquet == from_json
    assert any(r["merchant_name"] is None for r in from_parquet)


def test_a_row_reads_back_exactly_nulls_included(tmp_path):
    exported_at = datetime(2025, 1, 24, 1, 2, 3, 456789, tzinfo=UTC)
    row = to_row({**RECORD, "fcyAmount": "12.5", "fcyCurrency": "USD"}, exported_at=exported_at)
    empty = to_row(
        {"enKashCardTransactionId": "ECTR-EMPTY", "txnDate": RECORD["txnDate"]}, exported_at=exported_at
    )
    write_files({"parquet": ObjectStoragePath(f"file://{tmp_path}/x.parquet")}, iter([[row], [empty]]))
    read = pq.read_table(tmp_path / "x.parquet").to_pylist()
    assert read == [dict(zip([c.name for c in COLUMNS], r, strict=True)) for r in (row, empty)]
    assert (read[0]["fcy_amount"], read[0]["exported_at"]) == (Decimal("12.5"), exported_at)
    assert {k for k, v in read[1].items() if v is not None} == {
        "enkash_transaction_id",
        "txn_date",
        "exported_at",
    }


@pytest.mark.parametrize("formats", [("parquet",), ("jsonl", "parquet")])
def test_a_failed_read_raises_its_own_error_and_leaves_no_file(seeded, tmp_path, formats):
    seeded.post("faults", {"operation": "get_all_transactions", "mode": "http_500", "count": 100})
    operator = EnKashTransactionsToStorageOperator(
        task_id="files", destination=f"file://{tmp_path}", formats=formats
    )
    with pytest.raises(EnKashServerError):
        run_export(operator, *day(2))
    assert list(tmp_path.iterdir()) == []


def test_an_empty_window_gives_a_parquet_file_with_the_columns_and_no_rows(tmp_path):
    written = write_files({"parquet": ObjectStoragePath(f"file://{tmp_path}/empty.parquet")}, iter([]))
    assert written == 0
    table = pq.read_table(tmp_path / "empty.parquet")
    assert (table.num_rows, table.column_names) == (0, [c.name for c in COLUMNS])


@pytest.mark.parametrize(
    ("change", "column", "value"),
    [
        ({"balance": Decimal("250.755")}, "balance", "250.755"),  # a third decimal
        ({"txnDetails": {"transactionFees": "0.001"}}, "transaction_fees", "0.001"),
        ({"balance": Decimal("1E+16")}, "balance", "1E+16"),  # 17 digits before the point, 16 fit
        ({"fcyAmount": Decimal("0.123456789")}, "fcy_amount", "0.123456789"),
    ],
)
def test_an_amount_the_column_cannot_hold_exactly_fails_naming_it_and_writes_nothing(
    tmp_path, change, column, value
):
    exported_at = datetime(2025, 1, 24, tzinfo=UTC)
    good = to_row(RECORD, exported_at=exported_at)
    bad = to_row({**RECORD, "enKashCardTransactionId": "ECTR-BAD", **change}, exported_at=exported_at)
    targets = {
        "jsonl": ObjectStoragePath(f"file://{tmp_path}/x.jsonl"),
        "parquet": ObjectStoragePath(f"file://{tmp_path}/x.parquet"),
    }
    with pytest.raises(EnKashRecordError) as caught:
        write_files(targets, iter([[good], [good, bad]]))
    assert (caught.value.transaction_id, caught.value.field) == ("ECTR-BAD", column)
    assert value in caught.value.problem
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "column", "expected"),
    [
        ({"balance": Decimal("1E+3")}, "balance", Decimal("1000.00")),  # an exponent
        ({"balance": Decimal("12.3400")}, "balance", Decimal("12.34")),  # zeros past the column's decimals
        ({"fcyAmount": Decimal("1E-8")}, "fcy_amount", Decimal("0.00000001")),
        (
            {"balance": Decimal("-9999999999999999.99")},
            "balance",
            Decimal("-9999999999999999.99"),
        ),  # 18 digits
    ],
)
def test_amounts_written_unusually_but_exactly_are_kept(tmp_path, change, column, expected):
    row = to_row({**RECORD, **change}, exported_at=datetime(2025, 1, 24, tzinfo=UTC))
    write_files({"parquet": ObjectStoragePath(f"file://{tmp_path}/x.parquet")}, iter([[row]]))
    value = pq.read_table(tmp_path / "x.parquet").column(column).to_pylist()[0]
    assert (value, str(value)) == (expected, str(expected))
