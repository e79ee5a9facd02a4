"""Moved to :mod:`airflow_provider_enkash._client.retry`; this path keeps working."""

from __future__ import annotations

from airflow_provider_enkash._client.retry import (
    BACKOFF_MULTIPLIER_S,
    RETRYABLE_READ_ERRORS,
    ReadRetries,
    T,
    async_read_retrying,
    backoff_seconds,
    read_retrying,
)

__all__ = [
    "BACKOFF_MULTIPLIER_S",
    "RETRYABLE_READ_ERRORS",
    "ReadRetries",
    "T",
    "async_read_retrying",
    "backoff_seconds",
    "read_retrying",
]
