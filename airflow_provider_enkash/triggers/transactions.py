"""EnKashTransactionTrigger: waits in the triggerer until a transaction, or a window of them, settles."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_enkash.async_client import AsyncEnKashClient
from airflow_provider_enkash.coalesced_poll import EARLY_FRACTION, coalescing_enabled, poll_coalesced
from airflow_provider_enkash.retry import RETRYABLE_READ_ERRORS
from airflow_provider_enkash.statuses import StatusSets
from airflow_provider_enkash.transaction_poll import (
    DEFAULT_MAX_RECORDS_PER_RESPONSE,
    PollResult,
    PollState,
    TransactionWatch,
    WindowWatch,
    arun_poll,
    make_watch,
)

DEFAULT_POLL_INTERVAL_S = 60.0
MAX_BACKOFF_FACTOR = 8  # after repeated 429/5xx/connection errors, wait at most 8 poll intervals


class EnKashTransactionTrigger(BaseTrigger):
    """Poll EnKash until the watched transaction (or window) settles, then yield exactly one event.

    Watches one transaction (``enkash_transaction_id``, or ``pg_reference_number`` with
    ``enkash_card_id``) or, when ``txn_date_from``/``txn_date_to`` are given, every transaction
    in that window. The event payload is ``{"status", "state", "message", "transaction",
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
    :param poll_interval: seconds between polls (default 60).
    :param enkash_transaction_id: the transaction to watch.
    :param pg_reference_number: the load reference to watch (with ``enkash_card_id``).
    :param enkash_card_id: the card (required with ``pg_reference_number``; a filter otherwise).
    :param txn_date_from: start of a window to watch, timezone-aware ISO-8601.
    :param txn_date_to: end of that window (exclusive).
    :param user_id: window filter: one card holder.
    :param company_id: defaults from the connection.
    :param card_account_id: defaults from the connection.
    :param target_statuses: statuses meaning success (default ``SUCCESS``).
    :param failure_statuses: statuses meaning failure (default ``FAILED``, ``REVERSED``, ``REJECTED``).
    :param not_found_deadline: epoch seconds after which "not found" is a failure (default: wait
        until ``end_time``).
    :param max_records_per_response: window reads: a response this long is assumed truncated (default 1000).
    """

    def __init__(
        self,
        *,
        enkash_conn_id: str,
        end_time: float,
        poll_interval: float = DEFAULT_POLL_INTERVAL_S,
        enkash_transaction_id: str | None = None,
        pg_reference_number: str | None = None,
        enkash_card_id: str | None = None,
        txn_date_from: str | None = None,
        txn_date_to: str | None = None,
        user_id: str | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
        target_statuses: Iterable[str] | None = None,
        failure_statuses: Iterable[str] | None = None,
        not_found_deadline: float | None = None,
        max_records_per_response: int = DEFAULT_MAX_RECORDS_PER_RESPONSE,
    ) -> None:
        super().__init__()
        self.enkash_conn_id = enkash_conn_id
        self.end_time = float(end_time)
        self.poll_interval = float(poll_interval)
        self.statuses = StatusSets(success=target_statuses, failure=failure_statuses)
        self.not_found_deadline = None if not_found_deadline is None else float(not_found_deadline)
        self.watch: TransactionWatch | WindowWatch = make_watch(
            enkash_transaction_id=enkash_transaction_id,
            pg_reference_number=pg_reference_number,
            enkash_card_id=enkash_card_id,
            txn_date_from=txn_date_from,
            txn_date_to=txn_date_to,
            user_id=user_id,
            company_id=company_id,
            card_account_id=card_account_id,
            max_records_per_response=max_records_per_response,
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and the keyword arguments of ``__init__`` (round-trips)."""
        watch = self.watch
        window = isinstance(watch, WindowWatch)
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "enkash_conn_id": self.enkash_conn_id,
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "enkash_transaction_id": None if window else watch.enkash_transaction_id,
                "pg_reference_number": None if window else watch.pg_reference_number,
                "enkash_card_id": watch.enkash_card_id,
                "txn_date_from": watch.txn_date_from if window else None,
                "txn_date_to": watch.txn_date_to if window else None,
                "user_id": watch.user_id if window else None,
                "company_id": watch.company_id,
                "card_account_id": watch.card_account_id,
                "target_statuses": sorted(self.statuses.success),
                "failure_statuses": sorted(self.statuses.failure),
                "not_found_deadline": self.not_found_deadline,
                "max_records_per_response": watch.max_records_per_response
                if window
                else DEFAULT_MAX_RECORDS_PER_RESPONSE,
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
            self.log.info(
                "%s; next poll in %.1f s", result.message if result else self.watch.describe(), wait_s
            )
            due = time.time() + max(0.0, min(wait_s, self.end_time - time.time()))

    async def _poll(self, client: AsyncEnKashClient, *, due: float, may_run_early: bool) -> PollResult:
        """One poll at ``due`` (epoch seconds): coalesced with other triggers of the account when it can be."""
        watch = self.watch
        if isinstance(watch, TransactionWatch) and self._coalesced():
            early_s = self.poll_interval * EARLY_FRACTION if may_run_early else 0.0
            return watch.classify(
                await poll_coalesced(client, watch, due=due, early_s=early_s), self.statuses
            )
        await asyncio.sleep(max(0.0, due - time.time()))
        return await arun_poll(watch.steps(self.statuses), client)

    def _terminal_event(self, result: PollResult) -> TriggerEvent | None:
        if result.state is PollState.SUCCESS:
            return self._event("success", result.message, result)
        if result.state is PollState.FAILURE:
            return self._event("failure", result.message, result)
        if (
            result.state is PollState.NOT_FOUND
            and self.not_found_deadline is not None
            and time.time() >= self.not_found_deadline
        ):
            return self._event(
                "failure", f"{result.message}; gave up after the not-found grace period", result
            )
        return None

    def _backoff_s(self, failures: int, retry_after: float | None) -> float:
        backoff = self.poll_interval * min(2 ** (failures - 1), MAX_BACKOFF_FACTOR)
        return max(backoff, retry_after or 0.0)

    def _event(self, status: str, message: str, result: PollResult | None = None) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "state": None if result is None else result.state.value,
                "message": message,
                "transaction": None if result is None else result.transaction,
                "summary": None if result is None else result.summary,
            }
        )
