"""QuietPeriodTrigger: sleep in the triggerer until the next look-up of an unclear load is due.

Unlike the standard ``DateTimeTrigger`` it hands ``state`` back in its event, so a task that waits
for the quiet period carries what it knows (the send time ``T``, the absent look-ups so far)
through the deferral, on whichever worker it resumes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class QuietPeriodTrigger(BaseTrigger):
    """Yield one event ``{"state": state, "woke_at": epoch s}`` at ``moment``.

    :param moment: Unix time (s) to wake at.
    :param state: JSON-serialisable data handed back unchanged in the event.
    """

    def __init__(self, *, moment: float, state: dict[str, Any] | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.moment = float(moment)
        self.state = state or {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"moment": self.moment, "state": self.state},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        delay = self.moment - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        yield TriggerEvent({"state": self.state, "woke_at": time.time()})  # type: ignore[no-untyped-call]
