"""Transaction status vocabulary.

EnKash documents only ``CREATED``; the rest are the sandbox's and the payout
product's words (REFERENCE.md sections 5.4 and 7). Sensors and loads take the
success and failure sets as parameters, so a real account's vocabulary can be
configured without a release.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class TransactionStatus(str, enum.Enum):
    """Known transaction statuses; unknown strings are treated as non-terminal."""

    CREATED = "CREATED"
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    REVERSED = "REVERSED"
    REJECTED = "REJECTED"

    def is_success(self) -> bool:
        return self.value in DEFAULT_SUCCESS_STATUSES

    def is_terminal(self) -> bool:
        return self.value in DEFAULT_SUCCESS_STATUSES | DEFAULT_FAILURE_STATUSES


DEFAULT_SUCCESS_STATUSES: frozenset[str] = frozenset({"SUCCESS"})
DEFAULT_FAILURE_STATUSES: frozenset[str] = frozenset({"FAILED", "REVERSED", "REJECTED"})


class StatusSets:
    """Which raw status strings count as success and failure; everything else is still pending.

    :param success: statuses that mean "settled, money moved" (default ``SUCCESS``).
    :param failure: statuses that mean "settled, did not happen or was undone"
        (default ``FAILED``, ``REVERSED``, ``REJECTED``).
    """

    def __init__(self, success: Iterable[str] | None = None, failure: Iterable[str] | None = None) -> None:
        self.success = frozenset(s.upper() for s in (success or DEFAULT_SUCCESS_STATUSES))
        self.failure = frozenset(s.upper() for s in (failure or DEFAULT_FAILURE_STATUSES))
        if self.success & self.failure:
            raise ValueError(f"statuses in both success and failure sets: {sorted(self.success & self.failure)}")

    def is_success(self, status: str | None) -> bool:
        return (status or "").upper() in self.success

    def is_failure(self, status: str | None) -> bool:
        return (status or "").upper() in self.failure

    def is_terminal(self, status: str | None) -> bool:
        return self.is_success(status) or self.is_failure(status)
