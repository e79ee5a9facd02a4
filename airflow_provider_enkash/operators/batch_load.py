"""Batch card loads: idempotent payroll top-ups.

:class:`EnKashBatchPlanOperator` reads and validates a whole batch and splits
it into chunks; :class:`EnKashBatchLoadOperator` loads a batch (or one chunk,
mapped with ``.expand(rows=...)``) on a bounded thread pool sharing one hook,
records every row in a ledger and fails at the end if any row is not settled.
A retry reads the ledger and re-examines only ``failed`` and
``outcome_unknown`` rows, each after a reference look-up.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context

from airflow_provider_enkash.batch.ledger import (
    DEFAULT_LEDGER_TABLE,
    BatchLedger,
    FileLedger,
    open_ledger,
)
from airflow_provider_enkash.batch.outcomes import (
    SENDING,
    BatchIncompleteError,
    RowOutcome,
    summarize,
)
from airflow_provider_enkash.batch.plan import (
    DEFAULT_CHUNK_SIZE,
    chunk_rows,
    default_batch_id,
    read_batch,
)
from airflow_provider_enkash.batch.rows import BatchRow
from airflow_provider_enkash.batch.runner import DEFAULT_CONCURRENCY, BatchRunner, row_outcome
from airflow_provider_enkash.batch.validation import check_batch_arguments, check_cards, validate_rows
from airflow_provider_enkash.connection import DEFAULT_CONN_ID
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.operators.links import EnKashLedgerLink
from airflow_provider_enkash.references import batch_row_reference

if TYPE_CHECKING:
    from airflow_provider_enkash.hooks.enkash import EnKashHook

DEFAULT_LEDGER_FLUSH_ROWS = 500
DEFAULT_LEDGER_FLUSH_INTERVAL_S = 10.0
DRY_RUN_SAMPLE_ROWS = 20
_SOURCE_FIELDS = ("rows", "source_path", "sql", "batch_id")


class _BatchSourceMixin:
    """Arguments shared by the plan and load operators: the source of rows, the checks, the batch id."""

    def _init_source(
        self,
        *,
        enkash_conn_id: str,
        rows: Any,
        source_path: Any,
        file_format: str | None,
        sql: str | None,
        sql_conn_id: str | None,
        sql_parameters: Any,
        batch_id: str | None,
        max_amount_per_card: Decimal | str | int | None,
        max_batch_total: Decimal | str | int | None,
        max_rows: int | None,
        check_cards: bool,
    ) -> None:
        check_batch_arguments(max_amount_per_card=max_amount_per_card, max_batch_total=max_batch_total, max_rows=max_rows)
        self.enkash_conn_id = enkash_conn_id
        self.rows = rows
        self.source_path = source_path
        self.file_format = file_format
        self.sql = sql
        self.sql_conn_id = sql_conn_id
        self.sql_parameters = sql_parameters
        self.batch_id = batch_id
        self.max_amount_per_card = max_amount_per_card
        self.max_batch_total = max_batch_total
        self.max_rows = max_rows
        self.check_cards = check_cards

    def _validated_rows(self, hook_factory: Any) -> list[BatchRow]:
        raw = read_batch(
            rows=self.rows,
            source_path=self.source_path,
            file_format=self.file_format,
            sql=self.sql,
            sql_conn_id=self.sql_conn_id,
            sql_parameters=self.sql_parameters,
        )
        rows = validate_rows(
            raw,
            max_amount_per_card=self.max_amount_per_card,
            max_batch_total=self.max_batch_total,
            max_rows=self.max_rows,
            max_load_amount=hook_factory().settings.max_load_amount,
        )
        if self.check_cards:
            check_cards(hook_factory(), rows)
        return rows


class EnKashBatchPlanOperator(_BatchSourceMixin, BaseOperator):
    """Read and validate a whole batch, then split it into chunks for ``EnKashBatchLoadOperator.expand``.

    Returns the chunks (lists of row dicts keeping their source row numbers), ready for
    ``EnKashBatchLoadOperator.partial(...).expand(rows=plan.output)``, and pushes XCom ``summary``
    (``{"batch_id", "rows", "total_amount", "chunks"}``). A bad batch fails here with a row-level report and
    nothing is loaded. Source and check arguments are those of :class:`EnKashBatchLoadOperator`.

    :param chunk_size: rows per chunk, i.e. per mapped load task (default 1000).
    """

    template_fields: Sequence[str] = _SOURCE_FIELDS

    def __init__(
        self,
        *,
        enkash_conn_id: str = DEFAULT_CONN_ID,
        rows: Any = None,
        source_path: Any = None,
        file_format: str | None = None,
        sql: str | None = None,
        sql_conn_id: str | None = None,
        sql_parameters: Any = None,
        batch_id: str | None = None,
        max_amount_per_card: Decimal | str | int | None = None,
        max_batch_total: Decimal | str | int | None = None,
        max_rows: int | None = None,
        check_cards: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._init_source(
            enkash_conn_id=enkash_conn_id,
            rows=rows,
            source_path=source_path,
            file_format=file_format,
            sql=sql,
            sql_conn_id=sql_conn_id,
            sql_parameters=sql_parameters,
            batch_id=batch_id,
            max_amount_per_card=max_amount_per_card,
            max_batch_total=max_batch_total,
            max_rows=max_rows,
            check_cards=check_cards,
        )
        check_batch_arguments(chunk_size=chunk_size)
        self.chunk_size = chunk_size

    def execute(self, context: Context) -> list[list[dict[str, Any]]]:
        from airflow_provider_enkash.hooks.enkash import EnKashHook  # not at import: DAG parsing stays cheap

        rows = self._validated_rows(lambda: EnKashHook(self.enkash_conn_id))
        batch_id = self.batch_id or default_batch_id(context)
        chunks = chunk_rows(rows, chunk_size=self.chunk_size)
        total = sum((row.amount for row in rows), Decimal(0))
        self.log.info(
            "Batch %s: %d valid rows, %s rupees, %d chunk(s)",
            batch_id,
            len(rows),
            total,
            len(chunks),
        )
        summary = {
            "batch_id": batch_id,
            "rows": len(rows),
            "total_amount": str(total),
            "chunks": len(chunks),
        }
        context["ti"].xcom_push(key="summary", value=summary)
        return chunks


class _LedgerWriter:
    """Buffers outcomes and writes them every ``flush_rows`` rows or ``flush_interval_s`` seconds."""

    def __init__(self, ledger: BatchLedger, *, flush_rows: int, flush_interval_s: float) -> None:
        self.ledger = ledger
        self.flush_rows = flush_rows
        self.flush_interval_s = flush_interval_s
        self._buffer: list[RowOutcome] = []
        self._flushed_at = time.monotonic()

    def add(self, outcome: RowOutcome) -> None:
        self._buffer.append(outcome)
        if len(self._buffer) >= self.flush_rows or time.monotonic() - self._flushed_at >= self.flush_interval_s:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self.ledger.write(self._buffer)
            self._buffer = []
        self._flushed_at = time.monotonic()


class EnKashBatchLoadOperator(_BatchSourceMixin, BaseOperator):
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
        A batch that is not fresh (a task retry, or the ledger already holds rows of this batch id,
        including the ``sending`` marker written before the first load) is always looked up first.
    :param fail_on_failed: fail the task when any row ``failed`` (default True).
    :param fail_on_unknown: fail the task when any row is ``outcome_unknown`` (default True).
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
        enkash_conn_id: str = DEFAULT_CONN_ID,
        rows: Any = None,
        source_path: Any = None,
        file_format: str | None = None,
        sql: str | None = None,
        sql_conn_id: str | None = None,
        sql_parameters: Any = None,
        batch_id: str | None = None,
        ledger_path: Any = None,
        ledger_conn_id: str | None = None,
        ledger_table: str = DEFAULT_LEDGER_TABLE,
        concurrency: int = DEFAULT_CONCURRENCY,
        requests_per_second: float | None = None,
        max_amount_per_card: Decimal | str | int | None = None,
        max_batch_total: Decimal | str | int | None = None,
        max_rows: int | None = None,
        check_cards: bool = False,
        dry_run: bool = False,
        lookup_first: bool | None = None,
        fail_on_failed: bool = True,
        fail_on_unknown: bool = True,
        load_type: str = "LOAD_MONEY",
        transaction_code: str | None = None,
        description: str | None = None,
        created_by: str | None = None,
        ledger_flush_rows: int = DEFAULT_LEDGER_FLUSH_ROWS,
        ledger_flush_interval_s: float = DEFAULT_LEDGER_FLUSH_INTERVAL_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._init_source(
            enkash_conn_id=enkash_conn_id,
            rows=rows,
            source_path=source_path,
            file_format=file_format,
            sql=sql,
            sql_conn_id=sql_conn_id,
            sql_parameters=sql_parameters,
            batch_id=batch_id,
            max_amount_per_card=max_amount_per_card,
            max_batch_total=max_batch_total,
            max_rows=max_rows,
            check_cards=check_cards,
        )
        check_batch_arguments(
            concurrency=concurrency,
            requests_per_second=requests_per_second,
            ledger_flush_rows=ledger_flush_rows,
            ledger_flush_interval_s=ledger_flush_interval_s,
            load_type=load_type,
        )
        if (ledger_path is None) == (ledger_conn_id is None):
            raise EnKashValidationError("ledger", "give exactly one of ledger_path or ledger_conn_id")
        self.ledger_path = ledger_path
        self.ledger_conn_id = ledger_conn_id
        self.ledger_table = ledger_table
        self.concurrency = concurrency
        self.requests_per_second = requests_per_second
        self.dry_run = dry_run
        self.lookup_first = lookup_first
        self.fail_on_failed = fail_on_failed
        self.fail_on_unknown = fail_on_unknown
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
        previous = ledger.read(batch_id)
        carried = [previous[r.row_key] for r in rows if r.row_key in previous and previous[r.row_key].settled]
        todo = [r for r in rows if not (r.row_key in previous and previous[r.row_key].settled)]
        fresh = context["ti"].try_number <= 1 and not any(r.row_key in previous for r in rows)
        # A retry always looks references up, whatever lookup_first says.
        lookup_first = not fresh or bool(self.lookup_first)
        self.log.info(
            "Batch %s: %d rows, %d settled by an earlier attempt, %d to load (look-up first: %s), ledger %s",
            batch_id,
            len(rows),
            len(carried),
            len(todo),
            lookup_first,
            ledger.location,
        )
        if self.dry_run:
            return self._dry_run_report(batch_id, rows, todo, carried, lookup_first)

        if fresh:
            # Before anything is sent: a crash before the first ledger flush must not make the
            # next attempt (or a rerun of this batch id) look fresh and send every row again.
            ledger.write(row_outcome(r, batch_id, SENDING) for r in todo)
        writer = _LedgerWriter(
            ledger,
            flush_rows=self.ledger_flush_rows,
            flush_interval_s=self.ledger_flush_interval_s,
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
            )
        finally:
            writer.flush()
        summary = summarize(
            [*carried, *outcomes],
            batch_id=batch_id,
            carried_over=len(carried),
            ledger=ledger.location,
        )
        self.log.info(
            "Batch %s: %s; settled %s rupees",
            batch_id,
            summary["counts"],
            summary["settled_amount"],
        )
        context["ti"].xcom_push(key="batch_summary", value=summary)
        self._fail_if_incomplete(summary, aborted=runner.aborted)
        return summary

    def _fail_if_incomplete(self, summary: dict[str, Any], *, aborted: bool) -> None:
        failed, unknown = (
            summary["counts"]["failed"],
            summary["counts"]["outcome_unknown"],
        )
        if aborted or (failed and self.fail_on_failed) or (unknown and self.fail_on_unknown):
            lines = [
                f"row {p['row_number']} ({p['reference']}): {p['outcome']} {p['error_code'] or ''} {p['error_message'] or ''}".strip()
                for p in summary["problem_rows"]
            ]
            reason = "stopped early: EnKash refused the login; " if aborted else ""
            raise BatchIncompleteError(
                f"batch {summary['batch_id']}: {reason}{failed} failed and {unknown} outcome-unknown row(s) of "
                f"{summary['rows']}; a retry re-examines only those rows after a reference look-up. "
                f"Ledger: {summary['ledger']}\n  " + "\n  ".join(lines),
                summary=summary,
            )

    @staticmethod
    def _dry_run_report(
        batch_id: str,
        rows: list[BatchRow],
        todo: list[BatchRow],
        carried: list[RowOutcome],
        lookup_first: bool,
    ) -> dict[str, Any]:
        return {
            "batch_id": batch_id,
            "dry_run": True,
            "rows": len(rows),
            "total_amount": str(sum((r.amount for r in rows), Decimal(0))),
            "would_load": len(todo),
            "would_load_amount": str(sum((r.amount for r in todo), Decimal(0))),
            "settled_in_ledger": len(carried),
            "lookup_first": lookup_first,
            "sample": [
                {
                    **row.to_dict(),
                    "unique_reference_number": batch_row_reference(batch_id=batch_id, row_key=row.row_key),
                }
                for row in todo[:DRY_RUN_SAMPLE_ROWS]
            ],
        }
