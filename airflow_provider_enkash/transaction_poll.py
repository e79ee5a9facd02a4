"""Deprecated: moved to :mod:`airflow_provider_enkash.triggers.transaction_watch` (the watches)
and :mod:`airflow_provider_enkash.triggers.poll_outcome` (a poll's result and outcome)."""

from __future__ import annotations

import warnings

from airflow_provider_enkash.triggers.poll_outcome import (
    PollResult,
    PollState,
    PollSteps,
    arun_poll,
    redact_transaction,
    run_poll,
)
from airflow_provider_enkash.triggers.transaction_watch import (
    DEFAULT_MAX_RECORDS_PER_RESPONSE,
    SAMPLE_SIZE,
    TransactionWatch,
    WindowWatch,
    make_watch,
)

__all__ = [
    "DEFAULT_MAX_RECORDS_PER_RESPONSE",
    "SAMPLE_SIZE",
    "PollResult",
    "PollState",
    "PollSteps",
    "TransactionWatch",
    "WindowWatch",
    "arun_poll",
    "make_watch",
    "redact_transaction",
    "run_poll",
]

warnings.warn(
    "airflow_provider_enkash.transaction_poll is deprecated: import from "
    "airflow_provider_enkash.triggers.transaction_watch or airflow_provider_enkash.triggers.poll_outcome",
    DeprecationWarning,
    stacklevel=2,
)
