"""Moved to :mod:`airflow_provider_enkash._client.token_grant`; this path keeps working."""

from __future__ import annotations

from airflow_provider_enkash._client.token_grant import (
    TOKEN_OPERATION,
    fetch_token,
    read_token_answer,
    token_form,
    token_key,
    token_transport_error,
)

__all__ = [
    "TOKEN_OPERATION",
    "fetch_token",
    "read_token_answer",
    "token_form",
    "token_key",
    "token_transport_error",
]
