"""Every "how many" argument is refused with the same words, naming the argument, before anything is sent."""

from __future__ import annotations

import pytest
from airflow.providers.sqlite.hooks.sqlite import SqliteHook

from airflow_provider_enkash.batch.plan import chunk_rows
from airflow_provider_enkash.batch.runner import BatchRunner
from airflow_provider_enkash.batch.validation import check_batch_arguments
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.export.sql_sink import SqlTransactionSink
from airflow_provider_enkash.operators.transaction_lookups import EnKashGetAllTransactionsOperator
from airflow_provider_enkash.transfers.enkash_to_storage import EnKashTransactionsToStorageOperator
from airflow_provider_enkash.triggers.transaction_watch import WindowWatch

WINDOW = {"txn_date_from": "2025-01-01T00:00:00Z", "txn_date_to": "2025-01-02T00:00:00Z"}


def _sites(hook, tmp_path):
    """Each site that takes a positive whole number, as ``(argument, call with value)``; the first two
    would send a load or open the SQL connection once the value is accepted."""
    card = {"enkash_card_id": "EKCAAAAAA1", "amount": "1", "unique_reference_number": "R-1"}
    return [
        ("max_attempts", lambda v: hook.load_card_balance(**card, max_attempts=v)),
        ("chunk_size", lambda v: SqlTransactionSink(SqliteHook(sqlite_conn_id="unused"), "t", chunk_size=v)),
        ("concurrency", lambda v: BatchRunner(hook, concurrency=v)),
        ("chunk_size", lambda v: chunk_rows([], chunk_size=v)),
        ("max_rows", lambda v: check_batch_arguments(max_rows=v)),
        ("ledger_flush_rows", lambda v: check_batch_arguments(ledger_flush_rows=v)),
        ("max_xcom_records", lambda v: EnKashGetAllTransactionsOperator(task_id="t", max_xcom_records=v)),
        (
            "row_group_size",
            lambda v: EnKashTransactionsToStorageOperator(
                task_id="t", destination=f"file://{tmp_path}", row_group_size=v
            ),
        ),
        (
            "max_records_per_response",
            lambda v: WindowWatch(**WINDOW, max_records_per_response=v).validated(),
        ),
    ]


@pytest.mark.parametrize("value", [0, -3, True, 2.0, "5"])
def test_one_wording_for_every_positive_whole_number(sandbox, hook, tmp_path, value):
    for argument, call in _sites(hook, tmp_path):
        with pytest.raises(EnKashValidationError) as info:
            call(value)
        assert info.value.field == argument
        assert str(info.value) == f"{argument}: must be a whole number >= 1, got {value!r}"
    assert sandbox.requests_total() == 0


def test_one_is_accepted_everywhere(hook, tmp_path):
    for _argument, call in _sites(hook, tmp_path)[2:]:
        call(1)
