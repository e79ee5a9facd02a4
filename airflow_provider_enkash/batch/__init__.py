"""Batch card loads: read, validate, load concurrently exactly once, record per row, reconcile.

The operators in :mod:`airflow_provider_enkash.operators.batch_load` compose these pieces; they can also be
used directly (e.g. from a ``@task``): :func:`read_batch` -> :func:`validate_rows` -> :class:`BatchRunner`
with a ledger from :func:`open_ledger` -> :func:`reconcile_ledger`.
"""

from airflow_provider_enkash.batch.ledger import FileLedger, SqlLedger, open_ledger
from airflow_provider_enkash.batch.outcomes import (
    BatchIncompleteError,
    RowOutcome,
    summarize,
)
from airflow_provider_enkash.batch.plan import chunk_rows, default_batch_id, read_batch
from airflow_provider_enkash.batch.reconcile import reconcile_ledger
from airflow_provider_enkash.batch.rows import BatchRow
from airflow_provider_enkash.batch.runner import BatchRunner
from airflow_provider_enkash.batch.throttle import RateLimitedEnKashHook, RateLimiter
from airflow_provider_enkash.batch.validation import (
    BatchValidationError,
    RowProblem,
    check_cards,
    validate_rows,
)

__all__ = [
    "BatchIncompleteError",
    "BatchRow",
    "BatchRunner",
    "BatchValidationError",
    "FileLedger",
    "RateLimitedEnKashHook",
    "RateLimiter",
    "RowOutcome",
    "RowProblem",
    "SqlLedger",
    "check_cards",
    "chunk_rows",
    "default_batch_id",
    "open_ledger",
    "read_batch",
    "reconcile_ledger",
    "summarize",
    "validate_rows",
]
