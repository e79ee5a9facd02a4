"""Planning a batch load: read and validate the whole batch, split it into chunks for fan-out.

:class:`EnKashBatchPlanOperator` feeds ``EnKashBatchLoadOperator.partial(...).expand(rows=...)``;
both share the source arguments of :class:`_BatchSourceOperator`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

# Only what building the task needs (DAG files parse this); reading and checking rows is imported by execute.
from airflow_provider_enkash import DEFAULT_CONN_ID
from airflow_provider_enkash.batch.arguments import DEFAULT_CHUNK_SIZE, check_batch_arguments

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_enkash.batch.outcomes import RowOutcome
    from airflow_provider_enkash.batch.rows import BatchRow

_SOURCE_FIELDS = ("rows", "source_path", "sql", "batch_id")
DRY_RUN_SAMPLE_ROWS = 20  # loads a dry run shows


class _BatchSourceOperator(BaseOperator):
    """Arguments shared by the plan and load operators: the source of rows, the checks, the batch id.

    Documented on :class:`~airflow_provider_enkash.operators.batch_load.EnKashBatchLoadOperator`.
    """

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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_batch_arguments(
            max_amount_per_card=max_amount_per_card, max_batch_total=max_batch_total, max_rows=max_rows
        )
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
        from airflow_provider_enkash.batch.plan import read_batch
        from airflow_provider_enkash.batch.validation import check_cards, validate_rows

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


class EnKashBatchPlanOperator(_BatchSourceOperator):
    """Read and validate a whole batch, then split it into chunks for ``EnKashBatchLoadOperator.expand``.

    Returns the chunks (lists of row dicts keeping their source row numbers), ready for
    ``EnKashBatchLoadOperator.partial(...).expand(rows=plan.output)``, and pushes XCom ``summary``
    (``{"batch_id", "rows", "total_amount", "chunks"}``). A bad batch fails here with a row-level report and
    nothing is loaded. Source and check arguments are those of :class:`EnKashBatchLoadOperator`.

    :param chunk_size: rows per chunk, i.e. per mapped load task (default 1000).
    """

    template_fields: Sequence[str] = _SOURCE_FIELDS

    def __init__(self, *, chunk_size: int = DEFAULT_CHUNK_SIZE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_batch_arguments(chunk_size=chunk_size)
        self.chunk_size = chunk_size

    def execute(self, context: Context) -> list[list[dict[str, Any]]]:
        from airflow_provider_enkash.batch.plan import chunk_rows, default_batch_id
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


def dry_run_report(
    batch_id: str, rows: list[BatchRow], previous: Mapping[str, RowOutcome], *, lookup_first: bool | None
) -> dict[str, Any]:
    """What a batch load would do (its ``dry_run``): rows, amounts, rows already settled in the ledger
    (``previous``, by row key) and a sample of the loads it would send with their references."""
    from airflow_provider_enkash.references import batch_row_reference

    carried = [previous[r.row_key] for r in rows if r.row_key in previous and previous[r.row_key].settled]
    todo = [r for r in rows if not (r.row_key in previous and previous[r.row_key].settled)]
    return {
        "batch_id": batch_id,
        "dry_run": True,
        "rows": len(rows),
        "total_amount": str(sum((r.amount for r in rows), Decimal(0))),
        "would_load": len(todo),
        "would_load_amount": str(sum((r.amount for r in todo), Decimal(0))),
        "settled_in_ledger": len(carried),
        "lookup_first": bool(previous) or bool(lookup_first),
        "sample": [
            {
                **row.to_dict(),
                "unique_reference_number": batch_row_reference(batch_id=batch_id, row_key=row.row_key),
            }
            for row in todo[:DRY_RUN_SAMPLE_ROWS]
        ],
    }
