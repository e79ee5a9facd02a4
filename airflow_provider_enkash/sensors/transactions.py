"""Sensors that wait for EnKash transactions to settle: one transaction, or every transaction in a window.

Both work in ``poke``, ``reschedule`` and deferrable mode; deferred, they hand the waiting to
:class:`~airflow_provider_enkash.triggers.transactions.EnKashTransactionTrigger`, which holds
no worker slot.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.bases.sensor import PokeReturnValue
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowSensorTimeout

from airflow_provider_enkash import DEFAULT_CONN_ID
from airflow_provider_enkash._client.settings import DEFAULT_SEARCH_CAP
from airflow_provider_enkash.exceptions import (
    EnKashError,
    EnKashTransactionFailed,
    EnKashTransactionNotFound,
    EnKashValidationError,
)
from airflow_provider_enkash.statuses import StatusSets

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_enkash.hooks.enkash import EnKashHook
    from airflow_provider_enkash.triggers.poll_outcome import Outcome
    from airflow_provider_enkash.triggers.transaction_watch import Watch
    from airflow_provider_enkash.triggers.transactions import EnKashTransactionTrigger

# Polling, the watch and its outcomes are imported when a task runs, not when a DAG file is parsed.

DEFAULT_POKE_INTERVAL_S = 60.0
DEFAULT_NOT_FOUND_GRACE_S = 300.0
# The deferral's own timeout is a safety net behind the trigger's deadline, which reports more clearly.
_DEFERRAL_TIMEOUT_MARGIN_S = 60.0


class _SettlementSensor(BaseSensorOperator):
    """What both sensors share: status sets, the hook, the three modes and the trigger's events."""

    def __init__(
        self,
        *,
        enkash_conn_id: str = DEFAULT_CONN_ID,
        target_statuses: Iterable[str] | None = None,
        failure_statuses: Iterable[str] | None = None,
        pending_statuses: Iterable[str] | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
        poke_interval: timedelta | float = DEFAULT_POKE_INTERVAL_S,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.enkash_conn_id = enkash_conn_id
        self.target_statuses = None if target_statuses is None else sorted(target_statuses)
        self.failure_statuses = None if failure_statuses is None else sorted(failure_statuses)
        self.pending_statuses = None if pending_statuses is None else sorted(pending_statuses)
        StatusSets(success=target_statuses, failure=failure_statuses)  # overlapping sets fail at parse time
        self.company_id = company_id
        self.card_account_id = card_account_id
        self.deferrable = deferrable
        self._watch: Watch | None = None
        self._started_at = 0.0

    @cached_property
    def hook(self) -> EnKashHook:
        from airflow_provider_enkash.hooks.enkash import EnKashHook  # not at import: DAG parsing stays cheap

        return EnKashHook(self.enkash_conn_id)

    @cached_property
    def statuses(self) -> StatusSets:
        """The status words given, else the connection's extras (``success_statuses``, ...)."""
        from airflow_provider_enkash.triggers.poll_outcome import resolve_statuses

        return resolve_statuses(
            self.hook.settings.statuses,
            success=self.target_statuses,
            failure=self.failure_statuses,
            pending=self.pending_statuses,
        )

    def _make_watch(self) -> Watch:
        """The watched transaction or window from the rendered fields; validated, no network."""
        raise NotImplementedError

    def _xcom_value(self, transaction: dict[str, Any] | None, summary: dict[str, Any] | None) -> Any:
        raise NotImplementedError

    def _not_found_deadline(self) -> float | None:
        return None

    def execute(self, context: Context) -> Any:
        self._watch = self._make_watch()
        self._started_at = self._wait_started_at(context)
        if not self.deferrable:
            return super().execute(context)
        done = self.poke(context)
        if done:
            return done.xcom_value if isinstance(done, PokeReturnValue) else None
        self.log.info(
            "Deferring: %s is polled every %s s by the triggerer", self._watch.describe(), self.poke_interval
        )
        self.defer(
            trigger=self._trigger(end_time=self._started_at + self.timeout),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout + self.poke_interval + _DEFERRAL_TIMEOUT_MARGIN_S),
        )
        return None  # not reached: defer() raises TaskDeferred

    def _wait_started_at(self, context: Context) -> float:
        """When waiting began, epoch seconds: the first reschedule in reschedule mode, else now."""
        if self.reschedule and not self.deferrable:
            first = context["ti"].get_first_reschedule_date(context)
            if first is not None:
                return first.timestamp()
        return time.time()

    def _trigger(self, *, end_time: float) -> EnKashTransactionTrigger:
        from airflow_provider_enkash.triggers.transactions import EnKashTransactionTrigger

        assert self._watch is not None
        return EnKashTransactionTrigger(
            enkash_conn_id=self.enkash_conn_id,
            end_time=end_time,
            watch=self._watch,
            poll_interval=self.poke_interval,
            target_statuses=self.target_statuses,
            failure_statuses=self.failure_statuses,
            pending_statuses=self.pending_statuses,
            not_found_deadline=self._not_found_deadline(),
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """One poll: done with the XCom value, not yet, or raise on a failure status / lasting absence."""
        from airflow_provider_enkash.retry import RETRYABLE_READ_ERRORS
        from airflow_provider_enkash.triggers.poll_outcome import ending_message, outcome_of

        if self._watch is None:
            self._watch = self._make_watch()
        try:
            result = self._watch.poll(self.hook, self.statuses)
        except RETRYABLE_READ_ERRORS as exc:
            self.log.warning("Polling %s failed (%s); trying again next poke", self._watch.describe(), exc)
            return False
        self.log.info("%s", result.message)
        outcome = outcome_of(result, not_found_deadline=self._not_found_deadline())
        if outcome is None:
            return False
        message = ending_message(outcome, result)
        return PokeReturnValue(
            is_done=True, xcom_value=self._finish(outcome, message, result.transaction, result.summary)
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after the trigger's event: return the result or raise an error naming what failed."""
        from airflow_provider_enkash.triggers.poll_outcome import Outcome, PollState

        status, message = event.get("status"), event.get("message", "")
        if status == "timeout":
            raise AirflowSensorTimeout(message)
        if status == "failure" and event.get("state") == PollState.NOT_FOUND.value:
            outcome = Outcome.NOT_FOUND
        elif status in (Outcome.SUCCESS.value, Outcome.FAILURE.value):
            outcome = Outcome(status)
        else:
            raise EnKashError(message or f"unexpected trigger event {status!r}")
        self.log.info("%s", message)
        return self._finish(outcome, message, event.get("transaction"), event.get("summary"))

    def _finish(
        self,
        outcome: Outcome,
        message: str,
        transaction: dict[str, Any] | None,
        summary: dict[str, Any] | None,
    ) -> Any:
        """The sensor's result for ``outcome`` (the XCom value), or the error naming what failed."""
        from airflow_provider_enkash.triggers.poll_outcome import Outcome

        if outcome is Outcome.NOT_FOUND:
            raise EnKashTransactionNotFound(message)
        if outcome is Outcome.FAILURE:
            raise self._failed(message, transaction)
        return self._xcom_value(transaction, summary)

    @staticmethod
    def _failed(message: str, transaction: dict[str, Any] | None) -> EnKashTransactionFailed:

        record = transaction or {}
        return EnKashTransactionFailed(
            message, transaction_id=record.get("enKashCardTransactionId"), status=record.get("status")
        )


class EnKashTransactionSensor(_SettlementSensor):
    """Wait until one EnKash transaction reaches a target status; return it (without card data) via XCom.

    Identify the transaction by ``enkash_transaction_id``, or by ``pg_reference_number`` (the
    ``uniqueReferenceNumber`` sent with a load) plus ``enkash_card_id``; all are templated, so they
    can come from a load's XCom. A failure status fails the task without retries
    (``EnKashTransactionFailed``); a transaction still not found after ``not_found_grace`` fails
    it with ``EnKashTransactionNotFound``. One poke is one search call (plus the hook's retries
    of 429/5xx/connection errors).

    :param enkash_transaction_id: the EnKash transaction id (``enKashCardTransactionId``).
    :param pg_reference_number: the load reference; needs ``enkash_card_id``.
    :param enkash_card_id: the card (required with ``pg_reference_number``).
    :param enkash_conn_id: the EnKash connection (default ``enkash_default``).
    :param target_statuses: statuses meaning success (default: the connection's ``success_statuses``
        extra, else ``SUCCESS``).
    :param failure_statuses: statuses meaning failure (default: the connection's ``failure_statuses``,
        else ``FAILED``, ``REVERSED``, ``REJECTED``).
    :param pending_statuses: statuses meaning not settled yet (default: the connection's
        ``pending_statuses``, else ``CREATED``, ``PENDING``, ``PROCESSING``); a status in none of
        the three sets is never read as settled: the sensor keeps waiting and logs it.
    :param not_found_grace: seconds (or timedelta) "not found" keeps waiting, from the first poke
        (default 300).
    :param company_id: defaults from the connection.
    :param card_account_id: defaults from the connection.
    :param poke_interval: seconds between polls in every mode (default 60).
    :param timeout: seconds before the sensor gives up (Airflow's ``[sensors] default_timeout``
        unless given).
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = (
        "enkash_transaction_id",
        "pg_reference_number",
        "enkash_card_id",
        "company_id",
        "card_account_id",
    )
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        enkash_transaction_id: str | None = None,
        pg_reference_number: str | None = None,
        enkash_card_id: str | None = None,
        not_found_grace: timedelta | float = DEFAULT_NOT_FOUND_GRACE_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.enkash_transaction_id = enkash_transaction_id
        self.pg_reference_number = pg_reference_number
        self.enkash_card_id = enkash_card_id
        grace = not_found_grace.total_seconds() if isinstance(not_found_grace, timedelta) else not_found_grace
        if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
            raise EnKashValidationError(
                "not_found_grace", f"must be seconds >= 0 or a timedelta, got {not_found_grace!r}"
            )
        self.not_found_grace = float(grace)

    def _make_watch(self) -> Watch:
        from airflow_provider_enkash.triggers.transaction_watch import make_watch

        return make_watch(
            enkash_transaction_id=self.enkash_transaction_id,
            pg_reference_number=self.pg_reference_number,
            enkash_card_id=self.enkash_card_id,
            company_id=self.company_id,
            card_account_id=self.card_account_id,
        )

    def _not_found_deadline(self) -> float | None:
        return self._started_at + self.not_found_grace

    def _xcom_value(self, transaction: dict[str, Any] | None, summary: dict[str, Any] | None) -> Any:
        return transaction


class EnKashTransactionsSettledSensor(_SettlementSensor):
    """Wait until no transaction in ``[txn_date_from, txn_date_to)`` is still pending, e.g. before an export.

    Settled means every transaction's status is in ``target_statuses`` or ``failure_statuses``;
    failed ones count as settled (they will not change). Truncated responses are re-read as
    smaller windows (the export's ``WindowWalk``: sub-windows aimed at 3/4 of
    ``max_records_per_response``, at most a day long), and a poke stops at the first pending
    transaction. Returns ``{"txn_date_from",
    "txn_date_to", "transactions", "by_status", "pending_sample"}`` via XCom.

    :param txn_date_from: window start, timezone-aware ISO-8601 or datetime (templated).
    :param txn_date_to: window end, exclusive (templated).
    :param enkash_card_id: only this card's transactions.
    :param user_id: only this card holder's transactions.
    :param card_account_id: the card account (defaults from the connection).
    :param max_records_per_response: a response this long is assumed truncated (default 1000; the
        connection's ``search_cap`` when that is lower).
    :param target_statuses: as for :class:`EnKashTransactionSensor` (default: the connection's
        status words); a status in no set counts as not settled. Also ``failure_statuses``,
        ``pending_statuses``.
    :param poke_interval: seconds between polls in every mode (default 60).
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = (
        "txn_date_from",
        "txn_date_to",
        "enkash_card_id",
        "user_id",
        "company_id",
        "card_account_id",
    )
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        txn_date_from: Any,
        txn_date_to: Any,
        enkash_card_id: str | None = None,
        user_id: str | None = None,
        max_records_per_response: int = DEFAULT_SEARCH_CAP,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.txn_date_from = txn_date_from
        self.txn_date_to = txn_date_to
        self.enkash_card_id = enkash_card_id
        self.user_id = user_id
        self.max_records_per_response = max_records_per_response

    def _make_watch(self) -> Watch:
        for name in ("txn_date_from", "txn_date_to"):
            if getattr(self, name) in (None, ""):
                raise EnKashValidationError(name, "is required: the window to wait on")
        from airflow_provider_enkash.triggers.transaction_watch import WindowWatch, make_watch

        watch = make_watch(
            txn_date_from=_iso(self.txn_date_from),
            txn_date_to=_iso(self.txn_date_to),
            enkash_card_id=self.enkash_card_id,
            user_id=self.user_id,
            company_id=self.company_id,
            card_account_id=self.card_account_id,
            max_records_per_response=self.max_records_per_response,
        )
        assert isinstance(watch, WindowWatch)  # both window ends are given
        # A server that cuts searches lower (the connection's search_cap) sets the bar, as for exports.
        cap = min(watch.max_records_per_response, self.hook.settings.search_cap)
        return replace(watch, max_records_per_response=cap)

    def _xcom_value(self, transaction: dict[str, Any] | None, summary: dict[str, Any] | None) -> Any:
        return summary


def _iso(value: Any) -> Any:
    """A datetime as ISO-8601 text (rendered templates may hand either); other values pass to validation."""
    return value.isoformat() if hasattr(value, "isoformat") else value
