"""Transaction status vocabulary.

EnKash documents only ``CREATED``; the rest are the sandbox's and the payout
product's words (REFERENCE.md sections 5.4 and 7). The connection extras
``success_statuses``, ``failure_statuses`` and ``pending_statuses`` configure a
real account's vocabulary without a release; loads, batches and reconcile read
them from there, sensors take them as parameters. For money, a word in none of
the three sets is *unclear*: never read as success, never as failure.
"""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_SUCCESS_STATUSES: frozenset[str] = frozenset({"SUCCESS"})
DEFAULT_FAILURE_STATUSES: frozenset[str] = frozenset({"FAILED", "REVERSED", "REJECTED"})
DEFAULT_PENDING_STATUSES: frozenset[str] = frozenset({"CREATED", "PENDING", "PROCESSING"})
SUCCESS, FAILURE, PENDING, UNKNOWN_STATUS = "success", "failure", "pending", "unknown"


class StatusSets:
    """Which raw status strings count as success and failure; everything else is still pending.

    :param success: statuses that mean "settled, money moved" (default ``SUCCESS``).
    :param failure: statuses that mean "settled, did not happen or was undone"
        (default ``FAILED``, ``REVERSED``, ``REJECTED``).
    :param pending: statuses that mean "accepted, not settled yet" (default ``CREATED``,
        ``PENDING``, ``PROCESSING``); any other word is :data:`UNKNOWN_STATUS` to :meth:`classify`.
    """

    def __init__(
        self,
        success: Iterable[str] | None = None,
        failure: Iterable[str] | None = None,
        pending: Iterable[str] | None = None,
    ) -> None:
        self.success = frozenset(s.upper() for s in (success or DEFAULT_SUCCESS_STATUSES))
        self.failure = frozenset(s.upper() for s in (failure or DEFAULT_FAILURE_STATUSES))
        self.pending = (
            frozenset(s.upper() for s in (pending or DEFAULT_PENDING_STATUSES)) - self.success - self.failure
        )
        if self.success & self.failure:
            raise ValueError(
                f"statuses in both success and failure sets: {sorted(self.success & self.failure)}"
            )

    def classify(self, status: str | None) -> str:
        """``success``, ``failure``, ``pending``, or ``unknown`` for a word in none of the sets."""
        word = (status or "").upper()
        if word in self.success:
            return SUCCESS
        if word in self.failure:
            return FAILURE
        return PENDING if word in self.pending else UNKNOWN_STATUS

    def is_success(self, status: str | None) -> bool:
        return (status or "").upper() in self.success

    def is_failure(self, status: str | None) -> bool:
        return (status or "").upper() in self.failure

    def is_terminal(self, status: str | None) -> bool:
        return self.is_success(status) or self.is_failure(status)
