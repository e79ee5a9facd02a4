"""Moved to :mod:`airflow_provider_enkash._client.settings` (the settings) and ``_client.extras``
(parsing a connection); this path keeps working."""

from __future__ import annotations

from airflow_provider_enkash import DEFAULT_CONN_ID
from airflow_provider_enkash._client.extras import (
    DEPRECATED_EXTRAS,
    KNOWN_EXTRAS,
    settings_from_connection,
)
from airflow_provider_enkash._client.settings import (
    BASIC_AUTH_MODES,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_LOAD_AMOUNT,
    DEFAULT_READ_TIMEOUT_S,
    DEFAULT_REFERENCE_FIELDS,
    DEFAULT_REFERENCE_MAX_LENGTH,
    DEFAULT_RESEND_QUIET_PERIOD_S,
    DEFAULT_RESPONSE_TIMEZONE,
    DEFAULT_SEARCH_CAP,
    DEFAULT_TOKEN_LEEWAY_S,
    REQUEST_DATE_FORMATS,
    EnKashSettings,
)

__all__ = [
    "BASIC_AUTH_MODES",
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_CONN_ID",
    "DEFAULT_MAX_LOAD_AMOUNT",
    "DEFAULT_READ_TIMEOUT_S",
    "DEFAULT_REFERENCE_FIELDS",
    "DEFAULT_REFERENCE_MAX_LENGTH",
    "DEFAULT_RESEND_QUIET_PERIOD_S",
    "DEFAULT_RESPONSE_TIMEZONE",
    "DEFAULT_SEARCH_CAP",
    "DEFAULT_TOKEN_LEEWAY_S",
    "DEPRECATED_EXTRAS",
    "EnKashSettings",
    "KNOWN_EXTRAS",
    "REQUEST_DATE_FORMATS",
    "settings_from_connection",
]
