"""Batch card loads: idempotent payroll top-ups.

:class:`EnKashBatchPlanOperator` reads and validates a whole batch and splits
it into chunks; :class:`EnKashBatchLoadOperator` loads a batch (or one chunk,
mapped with ``.expand(rows=...)``) on a bounded thread pool sharing one hook,
records every row in a ledger and fails at the end if any row is not settled.
One live attempt per row holds the batch's lease in the ledger store. A
retry reads the ledger and re-examines only rows that are not settled: ``failed``
rows after a reference look-up, unclear rows (``outcome_unknown``, or ``sending``
left by a dead attempt) only through the quiet period (docs/money-safety.md),
waiting in the triggerer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

# Only what building the task needs (DAG files parse this); the ledger, lease, runner and
# the reference reader are imported by execute.
from airflow_provider_enkash.batch.arguments import (
    DEFAULT_CONCURRENCY,
    DEFAULT_LEASE_TTL_S,
    DEFAULT_LEDGER_TABLE,
    check_batch_arguments,
    check_ledger_choice,
    check_on_unknown,
)
from airflow_provider_enkash.operators.batch_plan import (
    _SOURCE_FIELDS,
    EnKashBatchPlanOperator,
    _BatchSourceOperator,
)
from airflow_provider_enkash.operators.links import EnKashLedgerLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_enkash.batch.lease import HeldLease
    from airflow_provider_enkash.batch.ledger import BatchLedger
    from airflow_provider_enkash.batch.outcomes import RowOutcome
    from airflow_provider_enkash.batch.rows import BatchRow
    from airflow_provider_enkash.hooks.enkash import EnKashHook

# EnKashBatchPlanOperator lived here first; kept importable from this module.
__all__ = ["EnKashBatchLoadOperator", "EnKashBatchPlanOperator"]

DEFAULT_LEDGER_FLUSH_ROWS = 500
DEFAULT_LEDGER_FLUSH_INTERVAL_S = 10.0


class EnKashBatchLoadOperator(_BatchSourceOperator):
    """Load a batch of card top-ups exactly once, with a per-row ledger.

    Rows come from exactly one of ``rows``, ``source_path`` or ``sql``; columns ``enkash_card_id`` (or
    ``card_id``), ``amount`` (rupees), optional ``reference`` (the row key; default the card id) and ``remarks``.
    The whole batch is validated before any load. Each row is loaded with the reference
    ``batch_row_reference(batch_id, row_key)``; a row already found at EnKash is reported ``already_loaded``.

    :param enkash_conn_id: EnKash connection (default ``enkash_default``).
    :param rows: a list of row dicts (e.g. one chunk from :class:`EnKashBatchPlanOperator`). Templated.
    :param source_path: a CSV or JSON Lines file, ``ObjectStoragePath`` or path/URL string. Templated.
    :param file_format: ``csv`` or ``jsonl`` (default from the file suffix).
    :param sql: a SELECT returning the row columns. Templated. Needs ``sql_conn_id``.
    :param sql_conn_id: a common.sql connection for ``sql``.
    :param sql_parameters: bind parameters for ``sql`` (default none).
    :param batch_id: names the batch; the same id means the same references. Default
        ``<dag_id>/<run_id>/<task_id>``. Templated. Give a business id (e.g. ``payroll-2025-01-15``) when
        manual runs may repeat a scheduled one.
    :param ledger_path: folder for a JSON Lines ledger (any ``ObjectStoragePath``). Templated.
    :param ledger_conn_id: a common.sql connection for a ledger table instead of ``ledger_path``.
    :param ledger_table: the ledger table (default ``enkash_batch_ledger``; created when missing).
    :param concurrency: rows in flight at once, sharing one hook, session and token (default 8).
    :param requests_per_second: ceiling on EnKash calls per second for this task (default none).
    :param max_amount_per_card: cap in rupees on one card's total in the batch (default none).
    :param max_batch_total: cap in rupees on the batch total (default none).
    :param max_rows: most rows per batch (default no limit).
    :param check_cards: before loading, check every card is known to EnKash and not blocked (read calls;
        default False).
    :param dry_run: validate and return what would be loaded; load nothing (default False).
    :param lookup_first: also look every row's reference up on a fresh batch (default None: no).
        Only a batch whose lease this attempt holds and whose ledger holds none of its rows is fresh;
        every other row is looked up first.
    :param fail_on_failed: fail the task when any row ``failed`` (default True).
    :param on_unknown: what to do with rows whose outcome is unclear: ``wait`` (default) defers to the
        triggerer through the quiet period, looks them up again and resends only when absence is
        proven; ``fail`` fails the task at once (no retries) naming each unclear reference.
    :param resend_quiet_period: seconds (or a ``timedelta``) after an unclear send before a resend
        (default: the connection's ``resend_quiet_period``, 15 minutes).
    :param lease_ttl: seconds the batch lease outlives its holder's last heartbeat (default 300); a
        killed attempt's rows are taken over after this.
    :param load_type: the load ``type`` (default ``LOAD_MONEY``).
    :param transaction_code: the load ``transactionCode`` (default not sent).
    :param description: the load ``description`` (default not sent).
    :param created_by: the load ``createdBy`` (default not sent).
    :param ledger_flush_rows: write the ledger every this many finished rows (default 500).
    :param ledger_flush_interval_s: and at least every this many seconds (default 10).
    """

    template_fields: Sequence[str] = (*_SOURCE_FIELDS, "ledger_path")
    operator_extra_links = (EnKashLedgerLink(),)

    def __init__(
        self,
        *,
        ledger_path: Any = None,
        ledger_conn_id: str | None = None,
        ledger_table: str = DEFAULT_LEDGER_TABLE,
        concurrency: int = DEFAULT_CONCURRENCY,
        requests_per_second: float | None = None,
        dry_run: bool = False,
        lookup_first: bool | None = None,
        fail_on_failed: bool = True,
        on_unknown: str = "wait",
        resend_quiet_period: float | timedelta | None = None,
        lease_ttl: float = DEFAULT_LEASE_TTL_S,
        load_type: str = "LOAD_MONEY",
        transaction_code: str | None = None,
        description: str | None = None,
        created_by: str | None = None,
        ledger_flush_rows: int = DEFAULT_LEDGER_FLUSH_ROWS,
        ledger_flush_interval_s: float = DEFAULT_LEDGER_FLUSH_INTERVAL_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_batch_arguments(
            concurrency=concurrency,
            requests_per_second=requests_per_second,
            ledger_flush_rows=ledger_flush_rows,
            ledger_flush_interval_s=ledger_flush_interval_s,
            load_type=load_type,
        )
        check_ledger_choice(ledger_path=ledger_path, ledger_conn_id=ledger_conn_id)
        self.ledger_path = ledger_path
        self.ledger_conn_id = ledger_conn_id
        self.ledger_table = ledger_table
        self.concurrency = concurrency
        self.requests_per_second = requests_per_second
        self.validate_only = dry_run  # not self.dry_run: BaseOperator.dry_run() is Airflow's own method
        self.lookup_first = lookup_first
        self.fail_on_failed = fail_on_failed
        self.on_unknown = check_on_unknown(on_unknown)
        self.resend_quiet_period = resend_quiet_period
        self.lease_ttl = lease_ttl
        self.load_type = load_type
        self.transaction_code = transaction_code
        self.description = description
        self.created_by = created_by
        self.ledger_flush_rows = ledger_flush_rows
        self.ledger_flush_interval_s = ledger_flush_interval_s
        self.ledger_location: str | None = None  # set by execute; the "EnKash batch ledger" link

    def make_hook(self) -> EnKashHook:
        """One hook for the whole task: its pool fits ``concurrency``; rate-limited when asked."""
        from airflow_provider_enkash.batch.throttle import RateLimitedEnKashHook
        from airflow_provider_enkash.hooks.enkash import EnKashHook

        pool_size = max(self.concurrency, 4)
        if self.requests_per_second is not None:
            return RateLimitedEnKashHook(
                self.enkash_conn_id,
                requests_per_second=self.requests_per_second,
                pool_size=pool_size,
            )
        return EnKashHook(self.enkash_conn_id, pool_size=pool_size)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_enkash.batch.lease import HeldLease, LeaseScope, lease_owner
        from airflow_provider_enkash.batch.ledger import FileLedger, open_ledger
        from airflow_provider_enkash.batch.plan import default_batch_id
        from airflow_provider_enkash.operators.batch_plan import dry_run_report

        hook = self.make_hook()
        rows = self._validated_rows(lambda: hook)
        batch_id = self.batch_id or default_batch_id(context)
        ledger = open_ledger(
            ledger_path=self.ledger_path,
            ledger_conn_id=self.ledger_conn_id,
            ledger_table=self.ledger_table,
        )
        # The UI's ledger link: a folder of part files (a SQL ledger has no address to open).
        self.ledger_location = str(ledger.folder(batch_id)) if isinstance(ledger, FileLedger) else None
        if self.validate_only:
            return dry_run_report(batch_id, rows, ledger.read(batch_id), lookup_first=self.lookup_first)
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        # the chunks of one plan (this task's map indexes in this DAG run) hold disjoint rows of it
        row_numbers = [row.row_number for row in rows] or [0]
        lease = HeldLease(
            ledger.lease_store(),
            batch_id,
            lease_owner(f"{ti.dag_id}/{ti.run_id}/{ti.task_id}[{map_index}] try {ti.try_number}"),
            scope=LeaseScope(f"{ti.dag_id}/{ti.run_id}/{ti.task_id}", min(row_numbers), max(row_numbers)),
            ttl_s=self.lease_ttl,
        )
        try:
            return self._load(context, hook, rows, batch_id, ledger, lease)
        finally:
            ledger.close()
            lease.release()

    def execute_after_quiet_period(self, context: Context, event: Any = None) -> dict[str, Any]:
        """Resume after waiting in the triggerer: everything is read again from the ledger."""
        return self.execute(context)

    def _load(
        self,
        context: Context,
        hook: EnKashHook,
        rows: list[BatchRow],
        batch_id: str,
        ledger: BatchLedger,
        lease: HeldLease,
    ) -> dict[str, Any]:
        from airflow_provider_enkash.batch.ledger import LedgerWriter
        from airflow_provider_enkash.batch.outcomes import (
            AMOUNT_MISMATCH,
            OUTCOME_UNKNOWN,
            SENDING,
            UNCLEAR,
            summarize,
        )
        from airflow_provider_enkash.batch.runner import BatchRunner, row_outcome
        from airflow_provider_enkash.resend_gate import quiet_period_seconds

        quiet_s = quiet_period_seconds(self.resend_quiet_period, default=hook.settings.resend_quiet_period_s)
        previous = ledger.read(batch_id)
        now = time.time()
        carried: list[RowOutcome] = []
        unclear: list[RowOutcome] = []
        changed: list[RowOutcome] = []  # the row asks another amount than the ledger recorded for it
        todo: list[BatchRow] = []
        for row in rows:
            record = previous.get(row.row_key)
            if record is None or (record.outcome == AMOUNT_MISMATCH and record.enkash_amount == row.amount):
                todo.append(row)
            elif record.amount != row.amount and record.outcome != AMOUNT_MISMATCH:
                changed.append(self._amount_changed(record, row))
            elif record.settled or record.outcome == AMOUNT_MISMATCH:
                carried.append(record)
            elif record.outcome in UNCLEAR:
                unclear.append(self._unclear_record(record, now=now, took_over=lease.claim.previous_owner))
            else:
                todo.append(row)  # failed: nothing moved; looked up first
        # fresh: we hold the lease, this is a first try, and the ledger holds none of these rows
        fresh = context["ti"].try_number <= 1 and not any(row.row_key in previous for row in rows)
        lookup_first = not fresh or bool(self.lookup_first)
        self.log.info(
            "Batch %s: %d rows, %d settled or problem rows from earlier attempts, %d unclear, %d to load "
            "(look-up first: %s), ledger %s, lease %s%s",
            batch_id, len(rows), len(carried), len(unclear), len(todo), lookup_first, ledger.location,
            lease.key, f" (taken over from {lease.claim.previous_owner})" if lease.claim.took_over else "",
        )  # fmt: skip
        ledger.write([*changed, *unclear])
        carried += changed
        writer = LedgerWriter(
            ledger, flush_rows=self.ledger_flush_rows, flush_interval_s=self.ledger_flush_interval_s
        )
        runner = BatchRunner(
            hook,
            concurrency=self.concurrency,
            load_type=self.load_type,
            transaction_code=self.transaction_code,
            description=self.description,
            created_by=self.created_by,
        )
        try:
            outcomes = runner.run(
                todo,
                batch_id=batch_id,
                lookup_first=lookup_first,
                on_outcome=writer.add,
                # only rows that may reach EnKash are marked: a take-over sends the others without waiting
                before_send=lambda starting: ledger.mark_sending(
                    [row_outcome(r, batch_id, SENDING, sent_at=time.time()) for r in starting]
                ),
            )
        finally:
            writer.flush()
        unclear += [o for o in outcomes if o.outcome == OUTCOME_UNKNOWN]
        outcomes = [o for o in outcomes if o.outcome != OUTCOME_UNKNOWN]
        if unclear and self.on_unknown == "wait" and not runner.aborted:
            from airflow_provider_enkash.batch.unclear import settle_due_rows  # not needed to parse a DAG

            by_key = {row.row_key: row for row in rows}
            unclear = settle_due_rows(runner, by_key, unclear, batch_id=batch_id, quiet_period_s=quiet_s)
            ledger.write(unclear)
            outcomes += [o for o in unclear if o.outcome != OUTCOME_UNKNOWN]
            unclear = [o for o in unclear if o.outcome == OUTCOME_UNKNOWN]
        summary = summarize(
            [*carried, *outcomes, *unclear],
            batch_id=batch_id,
            carried_over=len(carried),
            ledger=ledger.location,
        )
        self.log.info(
            "Batch %s: %s; settled %s rupees", batch_id, summary["counts"], summary["settled_amount"]
        )
        if summary["resent_after_unknown"]:
            self.log.warning(
                "Batch %s: %d row(s) RESENT after an unclear send (quiet period passed, look-ups absent): %s",
                batch_id, len(summary["resent_after_unknown"]), ", ".join(summary["resent_after_unknown"]),
            )  # fmt: skip
        context["ti"].xcom_push(key="batch_summary", value=summary)
        if unclear:
            self._wait_or_fail(unclear, batch_id=batch_id, quiet_s=quiet_s, aborted=runner.aborted)
        self._fail_if_incomplete(summary, aborted=runner.aborted)
        return summary

    @staticmethod
    def _amount_changed(record: RowOutcome, row: BatchRow) -> RowOutcome:
        from airflow_provider_enkash.batch.outcomes import AMOUNT_MISMATCH

        return replace(
            record,
            outcome=AMOUNT_MISMATCH,
            amount=row.amount,
            enkash_amount=record.amount,
            error_code="AmountChanged",
            error_message=f"the ledger recorded {record.amount} ({record.outcome}) under this reference; the row "
            f"now asks {row.amount}. Not sent: load the difference under a new batch id or row key",
        )

    @staticmethod
    def _unclear_record(record: RowOutcome, *, now: float, took_over: str | None) -> RowOutcome:
        from airflow_provider_enkash.batch.outcomes import OUTCOME_UNKNOWN

        if record.outcome == OUTCOME_UNKNOWN and record.sent_at is not None:
            return record
        # 'sending': its attempt stopped while sending it; the quiet period counts from now (conservative)
        holder = f" (attempt {took_over} died)" if took_over else ""
        return replace(
            record,
            outcome=OUTCOME_UNKNOWN,
            sent_at=now,
            absent_checks=0,
            last_absent_at=None,
            error_code="AttemptStopped",
            error_message=f"was being sent when its attempt stopped{holder}",
        )

    def _wait_or_fail(
        self, unclear: list[RowOutcome], *, batch_id: str, quiet_s: float, aborted: bool
    ) -> None:
        """Fail naming every unclear row (``on_unknown='fail'``, or look-ups that never prove anything);
        else defer to the triggerer until the next look-up is due."""
        from airflow.sdk.exceptions import AirflowFailException

        from airflow_provider_enkash.batch.unclear import gave_up, next_wake, unclear_report
        from airflow_provider_enkash.triggers.quiet_period import QuietPeriodTrigger

        if self.on_unknown == "fail" or aborted:
            why = "on_unknown='fail'" if not aborted else "EnKash refused the login"
            raise AirflowFailException(unclear_report(unclear, batch_id=batch_id, why=why))
        stuck = gave_up(unclear, quiet_period_s=quiet_s)
        if stuck:
            raise AirflowFailException(
                unclear_report(
                    stuck, batch_id=batch_id, why="look-ups proved nothing for three quiet periods"
                )
            )
        wake = next_wake(unclear, quiet_period_s=quiet_s)
        self.log.warning(
            "Batch %s: %d unclear row(s); waiting in the triggerer %.0f s before looking them up again",
            batch_id, len(unclear), max(0.0, wake - time.time()),
        )  # fmt: skip
        self.defer(trigger=QuietPeriodTrigger(moment=wake), method_name="execute_after_quiet_period")

    def _fail_if_incomplete(self, summary: dict[str, Any], *, aborted: bool) -> None:
        from airflow_provider_enkash.batch.outcomes import BatchIncompleteError

        failed, mismatched = summary["counts"]["failed"], summary["counts"]["amount_mismatch"]
        if aborted or (failed and self.fail_on_failed) or mismatched:
            lines = [
                f"row {p['row_number']} ({p['reference']}): {p['outcome']} {p['error_code'] or ''} {p['error_message'] or ''}".strip()
                for p in summary["problem_rows"]
            ]
            reason = "stopped early: EnKash refused the login; " if aborted else ""
            raise BatchIncompleteError(
                f"batch {summary['batch_id']}: {reason}{failed} failed and {mismatched} amount-mismatch row(s) of "
                f"{summary['rows']}; a retry re-examines failed rows after a reference look-up, amount mismatches "
                f"need a human. Ledger: {summary['ledger']}\n  " + "\n  ".join(lines),
                summary=summary,
            )
