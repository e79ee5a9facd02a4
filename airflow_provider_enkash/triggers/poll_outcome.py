"""One poll's result and what it means: the part of waiting the sensors and the trigger share.

:class:`PollResult` is what one poll of a watch found; :func:`outcome_of` maps it to the one
:class:`Outcome` both the sensor and the trigger act on (or None: keep waiting);
:func:`resolve_statuses` picks the status words (given, else the connection's extras);
:func:`run_poll` / :func:`arun_poll` run a watch's searches over the blocking hook or the
async client.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.card_data import json_safe, scrub
from airflow_provider_enkash.statuses import StatusSets

if TYPE_CHECKING:
    from airflow_provider_enkash.async_client import AsyncEnKashClient
    from airflow_provider_enkash.hooks.enkash import EnKashHook

# A poll as a generator: it yields (client method name, keyword arguments) for each search and
# receives the result, so one piece of logic runs over the blocking hook and the async client.
PollSteps = Generator[tuple[str, dict[str, Any]], Any, "PollResult"]


def redact_transaction(record: Any) -> Any:
    """A copy of ``record`` without card secrets (nested too; ``maskedCard`` stays), amounts as strings."""
    return json_safe(scrub(record))


class PollState(str, enum.Enum):
    """What one poll found; ``UNKNOWN``: the answer cannot tell (a status word in none of the
    configured sets, or a search that ignored the transaction id filter). Only success and
    failure settle a watch."""

    PENDING = "pending"
    NOT_FOUND = "not_found"
    SUCCESS = "success"
    FAILURE = "failure"
    UNKNOWN = "unknown"


class Outcome(str, enum.Enum):
    """How a wait ends: the sensor's result and the trigger's event status."""

    SUCCESS = "success"
    FAILURE = "failure"
    NOT_FOUND = "not_found"  # not found after the grace period (a trigger event says failure)


@dataclass(frozen=True)
class PollResult:
    """The outcome of one poll.

    :param state: pending, not found, success or failure.
    :param message: one human-readable line naming the transaction (or window) and status.
    :param transaction: the redacted record (single-transaction watch), else None.
    :param summary: for a window: counts by status and a sample of pending ids; else None.
    """

    state: PollState
    message: str
    transaction: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None


def outcome_of(result: PollResult, *, not_found_deadline: float | None) -> Outcome | None:
    """How ``result`` ends the wait, or None to keep waiting.

    :param not_found_deadline: epoch seconds after which "not found" ends it (None: never).
    """
    if result.state is PollState.SUCCESS:
        return Outcome.SUCCESS
    if result.state is PollState.FAILURE:
        return Outcome.FAILURE
    if (
        result.state is PollState.NOT_FOUND
        and not_found_deadline is not None
        and time.time() >= not_found_deadline
    ):
        return Outcome.NOT_FOUND
    return None


def ending_message(outcome: Outcome, result: PollResult) -> str:
    """The line that reports how the wait ended."""
    if outcome is Outcome.NOT_FOUND:
        return f"{result.message}; gave up after the not-found grace period"
    return result.message


def resolve_statuses(
    connection: StatusSets,
    *,
    success: Iterable[str] | None,
    failure: Iterable[str] | None,
    pending: Iterable[str] | None,
) -> StatusSets:
    """The status words a watch uses: each set given, else the connection's (its status-word extras)."""
    return StatusSets(
        success=connection.success if success is None else success,
        failure=connection.failure if failure is None else failure,
        pending=connection.pending if pending is None else pending,
    )


def run_poll(steps: PollSteps, hook: EnKashHook) -> PollResult:
    """Run a watch's poll with blocking hook calls (sensors' ``poke``)."""
    try:
        request = next(steps)
        while True:
            method, arguments = request
            request = steps.send(getattr(hook, method)(**arguments))
    except StopIteration as done:
        result: PollResult = done.value
        return result


async def arun_poll(steps: PollSteps, client: AsyncEnKashClient) -> PollResult:
    """Run a watch's poll with the async client's calls (the trigger): same searches, awaited."""
    try:
        request = next(steps)
        while True:
            method, arguments = request
            request = steps.send(await getattr(client, method)(**arguments))
    except StopIteration as done:
        result: PollResult = done.value
        return result
