"""Moved to :mod:`airflow_provider_enkash._client.token_cache`; this path keeps working."""

from __future__ import annotations

from airflow_provider_enkash._client.token_cache import (
    TOKEN_CACHE,
    Token,
    TokenCache,
    TokenKey,
)

__all__ = ["TOKEN_CACHE", "Token", "TokenCache", "TokenKey"]
