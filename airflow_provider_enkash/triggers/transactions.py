"""EnKashTransactionTrigger: waits in the triggerer until a transaction, or a window of them, settles."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_enkash.async_client import AsyncEnKashClient, freeze_gc_once
from airflow_provider_enkash.coalesced_poll import EARLY_FRACTION, poll_coalesced
from airflow_provider_enkash.retry import RETRYABLE_READ_ERRORS
from airflow_provider_enkash.statuses import StatusSets
from airflow_provider_enkash.triggers.poll_outcome import (
    Outcome,
    PollResult,
    arun_poll,
    ending_message,
    outcome_of,
    resolve_statuses,
)
from airflow_provider_enkash.triggers.settings import coalescing_enabled
from airflow_provider_enkash.triggers.transaction_watch import (
    TransactionWatch,
    Watch,
    make_watch,
    watch_from_dict,
    watch_to_dict,
)

DEFAULT_POLL_INTERVAL_S = 60.0
PROGRESS_LOG_EVERY_S = 600.0  # 5,000 waiting triggers must not write 83 log lines a second
MAX_BACKOFF_FACTOR = 8  # after repeated 429/5xx/connection errors, wait at most 8 poll intervals


class EnKashTransactionTrigger(BaseTrigger):
    """Poll EnKash until the watched transaction (or window) settles, then yield exactly one event.

    Watches one transaction or every transaction in a window (``watch``: a
    :class:`~airflow_provider_enkash.triggers.transaction_watch.TransactionWatch` or ``WindowWatch``,
    or its :func:`~airflow_provider_enkash.triggers.transaction_watch.watch_to_dict` value). The event payload is ``{"status", "state", "message", "transaction",
    "summary"}`` (``state`` is the last poll's ``PollState`` value) with status ``success``, ``failure`` (a failure status, or not found after
    the grace period), ``timeout`` (``end_time`` passed) or ``error`` (a failure that polling
    again cannot fix, e.g. refused credentials). HTTP 429, 5xx and connection errors are polled
    again after a backoff that starts at ``poll_interval`` and doubles up to 8 intervals, so a
    struggling API never sees more calls than a healthy one.

    Polls are native async (:class:`~airflow_provider_enkash.async_client.AsyncEnKashClient`: no
    thread per round trip, a per-process bound on requests in flight); triggers watching
    transaction ids of one card account share their searches
    (:mod:`~airflow_provider_enkash.coalesced_poll`).

    :param enkash_conn_id: the EnKash connection; resolved inside the triggerer.
    :param end_time: wall-clock deadline, epoch seconds; at or after it the trigger polls once more
        and then yields ``timeout``.
    :param watch: what to wait for (a watch or its dict).
    :param poll_interval: seconds between polls (default 60).
    :param target_statuses: statuses meaning success (default: the connection's ``success_statuses``
        extra, else ``SUCCESS``).
    :param failure_statuses: statuses meaning failure (default: the connection's ``failure_statuses``,
        else ``FAILED``, ``REVERSED``, ``REJECTED``).
    :param pending_statuses: statuses meaning not settled yet (default: the connection's
        ``pending_statuses``, else ``CREATED``, ``PENDING``, ``PROCESSING``); a word in none of the
        three sets is unknown: never success or failure, the trigger keeps waiting.
    :param not_found_deadline: epoch seconds after which "not found" is a failure (default: wait
        until ``end_time``).
    :param legacy_watch: without ``watch``, the flattened fields of earlier releases
        (``enkash_transaction_id``, ``pg_reference_number``, ``enkash_card_id``, ``txn_date_from``,
        ``txn_date_to``, ``user_id``, ``company_id``, ``card_account_id``,
        ``max_records_per_response``): triggers stored by them still resume.
    """

    def __init__(
        self,
        *,
        enkash_conn_id: str,
        end_time: float,
        watch: Watch | Mapping[str, Any] | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL_S,
        target_statuses: Iterable[str] | None = None,
        failure_statuses: Iterable[str] | None = None,
        pending_statuses: Iterable[str] | None = None,
        not_found_deadline: float | None = None,
        **legacy_watch: Any,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        freeze_gc_once()
        self.enkash_conn_id = enkash_conn_id
        self.end_time = float(end_time)
        self.poll_interval = float(poll_interval)
        self.watch: Watch = _watch(watch, legacy_watch)
        self.target_statuses = _words(target_statuses)
        self.failure_statuses = _words(failure_statuses)
        self.pending_statuses = _words(pending_statuses)
        StatusSets(success=self.target_statuses, failure=self.failure_statuses)  # overlap fails here
        self.not_found_deadline = None if not_found_deadline is None else float(not_found_deadline)
        self.statuses = StatusSets()  # replaced by the connection's words in run()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and the keyword arguments of ``__init__`` (round-trips)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "enkash_conn_id": self.enkash_conn_id,
                "end_time": self.end_time,
                "watch": watch_to_dict(self.watch),
                "poll_interval": self.poll_interval,
                "target_statuses": self.target_statuses,
                "failure_statuses": self.failure_statuses,
                "pending_statuses": self.pending_statuses,
                "not_found_deadline": self.not_found_deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until a terminal outcome, the deadline or a non-retryable error; yield one event."""
        try:
            client = await AsyncEnKashClient.for_connection(self.enkash_conn_id)
        except Exception as exc:  # a missing or invalid connection: report it, do not crash the triggerer
            yield self._event(
                "error", f"connection {self.enkash_conn_id!r} unusable: {type(exc).__name__}: {exc}"
            )
            return
        self.statuses = resolve_statuses(
            client.settings.statuses,
            success=self.target_statuses,
            failure=self.failure_statuses,
            pending=self.pending_statuses,
        )
        yield await self._wait(client)

    def _coalesced(self) -> bool:
        watch = self.watch
        return (
            isinstance(watch, TransactionWatch)
            and watch.enkash_transaction_id is not None
            and coalescing_enabled()
        )

    async def _wait(self, client: AsyncEnKashClient) -> TriggerEvent:
        self.log.info(
            "Waiting for %s with native async polls every %.1f s (%s)",
            self.watch.describe(),
            self.poll_interval,
            "searches shared with other triggers of the account"
            if self._coalesced()
            else "one search per poll",
        )
        transient_failures = 0
        last_line, last_logged = "", 0.0  # an unchanged status is logged at most every 10 minutes
        result: PollResult | None
        due = time.time()  # the first poll at once: a restarted triggerer checks right away
        while True:
            deadline_reached = due >= self.end_time
            try:
                result = await self._poll(client, due=due, may_run_early=not deadline_reached)
            except RETRYABLE_READ_ERRORS as exc:
                transient_failures += 1
                self.log.warning(
                    "Polling %s failed (%s); polling again with backoff", self.watch.describe(), exc
                )
                result, wait_s = None, self._backoff_s(transient_failures, getattr(exc, "retry_after", None))
            except Exception as exc:  # the event must carry every other failure to the task
                return self._event(
                    "error", f"polling {self.watch.describe()} failed: {type(exc).__name__}: {exc}"
                )
            else:
                transient_failures, wait_s = 0, self.poll_interval
                if (event := self._terminal_event(result)) is not None:
                    return event
            if deadline_reached:
                last = f"; last seen: {result.message}" if result is not None else ""
                return self._event(
                    "timeout", f"{self.watch.describe()} did not settle before the deadline{last}", result
                )
            line = result.message if result else self.watch.describe()
            if line != last_line or time.time() - last_logged >= PROGRESS_LOG_EVERY_S:
                self.log.info("%s; next poll in %.1f s", line, wait_s)
                last_line, last_logged = line, time.time()
            due = time.time() + max(0.0, min(wait_s, self.end_time - time.time()))

    async def _poll(self, client: AsyncEnKashClient, *, due: float, may_run_early: bool) -> PollResult:
        """One poll at ``due`` (epoch seconds): coalesced with other triggers of the account when it can be."""
        watch = self.watch
        if isinstance(watch, TransactionWatch) and self._coalesced():
            early_s = self.poll_interval * EARLY_FRACTION if may_run_early else 0.0
            records = await poll_coalesced(client, watch, due=due, early_s=early_s)
            return watch.ignored_filter() if records is None else watch.classify(records, self.statuses)
        await asyncio.sleep(max(0.0, due - time.time()))
        return await arun_poll(watch.steps(self.statuses), client)

    def _terminal_event(self, result: PollResult) -> TriggerEvent | None:
        outcome = outcome_of(result, not_found_deadline=self.not_found_deadline)
        if outcome is None:
            return None
        # not found after the grace period is a failure event; its ``state`` says not_found
        status = Outcome.FAILURE if outcome is Outcome.NOT_FOUND else outcome
        return self._event(status.value, ending_message(outcome, result), result)

    def _backoff_s(self, failures: int, retry_after: float | None) -> float:
        backoff = self.poll_interval * min(1 << (failures - 1), MAX_BACKOFF_FACTOR)
        return max(backoff, float(retry_after or 0.0))

    def _event(self, status: str, message: str, result: PollResult | None = None) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "status": status,
                "state": None if result is None else result.state.value,
                "message": message,
                "transaction": None if result is None else result.transaction,
                "summary": None if result is None else result.summary,
            }
        )


def _words(statuses: Iterable[str] | None) -> list[str] | None:
    """Status words as a sorted upper-case list (None: the connection's)."""
    return None if statuses is None else sorted({s.upper() for s in statuses})


def _watch(watch: Watch | Mapping[str, Any] | None, legacy: dict[str, Any]) -> Watch:
    if watch is None:
        return make_watch(**legacy)
    if legacy:
        raise TypeError(f"pass either watch or the flattened watch fields, not both: {sorted(legacy)}")
    return watch_from_dict(watch) if isinstance(watch, Mapping) else watch.validated()
