"""Request counters: per operation, per HTTP status and in total (admin calls are not counted)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Counters:
    """Thread-safe tallies; a dropped connection counts under the status ``dropped``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.operations: Counter[str] = Counter()
            self.statuses: Counter[str] = Counter()

    def record(self, operation: str, status: int | str) -> None:
        """Count one request to ``operation`` (``auth_token`` for the token call) answered with ``status``."""
        with self._lock:
            self.total += 1
            self.operations[operation] += 1
            self.statuses[str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": self.total, "operations": dict(self.operations), "statuses": dict(self.statuses)}
