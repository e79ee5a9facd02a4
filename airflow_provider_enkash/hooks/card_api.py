"""The operation methods are on :class:`~airflow_provider_enkash.hooks.enkash.EnKashHook`; the answer
readers moved to ``_client.answers`` and ``_client.timestamps``. This path keeps working."""

from __future__ import annotations

from airflow_provider_enkash._client.answers import (
    matching_reference,
    otp_request_id_of,
    records_of,
)
from airflow_provider_enkash._client.timestamps import (
    format_txn_date,
)

__all__ = ["format_txn_date", "matching_reference", "otp_request_id_of", "records_of"]
