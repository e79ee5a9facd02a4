"""Load settlement moved to :mod:`airflow_provider_enkash.hooks._loads`; this path keeps working."""

from __future__ import annotations

from airflow_provider_enkash.hooks._loads import (
    ALREADY_LOADED,
    DEFAULT_LOAD_ATTEMPTS,
    LOADED,
    RESENT_AFTER_UNKNOWN,
)

__all__ = ["ALREADY_LOADED", "DEFAULT_LOAD_ATTEMPTS", "LOADED", "RESENT_AFTER_UNKNOWN"]
