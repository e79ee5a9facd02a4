"""Moved to :mod:`airflow_provider_enkash._client.operations`; this path keeps working."""

from __future__ import annotations

from airflow_provider_enkash._client.operations import (
    DEFAULT_TOKEN_URL,
    OPERATIONS,
    TOKEN_PATH,
    Operation,
    OperationKind,
)

__all__ = ["DEFAULT_TOKEN_URL", "OPERATIONS", "Operation", "OperationKind", "TOKEN_PATH"]
