"""Moved to :mod:`airflow_provider_enkash._client.reader`; this path keeps working."""

from __future__ import annotations

from airflow_provider_enkash._client.reader import (
    ABSENT,
    FOUND,
    MAX_SPAN,
    MIN_SPAN,
    UNKNOWN,
    ReferenceLookup,
    WindowPart,
    WindowTooDense,
    WindowWalk,
    is_credit,
    look_up_reference,
    look_up_references,
    may_be_truncated,
    read_answer,
    reference_of,
    window_middle,
)

__all__ = [
    "ABSENT",
    "FOUND",
    "MAX_SPAN",
    "MIN_SPAN",
    "ReferenceLookup",
    "UNKNOWN",
    "WindowPart",
    "WindowTooDense",
    "WindowWalk",
    "is_credit",
    "look_up_reference",
    "look_up_references",
    "may_be_truncated",
    "read_answer",
    "reference_of",
    "window_middle",
]
