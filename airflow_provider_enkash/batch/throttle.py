"""An optional requests-per-second ceiling shared by every thread of a batch.

:class:`RateLimiter` spaces calls evenly (at most ``rate`` per second, with a
small burst); :class:`RateLimitedEnKashHook` takes a permit before every
EnKash call, loads and reference look-ups alike, so one hook, one session and
one token serve the whole thread pool under the ceiling.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.hooks.enkash import DEFAULT_POOL_SIZE, EnKashHook


class RateLimiter:
    """A thread-safe token bucket.

    :param rate: permits per second (> 0).
    :param burst: permits that may be taken at once after a pause (default 1: strictly even spacing).
    """

    def __init__(self, rate: float, *, burst: int = 1) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
            raise EnKashValidationError("requests_per_second", f"must be a number > 0, got {rate!r}")
        self.rate = float(rate)
        self.burst = max(1, int(burst))
        self._tokens = float(self.burst)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until a permit is free, then take it."""
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait_s = (1 - self._tokens) / self.rate
            time.sleep(wait_s)


class RateLimitedEnKashHook(EnKashHook):
    """An :class:`EnKashHook` whose calls to EnKash share one :class:`RateLimiter`.

    :param requests_per_second: ceiling on card calls per second across all threads.
    """

    def __init__(
        self,
        enkash_conn_id: str = EnKashHook.default_conn_name,
        *,
        requests_per_second: float,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        super().__init__(enkash_conn_id, pool_size=pool_size)
        self.rate_limiter = RateLimiter(requests_per_second)

    def call(self, operation: str, payload: dict[str, Any]) -> Any:
        self.rate_limiter.acquire()
        return super().call(operation, payload)
