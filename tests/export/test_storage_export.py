"""EnKashTransactionsToStorageOperator against the sandbox: JSON Lines and Parquet, atomic, rerun-safe."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_enkash.exceptions import EnKashServerError, EnKashValidationError
from airflow_provider_enkash.transfers.enkash_to_storage import EnKashTransactionsToStorageOperator
from tests.export.conftest import api_records, day, run_export

NAME = "enkash_transactions_20250102T000000Z_20250103T000000Z"


def test_jsonl_and_parquet_hold_the_window_and_reruns_replace_them(seeded, tmp_path):
    expected = api_records(seeded, *day(2))
    operator = EnKashTransactionsToStorageOperator(
        task_id="files",
        destination=f"file://{tmp_path}/out",
        formats=("jsonl", "parquet"),
    )
    run_export(operator, *day(2))
    summary = run_export(operator, *day(2))
    assert summary["paths"] == {
        "jsonl": f"file://{tmp_path}/out/{NAME}.jsonl",
        "parquet": f"file://{tmp_path}/out/{NAME}.parquet",
    }
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"{NAME}.jsonl",
        f"{NAME}.parquet",
    ]

    text = (tmp_path / "out" / f"{NAME}.jsonl").read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert summary["fetched"] == len(lines) == len(expected)
    assert {r["enkash_transaction_id"]: Decimal(r["principal_amount"]) for r in lines} == {
        i: Decimal(str(r["principalAmount"])) for i, r in expected.items()
    }
    assert all(r["txn_date"].startswith("2025-01-02T") and r["txn_date"].endswith("Z") for r in lines)
    assert not re.search(
        r"\d{12,}",
        re.sub(
            r'"(card_kit_number|retrieval_ref_no|trace_no|txn_details_id)": "\d+"',
            "",
            text,
        ),
    )

    table = pq.read_table(tmp_path / "out" / f"{NAME}.parquet")
    assert table.num_rows == len(expected)
    assert table.schema.field("principal_amount").type == pa.decimal128(18, 2)
    assert str(table.schema.field("txn_date").type) == "timestamp[ms, tz=UTC]"
    assert sorted(table.column("enkash_transaction_id").to_pylist()) == sorted(expected)


def test_a_failed_read_leaves_no_file_behind(seeded, tmp_path):
    seeded.post(
        "faults",
        {"operation": "get_all_transactions", "mode": "http_500", "count": 100},
    )
    operator = EnKashTransactionsToStorageOperator(task_id="files", destination=f"file://{tmp_path}/out")
    with pytest.raises(EnKashServerError):
        run_export(operator, *day(2))
    assert list((tmp_path / "out").iterdir()) == []


def test_formats_are_validated_when_the_dag_is_parsed(tmp_path):
    with pytest.raises(EnKashValidationError, match="formats"):
        EnKashTransactionsToStorageOperator(task_id="files", destination=str(tmp_path), formats=("csv",))
