"""Moved to :mod:`airflow_provider_enkash._client.reader`; this path keeps working."""

from __future__ import annotations

from airflow_provider_enkash._client.reader import (
    ABSENT,
    FOUND,
    UNKNOWN,
    ReferenceLookup,
    is_credit,
    look_up_reference,
    look_up_references,
    may_be_truncated,
    read_answer,
    reference_of,
)

__all__ = [
    "ABSENT",
    "FOUND",
    "ReferenceLookup",
    "UNKNOWN",
    "is_credit",
    "look_up_reference",
    "look_up_references",
    "may_be_truncated",
    "read_answer",
    "reference_of",
]
