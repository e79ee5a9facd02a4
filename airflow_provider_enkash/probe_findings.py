"""What ``enkash-probe`` reads from transaction records alone: status words, timestamp formats, reference fields.

Pure functions over already-decrypted records; no I/O. Kept apart from the probe's calls
so each detection is small and testable.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_enkash.statuses import UNKNOWN_STATUS, StatusSets

TIMESTAMP_FIELDS = ("txnDate", "createdOn", "modifiedOn")
# Fields a load's reference has been seen in or may plausibly be in (REFERENCE.md sections 6, 9.6, 10, 11).
REFERENCE_CANDIDATES = ("pgReferenceNumber", "uniqueReferenceNumber", "uniqueReferenceNum", "referenceNumber")
_TIMESTAMP_SHAPES = (
    ("iso-utc-millis", re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")),
    ("iso-utc", re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})")),
    ("iso-no-zone", re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?")),
    (
        "MMM d, yyyy h:mm:ss a (no zone)",
        re.compile(r"[A-Z][a-z]{2} \d{1,2}, \d{4},? \d{1,2}:\d{2}:\d{2} [AP]M"),
    ),
    ("epoch-millis", re.compile(r"\d{13}")),
)
_SUCCESS_HINTS = ("SUCC", "COMPLET", "SETTLED", "APPROV", "PROCESSED")
_FAILURE_HINTS = ("FAIL", "REVERS", "REJECT", "DECLIN", "CANCEL", "REFUND")


def timestamp_shape(value: Any) -> str:
    """A name for the format of one timestamp value (``other`` when none fits)."""
    text = str(value).strip()
    return next((name for name, pattern in _TIMESTAMP_SHAPES if pattern.fullmatch(text)), "other")


def timestamp_formats(records: Iterable[Mapping[str, Any]]) -> dict[str, Counter[str]]:
    """Per timestamp field, how many records carried each format."""
    seen: dict[str, Counter[str]] = {}
    for record in records:
        for name in TIMESTAMP_FIELDS:
            if record.get(name) not in (None, ""):
                seen.setdefault(name, Counter())[timestamp_shape(record[name])] += 1
    return seen


def status_words(records: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """How many records carried each ``status`` word."""
    return Counter(str(r["status"]) for r in records if r.get("status") not in (None, ""))


def classify_statuses(words: Iterable[str], current: StatusSets) -> dict[str, list[str]]:
    """Success, failure and pending sets: ``current`` plus the words seen it does not know; a guess to check.

    Unknown words are sorted by their spelling (``SUCCESSFUL`` -> success, ``FAILURE`` -> failure);
    a word that fits neither becomes pending, which never settles a load on its own.
    """
    success, failure, pending = set(current.success), set(current.failure), set(current.pending)
    for word in (w.upper() for w in words):
        if current.classify(word) != UNKNOWN_STATUS:
            continue
        if any(hint in word for hint in _FAILURE_HINTS):
            failure.add(word)
        elif any(hint in word for hint in _SUCCESS_HINTS):
            success.add(word)
        else:
            pending.add(word)
    return {"success": sorted(success), "failure": sorted(failure), "pending": sorted(pending)}


def reference_fields(records: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """Among credit records, how many carried a non-empty value in each candidate reference field."""
    seen: Counter[str] = Counter()
    for record in records:
        if record.get("cardTransactionType", "CR") != "CR":
            continue
        for name in REFERENCE_CANDIDATES:
            if record.get(name) not in (None, ""):
                seen[name] += 1
    return seen


def record_id(record: Mapping[str, Any]) -> Any:
    """The transaction id of a record, whichever spelling it uses."""
    for name in (
        "enKashCardTransactionId",
        "enkashCardTransactionId",
        "enKashTransactionId",
        "enkashCardTxnId",
    ):
        if record.get(name):
            return record[name]
    return None
