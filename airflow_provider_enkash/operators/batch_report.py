"""After a batch load: reconcile its ledger with EnKash, then write the batch's report files.

:class:`EnKashBatchReconcileOperator` looks every ledger row up at EnKash by reference (waiting while
credits are still pending); :class:`EnKashBatchReportOperator` writes ``report.csv`` and
``needs_action.csv`` beside the ledger and fails on any row that needs a human. Both read the ledger
an :class:`~airflow_provider_enkash.operators.batch_load.EnKashBatchLoadOperator` wrote (same
``batch_id``, same ``ledger_path`` or ``ledger_conn_id``). Only what building the tasks needs is
imported here: the ledger, reader and report modules are imported when the task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_enkash import DEFAULT_CONN_ID
from airflow_provider_enkash.batch.arguments import check_ledger_choice
from airflow_provider_enkash.exceptions import EnKashValidationError

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_enkash.batch.ledger import BatchLedger

_LEDGER_FIELDS = ("batch_id", "ledger_path")


class _BatchLedgerOperator(BaseOperator):
    """Names one batch's ledger: ``batch_id`` and exactly one of ``ledger_path`` or ``ledger_conn_id``."""

    def __init__(
        self,
        *,
        batch_id: str,
        ledger_path: Any = None,
        ledger_conn_id: str | None = None,
        ledger_table: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_ledger_choice(ledger_path=ledger_path, ledger_conn_id=ledger_conn_id)
        self.batch_id = batch_id
        self.ledger_path = ledger_path
        self.ledger_conn_id = ledger_conn_id
        self.ledger_table = ledger_table

    def open_ledger(self) -> BatchLedger:
        from airflow_provider_enkash.batch.ledger import open_ledger

        table = {} if self.ledger_table is None else {"ledger_table": self.ledger_table}
        return open_ledger(ledger_path=self.ledger_path, ledger_conn_id=self.ledger_conn_id, **table)


class EnKashBatchReconcileOperator(_BatchLedgerOperator):
    """Compare every row of a batch's ledger with EnKash's transactions, once no credit is pending.

    Looks every reference up (``reconcile_when_settled``) and again every ``poll_interval_s`` while
    credits are accepted but not settled, for at most ``settle_timeout_s``; a credit still pending then
    is a problem. Returns (XCom) ``{"batch_id", "verdicts", "consistent", "pending",
    "settled_amount_at_enkash", "problems", ...}``. It does not fail on problems: the report does.

    :param batch_id: the batch's id, as given to the load. Templated.
    :param ledger_path: the load's ledger folder (any ``ObjectStoragePath``). Templated.
    :param ledger_conn_id: or the load's common.sql ledger connection.
    :param ledger_table: its ledger table (default ``enkash_batch_ledger``).
    :param enkash_conn_id: EnKash connection (default ``enkash_default``).
    :param settle_timeout_s: seconds to wait for pending credits to settle (default 1800).
    :param poll_interval_s: seconds between look-ups while credits are pending (default 30).
    """

    template_fields: Sequence[str] = _LEDGER_FIELDS

    def __init__(
        self,
        *,
        enkash_conn_id: str = DEFAULT_CONN_ID,
        settle_timeout_s: float = 1800.0,
        poll_interval_s: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for field, value in (("settle_timeout_s", settle_timeout_s), ("poll_interval_s", poll_interval_s)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or value < 0
            ):
                raise EnKashValidationError(field, f"must be seconds >= 0, got {value!r}")
        self.enkash_conn_id = enkash_conn_id
        self.settle_timeout_s = settle_timeout_s
        self.poll_interval_s = poll_interval_s

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_enkash.batch.reconcile import DEFAULT_SETTLE_POLL_S, reconcile_when_settled
        from airflow_provider_enkash.hooks.enkash import EnKashHook

        return {
            "batch_id": self.batch_id,
            **reconcile_when_settled(
                EnKashHook(self.enkash_conn_id),
                self.open_ledger().read(self.batch_id).values(),
                settle_timeout_s=self.settle_timeout_s,
                poll_interval_s=DEFAULT_SETTLE_POLL_S
                if self.poll_interval_s is None
                else self.poll_interval_s,
            ),
        }


class EnKashBatchReportOperator(_BatchLedgerOperator):
    """Write a batch's ``report.csv`` and ``needs_action.csv``; fail on any row that needs action.

    ``report.csv`` holds every row of the batch file with its outcome and EnKash transaction id;
    ``needs_action.csv`` the rows not known to be paid, in the batch file's own columns, ready to be
    fixed and submitted again under the same batch id. Both go into the batch's folder under
    ``report_path`` (laid out as a file ledger's; default ``ledger_path``). Every asset in ``outlets``
    gets an event whose extra is ``{"batch_id", "ledger", "report_path", "needs_action_path", "rows",
    "needs_action", "counts", "settled_amount", "needs_action_amount"}``. Fails (no retries) when the
    plan pushed no summary (the batch did not validate: nothing was loaded), when any row needs action,
    or when ``reconciliation`` is missing or says ledger and EnKash disagree. Returns the reconciliation
    with the report under ``report``.

    :param batch_id: the batch's id, as given to the load. Templated.
    :param source_path: the batch file the plan read (CSV or JSON Lines, any ``ObjectStoragePath``).
        Templated.
    :param file_format: ``csv`` or ``jsonl`` (default from the file suffix).
    :param plan_task_id: the :class:`~airflow_provider_enkash.operators.batch_plan.EnKashBatchPlanOperator`
        task whose XCom ``summary`` (rows, total) the report logs.
    :param reconciliation: the :class:`EnKashBatchReconcileOperator` result (e.g. its ``.output``).
        Templated.
    :param ledger_path: the load's ledger folder. Templated.
    :param ledger_conn_id: or the load's common.sql ledger connection (then give ``report_path``).
    :param ledger_table: its ledger table (default ``enkash_batch_ledger``).
    :param report_path: folder for the report files (default ``ledger_path``). Templated.
    """

    template_fields: Sequence[str] = (*_LEDGER_FIELDS, "source_path", "reconciliation", "report_path")

    def __init__(
        self,
        *,
        source_path: Any,
        plan_task_id: str,
        reconciliation: Any,
        file_format: str | None = None,
        report_path: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if report_path is None and self.ledger_path is None:
            raise EnKashValidationError("report_path", "give report_path when the ledger is a SQL table")
        self.source_path = source_path
        self.file_format = file_format
        self.plan_task_id = plan_task_id
        self.reconciliation = reconciliation
        self.report_path = report_path

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException  # a retry cannot change the report

        from airflow_provider_enkash.batch.ledger import FileLedger
        from airflow_provider_enkash.batch.plan import read_batch
        from airflow_provider_enkash.batch.report import write_batch_report
        from airflow_provider_enkash.batch.validation import validate_rows

        batch, result = self.batch_id, self.reconciliation
        plan = context["ti"].xcom_pull(task_ids=self.plan_task_id, key="summary")
        if plan is None:  # fail, so the run fails (this task is usually its leaf)
            raise AirflowFailException(
                f"no report: the batch file did not validate (see task {self.plan_task_id!r}); nothing was loaded"
            )
        source_rows = read_batch(source_path=self.source_path, file_format=self.file_format)
        ledger = self.open_ledger()
        written = write_batch_report(
            rows=validate_rows(source_rows),
            source_rows=source_rows,
            outcomes=ledger.read(batch),
            directory=FileLedger(self.report_path or self.ledger_path).folder(batch),  # the batch's folder
        )
        at_enkash = result["settled_amount_at_enkash"] if result else "not reconciled"
        self.log.info(
            "Batch %s: %s rows, %s rupees planned; outcomes %s; settled %s rupees; credited at EnKash: %s; "
            "report: %s; needs action (%d rows, %s rupees): %s",
            batch, plan["rows"], plan["total_amount"], written.counts, written.settled_amount, at_enkash,
            written.report_path, written.needs_action, written.needs_action_amount, written.needs_action_path,
        )  # fmt: skip
        for asset in self.outlets:
            context["outlet_events"][asset].extra = {
                "batch_id": batch,
                "ledger": ledger.location,
                **written.to_dict(),
            }
        if not result:
            raise AirflowFailException(
                f"batch {batch}: {written.needs_action} row(s) need action (see {written.needs_action_path}); "
                "ledger and EnKash not compared: no reconciliation (did the reconcile task fail?)"
            )
        if written.needs_action or not result["consistent"]:
            raise AirflowFailException(
                f"batch {batch}: {written.needs_action} row(s) need action (see {written.needs_action_path}); "
                f"ledger and EnKash {'agree' if result['consistent'] else 'disagree'}: {result['problems'][:5]}"
            )
        return {**result, "report": written.to_dict()}
