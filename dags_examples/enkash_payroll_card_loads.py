"""Payroll top-ups onto employee prepaid cards, on the 1st and 15th at 09:00 Asia/Kolkata.

batch_name (pay-period guard) -> validate -> approve (optional) -> load (chunks, ``.expand``)
-> reconcile -> report

- **batch_name** decides which pay period this run pays and names the batch ``payroll-<pay day>``;
  it pays nothing (every later task is skipped, with the reason in its log) rather than pay a
  period nobody asked for:

  - a *scheduled* run pays its own pay day (the 1st or 15th), but only when it starts within
    ``late_scheduled_run_hours`` (default 6) of it. The run the scheduler adds when the DAG is
    unpaused weeks later (e.g. by "Unpause on trigger" in the Trigger dialog) is skipped;
  - a *manual* run pays ``pay_period``: a date (``2025-01-15``), or ``current`` (the default):
    the latest 1st or 15th at or before now in IST, whatever logical date the run carries.

  The same pay day always names the same batch, so a manual run next to the scheduled run of
  the same period, a retry, or a cleared task pays nobody twice.
- **validate** reads the payroll file and checks the whole batch (amounts, duplicates, a per-card cap
  and a batch cap); a bad file fails here with a row-level report and nothing is loaded.
- **approve** (param ``require_approval``, off by default so scheduled runs and the demo run
  unattended) is Airflow's ``ApprovalOperator``: the run waits for an "Approve" in the UI, which
  shows the plan's rows and rupee total. Without ``require_approval`` it succeeds at once.
- **load** runs one mapped task per chunk of ``CHUNK_SIZE`` rows, so on Celery or Kubernetes the batch
  spreads over workers; each task loads its rows 8 at a time through one hook and writes the ledger.
- **reconcile** looks every ledger reference up at EnKash, again every ``SETTLE_POLL_S`` while credits
  are still pending (accepted, not settled: they may still fail), for up to ``SETTLE_TIMEOUT_S``;
  **report** writes ``report.csv`` (every
  row, its outcome and EnKash transaction id) and ``needs_action.csv`` (rows not known to be paid,
  in the payroll file's own columns, ready to be fixed and re-submitted for the same pay period)
  beside the ledger, emits an event of the ``enkash_payroll_ledger`` asset, and fails on any row
  that needs action or any disagreement with EnKash.

The tasks are operator classes, not ``@task`` functions: ``@task`` imports Airflow's Python operators
(and ``packaging``) when the file is parsed, which costs more than this whole file.

Deployment knobs (environment, read when the DAG is parsed): ``ENKASH_PAYROLL_LEDGER_CONN_ID``
puts the ledger in a SQL table on that common.sql connection instead of the ``ledger_path``
folder (use it when workers do not share a disk, e.g. on Celery or Kubernetes);
``ENKASH_PAYROLL_CHUNK_SIZE`` sets the rows per mapped load task (default 500);
``ENKASH_PAYROLL_RETRY_DELAY_S`` the seconds before a failed task's retry (default 120);
``ENKASH_PAYROLL_LEASE_TTL_S`` how long a chunk's lease outlives a dead worker before a retry may
take the chunk over (default 300); ``ENKASH_PAYROLL_SETTLE_TIMEOUT_S`` and ``ENKASH_PAYROLL_SETTLE_POLL_S``
how long reconcile waits for pending credits to settle (default 1800) and how often it looks (default 30).

Demo against the sandbox (the sample file's cards are the 12 cards the sandbox seeds with
``--seed-cards 12`` and the default random seed)::

    enkash-sandbox --seed-cards 12 &      # prints the AIRFLOW_CONN_ENKASH_DEFAULT to export
    airflow dags test enkash_payroll_card_loads
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
from airflow.sdk import Asset, BaseOperator, Context, CronTriggerTimetable, Param, dag
from airflow.sdk.bases.skipmixin import SkipMixin

from airflow_provider_enkash.operators.batch_load import (
    EnKashBatchLoadOperator,
    EnKashBatchPlanOperator,
)
from airflow_provider_enkash.operators.batch_report import (
    EnKashBatchReconcileOperator,
    EnKashBatchReportOperator,
)

IST = ZoneInfo("Asia/Kolkata")
PAY_DAYS = (1, 15)  # days of the month payroll is paid; the schedule below runs on them
SAMPLE_FILE = Path(__file__).resolve().parent / "data" / "payroll_sample.csv"
DEFAULT_LEDGER = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")) / "enkash_ledgers"
CHUNK_SIZE = int(os.environ.get("ENKASH_PAYROLL_CHUNK_SIZE", "500"))
# A SQL ledger (a common.sql connection id) for workers without a shared disk; unset: the ledger_path folder.
LEDGER_CONN_ID = os.environ.get("ENKASH_PAYROLL_LEDGER_CONN_ID") or None
RETRY_DELAY = timedelta(seconds=float(os.environ.get("ENKASH_PAYROLL_RETRY_DELAY_S", "120")))
LEASE_TTL_S = float(os.environ.get("ENKASH_PAYROLL_LEASE_TTL_S", "300"))
# Reconcile waits while credits are accepted but not settled (a pending credit may still fail).
SETTLE_TIMEOUT_S = float(os.environ.get("ENKASH_PAYROLL_SETTLE_TIMEOUT_S", "1800"))
SETTLE_POLL_S = float(os.environ.get("ENKASH_PAYROLL_SETTLE_POLL_S", "30"))
MAX_PER_CARD = "200000.00"  # rupees one employee may receive in one payroll run
MAX_BATCH_TOTAL = "5000000.00"  # rupees one payroll run may move
CURRENT_PERIOD = "current"
#: Updated by every payroll run that reaches its report (extra: batch, counts, rupees, report files).
PAYROLL_LEDGER = Asset(name="enkash_payroll_ledger", uri=DEFAULT_LEDGER.as_uri())

APPROVAL_BODY = """\
{% set plan = ti.xcom_pull(task_ids='validate', key='summary') %}
Pay period **{{ ti.xcom_pull(task_ids='batch_name') }}** from `{{ params.payroll_file }}`:

| rows | total (rupees) | chunks |
|---:|---:|---:|
| {{ plan.rows }} | {{ plan.total_amount }} | {{ plan.chunks }} |

Approve to load every row; reject to load nothing.
"""


def latest_pay_day(moment: datetime) -> date:
    """The latest pay day (1st or 15th) on or before ``moment``'s date in IST."""
    today = moment.astimezone(IST).date()
    return today.replace(day=max(d for d in PAY_DAYS if d <= today.day))


def period_to_pay(
    *, run_type: str, logical_date: datetime | None, requested: str, late_after: timedelta, now: datetime
) -> tuple[str | None, str]:
    """The pay day (``YYYY-MM-DD``) this run pays, or ``None`` when it must pay nothing; and why.

    :param run_type: the DAG run's type (``scheduled``, ``manual``, ...; a string or Airflow's enum).
    :param logical_date: the run's logical date: for a scheduled run, its pay day at 09:00 IST.
    :param requested: the ``pay_period`` param: ``current`` or a ``YYYY-MM-DD`` date.
    :param late_after: a scheduled run starting later than this after its pay day pays nothing.
    """
    run_type = getattr(run_type, "value", run_type)  # the enum's str() is "DagRunType.SCHEDULED"
    if run_type == "scheduled":
        if logical_date is None:
            return None, "a scheduled run without a logical date has no pay day"
        pay_day = logical_date.astimezone(IST).date().isoformat()
        late = now - logical_date
        if late > late_after:
            return None, (
                f"scheduled run for pay day {pay_day} started {late} after it, more than "
                f"late_scheduled_run_hours ({late_after}): skipped, so unpausing the DAG never pays an old "
                f"period. To pay it, trigger the DAG with pay_period={pay_day}."
            )
        return pay_day, f"scheduled run for pay day {pay_day}"
    if requested == CURRENT_PERIOD:
        pay_day = latest_pay_day(now).isoformat()
        return pay_day, f"{run_type} run, pay_period=current: the latest pay day, {pay_day}"
    try:
        date.fromisoformat(requested)
    except ValueError:
        raise ValueError(f"pay_period: {requested!r} is neither 'current' nor a YYYY-MM-DD date") from None
    return requested, f"{run_type} run for the requested pay_period {requested}"


class PayPeriodOperator(BaseOperator, SkipMixin):
    """Returns ``payroll-<pay day>`` (the batch id), or skips every later task (whatever its trigger
    rule, as ``@task.short_circuit`` does) and returns False when the run must pay nothing."""

    inherits_from_skipmixin = True  # the scheduler keeps the tasks skipped when they are cleared

    def execute(self, context: Context) -> str | bool:
        params, run = context["params"], context["dag_run"]
        pay_day, reason = period_to_pay(
            run_type=run.run_type,
            logical_date=run.logical_date,
            requested=params["pay_period"],
            late_after=timedelta(hours=params["late_scheduled_run_hours"]),
            now=datetime.now(UTC),
        )
        self.log.info("Pays %s: %s", "nothing" if pay_day is None else pay_day, reason)
        if pay_day is None:
            later = context["task"].get_flat_relatives(upstream=False)
            self.skip(ti=context["ti"], tasks=[t for t in later if not t.is_teardown])
            return False
        return f"payroll-{pay_day}"


class ApproveWhenRequiredOperator(BaseOperator, SkipMixin):
    """Airflow's ``ApprovalOperator`` (Approve / Reject in the UI's Required Actions; a Reject skips the
    next task) when the param ``require_approval`` is on; else it succeeds at once.

    Airflow's operator is built when a run asks for approval, not when the file is parsed: importing it
    costs more than the rest of this file.
    """

    template_fields = ("subject", "body")
    inherits_from_skipmixin = True  # the scheduler keeps a rejected run's load skipped when it is cleared

    def __init__(self, *, subject: str, body: str, response_timeout: timedelta, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.subject, self.body, self.response_timeout = subject, body, response_timeout

    def _approval(self) -> Any:
        from airflow.providers.standard.operators.hitl import ApprovalOperator

        return ApprovalOperator(
            task_id=self.task_id, subject=self.subject, body=self.body, response_timeout=self.response_timeout
        )

    def execute(self, context: Context) -> Any:
        if not context["params"]["require_approval"]:
            self.log.info("require_approval is off: no approval needed")
            return None
        return self._approval().execute(context)  # waits for the answer, then resumes in execute_complete

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        approval = self._approval()
        answer = approval.execute_complete(context, event)  # checks the answer; a timeout fails the task
        if answer["chosen_options"] != [approval.APPROVE]:
            later = context["task"].get_direct_relatives(upstream=False)
            self.skip(ti=context["ti"], tasks=[t for t in later if not t.is_teardown])
        return answer


@dag(
    dag_id="enkash_payroll_card_loads",
    schedule=CronTriggerTimetable("0 9 1,15 * *", timezone="Asia/Kolkata"),
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Kolkata"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": RETRY_DELAY},
    params={
        "payroll_file": Param(
            str(SAMPLE_FILE),
            type="string",
            minLength=1,
            description="CSV or JSON Lines payroll file (any ObjectStoragePath URL)",
        ),
        "pay_period": Param(
            CURRENT_PERIOD,
            type="string",
            pattern=r"^(current|\d{4}-\d{2}-\d{2})$",
            description="Pay day this manual run pays, e.g. 2025-01-15; 'current': the latest 1st or 15th "
            "(IST). Names the batch: the same pay day is never paid twice. Scheduled runs pay their own pay day.",
        ),
        "late_scheduled_run_hours": Param(
            6,
            type="integer",
            minimum=0,
            description="A scheduled run starting more than this many hours after its pay day pays nothing "
            "(e.g. the run added when the DAG is unpaused weeks later)",
        ),
        "require_approval": Param(
            False,
            type="boolean",
            description="wait for a human 'Approve' (showing the plan's totals) before loading",
        ),
        "ledger_path": Param(
            str(DEFAULT_LEDGER),
            type="string",
            minLength=1,
            description="folder of the per-row ledger (unless ENKASH_PAYROLL_LEDGER_CONN_ID is set); "
            "report.csv and needs_action.csv are written in the batch's folder here",
        ),
    },
    tags=["enkash", "payroll"],
    doc_md=__doc__,
)
def enkash_payroll_card_loads():
    batch_id = PayPeriodOperator(task_id="batch_name").output
    validate = EnKashBatchPlanOperator(
        task_id="validate",
        source_path="{{ params.payroll_file }}",
        batch_id=batch_id,
        max_amount_per_card=MAX_PER_CARD,
        max_batch_total=MAX_BATCH_TOTAL,
        chunk_size=CHUNK_SIZE,
    )
    approve = ApproveWhenRequiredOperator(
        task_id="approve",
        subject="Approve payroll top-ups {{ ti.xcom_pull(task_ids='batch_name') }}",
        body=APPROVAL_BODY,
        response_timeout=timedelta(hours=6),
    )
    # the ledger: a folder under the ledger_path param, or a SQL table (ENKASH_PAYROLL_LEDGER_CONN_ID)
    ledger = {
        "ledger_path": None if LEDGER_CONN_ID else "{{ params.ledger_path }}",
        "ledger_conn_id": LEDGER_CONN_ID,
    }
    load = EnKashBatchLoadOperator.partial(
        task_id="load",
        batch_id=batch_id,
        **ledger,
        lease_ttl=LEASE_TTL_S,
        concurrency=8,
        description="Payroll top-up",
    ).expand(rows=validate.output)
    reconcile = EnKashBatchReconcileOperator(
        task_id="reconcile",
        batch_id=batch_id,
        **ledger,
        settle_timeout_s=SETTLE_TIMEOUT_S,
        poll_interval_s=SETTLE_POLL_S,
        trigger_rule="all_done",
    )
    report = EnKashBatchReportOperator(
        task_id="report",
        batch_id=batch_id,
        **ledger,
        report_path="{{ params.ledger_path }}",  # report.csv and needs_action.csv: in the batch's folder here
        source_path="{{ params.payroll_file }}",
        plan_task_id="validate",
        reconciliation=reconcile.output,
        trigger_rule="all_done",
        outlets=[PAYROLL_LEDGER],
    )
    validate >> approve >> load >> reconcile >> report


payroll_dag = enkash_payroll_card_loads()
