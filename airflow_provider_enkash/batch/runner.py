"""Load the rows of a batch on a bounded thread pool sharing one hook (one session, one token).

Each row is one ``hook.load_card_balance`` with the reference
``batch_row_reference(batch_id, row_key)``: the hook sends it at most once per
attempt and settles unclear outcomes by looking the reference up. The runner
maps what comes back to a :class:`~airflow_provider_enkash.batch.outcomes.RowOutcome`
and never stops at a failed row; only a refused login stops the batch, because
more logins could lock the partner account.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING

from airflow_provider_enkash.batch.arguments import DEFAULT_CONCURRENCY as DEFAULT_CONCURRENCY
from airflow_provider_enkash.batch.outcomes import (
    ALREADY_LOADED,
    AMOUNT_MISMATCH,
    FAILED,
    LOADED,
    OUTCOME_UNKNOWN,
    RESENT_AFTER_UNKNOWN,
    RowOutcome,
)
from airflow_provider_enkash.card_load import LoadTerms, send_load
from airflow_provider_enkash.exceptions import (
    EnKashAmountMismatch,
    EnKashAuthError,
    EnKashBusinessError,
    EnKashError,
    EnKashOutcomeUnknown,
)
from airflow_provider_enkash.progress import LoadProgress
from airflow_provider_enkash.references import batch_row_reference
from airflow_provider_enkash.request_models.validators import positive_int

if TYPE_CHECKING:
    from airflow_provider_enkash.batch.rows import BatchRow
    from airflow_provider_enkash.hooks.enkash import EnKashHook
    from airflow_provider_enkash.models import LoadResult

log = logging.getLogger(__name__)

ABORTED_CODE = "NOT_SENT_BATCH_ABORTED"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def row_outcome(row: BatchRow, batch_id: str, outcome: str, **details: object) -> RowOutcome:
    """The ledger record of ``row`` with ``outcome``, its reference derived from the batch id and row key."""
    return RowOutcome(
        batch_id=batch_id,
        row_key=row.row_key,
        row_number=row.row_number,
        reference=batch_row_reference(batch_id=batch_id, row_key=row.row_key),
        enkash_card_id=row.enkash_card_id,
        amount=row.amount,
        outcome=outcome,
        recorded_at=_now(),
        **details,  # type: ignore[arg-type]
    )


class BatchRunner:
    """Loads rows concurrently through one hook.

    :param hook: the hook every thread shares (use ``RateLimitedEnKashHook`` for a requests-per-second ceiling).
    :param concurrency: rows in flight at once (default 8); keep it <= the hook's ``pool_size``.
    :param load_type: the load ``type`` (default ``LOAD_MONEY``).
    :param transaction_code: the load ``transactionCode`` (default not sent).
    :param description: the load ``description`` (default not sent).
    :param created_by: the load ``createdBy`` (default not sent).
    """

    def __init__(
        self,
        hook: EnKashHook,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        load_type: str = "LOAD_MONEY",
        transaction_code: str | None = None,
        description: str | None = None,
        created_by: str | None = None,
    ) -> None:
        positive_int(concurrency, field="concurrency")
        self.hook = hook
        self.concurrency = concurrency
        self.terms = LoadTerms(load_type, transaction_code, description, created_by)
        self._abort = threading.Event()

    def _outcome(self, row: BatchRow, batch_id: str, outcome: str, **details: object) -> RowOutcome:
        return row_outcome(row, batch_id, outcome, **details)

    def send(
        self, row: BatchRow, *, batch_id: str, lookup_first: bool, resend_after_unknown: bool = False
    ) -> LoadResult:
        """One ``hook.load_card_balance`` for ``row`` with its batch reference; raises what the hook raises."""
        return send_load(
            self.hook,
            row,
            self.terms,
            reference=batch_row_reference(batch_id=batch_id, row_key=row.row_key),
            lookup_first=lookup_first,
            resend_after_unknown=resend_after_unknown,
        )

    def load_row(
        self, row: BatchRow, *, batch_id: str, lookup_first: bool, resend_after_unknown: bool = False
    ) -> RowOutcome:
        """Load one row and say what happened; never raises for an EnKash outcome.

        :param resend_after_unknown: the row's earlier send was unclear and the quiet period allows
            this resend: a success is recorded ``resent_after_unknown``.
        """
        if self._abort.is_set():
            return self._outcome(
                row,
                batch_id,
                FAILED,
                error_code=ABORTED_CODE,
                error_message="not sent: the batch stopped early",
            )
        try:
            result = self.send(
                row, batch_id=batch_id, lookup_first=lookup_first, resend_after_unknown=resend_after_unknown
            )
        except EnKashBusinessError as exc:
            return self._outcome(
                row, batch_id, FAILED, error_code=str(exc.code), error_message=exc.enkash_message
            )
        except EnKashAmountMismatch as exc:
            return self._outcome(
                row,
                batch_id,
                AMOUNT_MISMATCH,
                enkash_transaction_id=exc.transaction_id,
                enkash_amount=exc.found,
                error_code=type(exc).__name__,
                error_message=str(exc),
            )
        except Exception as exc:  # noqa: BLE001 - every row gets an outcome; the batch decides afterwards
            if isinstance(exc, EnKashAuthError):
                self._abort.set()  # more logins could lock the partner account
            # The hook raises typed errors other than EnKashOutcomeUnknown only when the load was refused
            # or never left (4xx, connect failure, bad input); anything unexpected may follow a send.
            refused = isinstance(exc, EnKashError) and not isinstance(exc, EnKashOutcomeUnknown)
            if refused:
                return self._outcome(
                    row, batch_id, FAILED, error_code=type(exc).__name__, error_message=str(exc)
                )
            return self._outcome(
                row,
                batch_id,
                OUTCOME_UNKNOWN,
                error_code=type(exc).__name__,
                error_message=str(exc),
                sent_at=time.time(),
            )
        outcome = {
            "loaded": LOADED,
            "already_loaded": ALREADY_LOADED,
            "resent_after_unknown": RESENT_AFTER_UNKNOWN,
        }[result.outcome]
        return self._outcome(row, batch_id, outcome, enkash_transaction_id=result.enkash_transaction_id)

    def run(
        self,
        rows: Sequence[BatchRow],
        *,
        batch_id: str,
        lookup_first: Callable[[BatchRow], bool] | bool,
        on_outcome: Callable[[RowOutcome], None] | None = None,
        before_send: Callable[[list[BatchRow]], None] | None = None,
    ) -> list[RowOutcome]:
        """Load every row and return one outcome per row, in row order.

        :param batch_id: the batch the references derive from; the same id on a rerun means the same references.
        :param lookup_first: whether a row is looked up before it is sent (True on retries and for rows not
            known to be fresh), or a function deciding per row.
        :param on_outcome: called in the calling thread as each row finishes (e.g. to flush the ledger).
        :param before_send: called in the calling thread with the rows about to start, before any of them
            can reach EnKash (e.g. to record them ``sending``). At most ``concurrency`` rows are started at
            a time, so a row it was not called for was never sent.
        """
        decide = lookup_first if callable(lookup_first) else (lambda _row, _v=bool(lookup_first): _v)
        self._abort.clear()
        outcomes: list[RowOutcome] = []
        progress = LoadProgress(log, batch_id=batch_id, total=len(rows))
        pending_rows = iter(rows)
        # Finished futures arrive on a queue (one put per row) rather than through wait(FIRST_COMPLETED),
        # which installs a waiter on every future in flight for each completion.
        finished: queue.SimpleQueue[Future[RowOutcome]] = queue.SimpleQueue()
        in_flight = 0
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="enkash-batch") as pool:

            def start(count: int) -> None:
                nonlocal in_flight
                starting = list(islice(pending_rows, count))
                if starting and before_send is not None:
                    before_send(starting)
                for row in starting:
                    future = pool.submit(self.load_row, row, batch_id=batch_id, lookup_first=decide(row))
                    future.add_done_callback(finished.put)
                    in_flight += 1

            start(self.concurrency)
            while in_flight:
                done = [finished.get()]
                while (
                    not finished.empty()
                ):  # every row that finished meanwhile: their successors start together
                    done.append(finished.get())
                in_flight -= len(done)
                for future in done:
                    outcome = future.result()
                    outcomes.append(outcome)
                    progress.add(outcome)
                    if on_outcome is not None:
                        on_outcome(outcome)
                start(len(done))
        outcomes.sort(key=lambda o: o.row_number)
        return outcomes

    @property
    def aborted(self) -> bool:
        """True when the last run stopped early because EnKash refused the login."""
        return self._abort.is_set()
