"""Batch card loads: read, validate, load concurrently exactly once, record per row, reconcile.

The operators in :mod:`airflow_provider_enkash.operators.batch_load` compose these pieces; they can also be
used directly (e.g. from a ``@task``): :func:`read_batch` -> :func:`validate_rows` -> :class:`BatchRunner`
with a ledger from :func:`open_ledger` -> :func:`reconcile_ledger`.
"""

from __future__ import annotations

import importlib
from typing import Any

# Name -> module, imported on first use: importing one piece (e.g. the ledger in a DAG file) must not
# pull in the runner, the hook and requests.
_EXPORTS = {
    "BatchIncompleteError": "outcomes",
    "BatchRow": "rows",
    "BatchRunner": "runner",
    "BatchValidationError": "validation",
    "FileLedger": "ledger",
    "RateLimitedEnKashHook": "throttle",
    "RateLimiter": "throttle",
    "RowOutcome": "outcomes",
    "RowProblem": "validation",
    "SqlLedger": "ledger",
    "check_cards": "validation",
    "chunk_rows": "plan",
    "default_batch_id": "plan",
    "open_ledger": "ledger",
    "read_batch": "plan",
    "reconcile_ledger": "reconcile",
    "summarize": "outcomes",
    "validate_rows": "validation",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
