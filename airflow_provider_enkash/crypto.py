"""Moved to :mod:`airflow_provider_enkash._client.crypto`; this path keeps working."""

from __future__ import annotations

from airflow_provider_enkash._client.crypto import (
    ENVELOPE_KEY,
    KEY_DERIVATIONS,
    decrypt_text,
    derive_key,
    dumps_payload,
    encrypt_text,
    is_envelope,
    loads_payload,
    open_envelope,
    seal,
    sealed_body,
)

__all__ = [
    "ENVELOPE_KEY",
    "KEY_DERIVATIONS",
    "decrypt_text",
    "derive_key",
    "dumps_payload",
    "encrypt_text",
    "is_envelope",
    "loads_payload",
    "open_envelope",
    "seal",
    "sealed_body",
]
