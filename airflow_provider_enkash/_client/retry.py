"""Retry policy by kind of call (DESIGN.md decision 2), built on tenacity.

Reads are retried on transport errors, 429 (honouring ``Retry-After``) and
5xx, with jittered exponential backoff; nothing else is ever resent here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from airflow_provider_enkash.exceptions import EnKashConnectionError, EnKashRateLimitError, EnKashServerError

log = logging.getLogger(__name__)
T = TypeVar("T")

BACKOFF_MULTIPLIER_S = 0.5
RETRYABLE_READ_ERRORS = (EnKashConnectionError, EnKashRateLimitError, EnKashServerError)


class _WaitRetryAfterOrBackoff:
    """Wait ``Retry-After`` when the server gave one, else jittered exponential backoff; both capped."""

    def __init__(self, cap_s: float) -> None:
        self._cap_s = cap_s
        self._backoff = wait_random_exponential(multiplier=BACKOFF_MULTIPLIER_S, max=cap_s)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), self._cap_s)
        return float(self._backoff(state))


def _read_policy(max_retries: int, max_wait_s: float) -> dict[str, Any]:
    return {
        "retry": retry_if_exception_type(RETRYABLE_READ_ERRORS),
        "wait": _WaitRetryAfterOrBackoff(max_wait_s),
        "stop": stop_after_attempt(max_retries + 1),
        "before_sleep": before_sleep_log(log, logging.WARNING),
        "reraise": True,
    }


def read_retrying(*, max_retries: int, max_wait_s: float) -> Retrying:
    """A tenacity ``Retrying`` for read calls: ``max_retries`` extra attempts, waits capped at ``max_wait_s``."""
    return Retrying(**_read_policy(max_retries, max_wait_s))


def async_read_retrying(*, max_retries: int, max_wait_s: float) -> AsyncRetrying:
    """The same policy for coroutines: waits are ``await asyncio.sleep``, never a sleeping thread."""
    return AsyncRetrying(**_read_policy(max_retries, max_wait_s))


def backoff_seconds(attempt: int, *, max_wait_s: float, retry_after: float | None = None) -> float:
    """Wait before attempt ``attempt + 1`` of a write that is safe to resend (429, not sent)."""
    if retry_after is not None:
        return min(retry_after, max_wait_s)
    return min(max_wait_s, BACKOFF_MULTIPLIER_S * 2.0**attempt)


class ReadRetries:
    """Runs read calls under the read policy; one object serves all threads.

    The first attempt runs outside tenacity (most calls succeed, and tenacity's loop costs more
    than the call's own client work); a retryable failure is replayed as tenacity's first attempt,
    so waits, logs and limits are those of the policy.

    :param max_retries: extra attempts after the first.
    :param max_wait_s: cap on one wait, seconds.
    """

    def __init__(self, *, max_retries: int, max_wait_s: float) -> None:
        self._max_retries = max_retries
        self._max_wait_s = max_wait_s
        self._retrying: Retrying | None = None  # tenacity keeps per-call state thread-local

    def run(self, attempt: Callable[[], T]) -> T:
        """``attempt()``, retried on :data:`RETRYABLE_READ_ERRORS`."""
        try:
            return attempt()
        except RETRYABLE_READ_ERRORS as exc:
            first_failure: BaseException | None = exc
        if self._retrying is None:
            self._retrying = read_retrying(max_retries=self._max_retries, max_wait_s=self._max_wait_s)
        for try_ in self._retrying:
            with try_:
                if first_failure is not None:
                    failure, first_failure = first_failure, None
                    raise failure
                return attempt()
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover
