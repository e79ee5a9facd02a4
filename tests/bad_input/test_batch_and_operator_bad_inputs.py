"""Bad batches and bad operator arguments: a row-level report or an error naming the argument,
with nothing sent to the sandbox and nothing written to a ledger or outside the export destination."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airflow_provider_enkash.batch import BatchValidationError
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.operators.batch_load import EnKashBatchLoadOperator, EnKashBatchPlanOperator
from airflow_provider_enkash.transfers.enkash_to_storage import EnKashTransactionsToStorageOperator
from tests.batch.helpers import context

CARD = "EKCAAAAAA1"


def _load(tmp_path, **kwargs):
    return EnKashBatchLoadOperator(
        task_id="load", batch_id="bad-input", ledger_path=str(tmp_path / "ledger"), **kwargs
    )


def _report(sandbox, tmp_path, **source):
    with pytest.raises(BatchValidationError) as info:
        _load(tmp_path, **source).execute(context())
    assert sandbox.requests_total() == 0
    assert not (tmp_path / "ledger").exists()
    return {(p.row_number, p.field): p.problem for p in info.value.problems}


def test_utf16_csv_is_a_batch_problem_not_a_decode_crash(sandbox, tmp_path):
    source = tmp_path / "payroll.csv"
    source.write_bytes(f"enkash_card_id,amount\n{CARD},10.00\n".encode("utf-16"))
    report = _report(sandbox, tmp_path, source_path=str(source))
    assert list(report) == [(0, "source_path")] and "UTF-16" in report[(0, "source_path")]


def test_undecodable_bytes_are_reported_on_their_row_with_the_other_problems(sandbox, tmp_path):
    source = tmp_path / "payroll.csv"
    source.write_bytes(
        b"enkash_card_id,amount,remarks\n"
        b"EKCAAAAAA1,10.00,ok\n"
        b"EKCAAAAAA2,10.00,caf\xe9 latin-1\n"  # not UTF-8
        b"EKCAAAAAA3,1e3,exponent\n"
    )
    report = _report(sandbox, tmp_path, source_path=str(source))
    assert set(report) == {(2, "remarks"), (3, "amount")}
    assert "UTF-8" in report[(2, "remarks")]


def test_bad_json_lines_are_reported_per_row(sandbox, tmp_path):
    source = tmp_path / "payroll.jsonl"
    source.write_text(f'{{"enkash_card_id": "{CARD}", "amount": "1"}}\n{{not json\n[1, 2]\n')
    report = _report(sandbox, tmp_path, source_path=str(source))
    assert set(report) == {(2, "rows"), (3, "rows")}


@pytest.mark.parametrize("row_number", ["abc", "", "1.5", -1, 0, True, None, "٣"])
def test_xcom_rows_with_a_bad_row_number_are_reported(sandbox, tmp_path, row_number):
    rows = [
        {"enkash_card_id": CARD, "amount": "1"},
        {"enkash_card_id": "EKCAAAAAA2", "amount": "1", "row_number": row_number},
    ]
    report = _report(sandbox, tmp_path, rows=rows)
    assert list(report) == [(2, "row_number")]


def test_rows_that_are_not_mappings_are_reported(sandbox, tmp_path):
    report = _report(sandbox, tmp_path, rows=[{"enkash_card_id": CARD, "amount": "1"}, "EKCAAAAAA2,1", 7])
    assert set(report) == {(2, "rows"), (3, "rows")}


@pytest.mark.parametrize("amount", ["1e30", 10**30, "1e3", "١٠", "１０", "9" * 50])
def test_bad_amounts_are_row_problems_not_crashes(sandbox, tmp_path, amount):
    report = _report(
        sandbox,
        tmp_path,
        rows=[{"enkash_card_id": CARD, "amount": "1"}, {"enkash_card_id": "EKCAAAAAA2", "amount": amount}],
    )
    assert list(report) == [(2, "amount")]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": -3}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"concurrency": "8"}, "concurrency"),
        ({"requests_per_second": 0}, "requests_per_second"),
        ({"requests_per_second": float("nan")}, "requests_per_second"),
        ({"ledger_flush_rows": 0}, "ledger_flush_rows"),
        ({"ledger_flush_interval_s": -1}, "ledger_flush_interval_s"),
        ({"max_rows": 0}, "max_rows"),
        ({"max_amount_per_card": "1e30"}, "max_amount_per_card"),
        ({"max_batch_total": 10**30}, "max_batch_total"),
        ({"load_type": "LOAD MONEY"}, "load_type"),
    ],
)
def test_batch_load_arguments_are_checked_when_the_operator_is_built(sandbox, tmp_path, kwargs, field):
    with pytest.raises(EnKashValidationError) as info:
        _load(tmp_path, rows=[{"enkash_card_id": CARD, "amount": "1"}], **kwargs)
    assert info.value.field == field
    assert sandbox.requests_total() == 0
    assert not (tmp_path / "ledger").exists()


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"chunk_size": 0}, "chunk_size"), ({"max_rows": -1}, "max_rows")]
)
def test_batch_plan_arguments_are_checked_when_the_operator_is_built(kwargs, field):
    with pytest.raises(EnKashValidationError) as info:
        EnKashBatchPlanOperator(task_id="plan", rows=[{"enkash_card_id": CARD, "amount": "1"}], **kwargs)
    assert info.value.field == field


@pytest.mark.parametrize(
    "prefix", ["../../x_", "sub/x_", "..\\x_", "/abs_", "s3://other-bucket/x_", "x\x00_"]
)
def test_file_prefix_cannot_leave_the_destination(tmp_path, prefix):
    with pytest.raises(EnKashValidationError) as info:
        EnKashTransactionsToStorageOperator(
            task_id="files", destination=str(tmp_path / "out"), file_prefix=prefix
        )
    assert info.value.field == "file_prefix"


def test_templated_file_prefix_is_checked_after_rendering(sandbox, tmp_path):
    operator = EnKashTransactionsToStorageOperator(
        task_id="files", destination=f"file://{tmp_path}/a/b/out", file_prefix="{{ params.prefix }}"
    )
    operator.file_prefix = "../../x_"  # what rendering the template gave
    start = datetime(2025, 1, 2, tzinfo=UTC)
    with pytest.raises(EnKashValidationError, match="file_prefix"):
        operator.execute({"data_interval_start": start, "data_interval_end": start.replace(day=3)})
    assert sandbox.requests_total() == 0
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
