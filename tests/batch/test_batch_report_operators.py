"""EnKashBatchReconcileOperator and EnKashBatchReportOperator against the sandbox, after a real batch load."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_enkash.batch import FileLedger
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.operators.batch_load import EnKashBatchLoadOperator
from airflow_provider_enkash.operators.batch_report import (
    EnKashBatchReconcileOperator,
    EnKashBatchReportOperator,
)

from .helpers import QUIET_S, TaskInstanceStub, new_cards, payroll

BATCH = "payroll-2025-01-15"
ASSET = Asset(name="test_batch_ledger", uri="file:///tmp/test_batch_ledger")
PLAN = {"batch_id": BATCH, "rows": 3, "total_amount": "3000.06", "chunks": 1}


class _TaskInstance(TaskInstanceStub):
    """Also answers ``xcom_pull`` for the plan's summary (None: the plan pushed none)."""

    plan: dict[str, Any] | None = None

    def xcom_pull(self, *, task_ids: str, key: str) -> Any:
        assert (task_ids, key) == ("validate", "summary")
        return self.plan


def _context(plan: dict[str, Any] | None) -> dict[str, Any]:
    ti = _TaskInstance()
    ti.plan = plan
    return {"ti": ti, "outlet_events": defaultdict(lambda: SimpleNamespace(extra=None))}


def _batch_file(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "payroll.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["enkash_card_id", "amount", "remarks"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _load(path: Path, ledger: Path) -> None:
    operator = EnKashBatchLoadOperator(
        task_id="load",
        source_path=str(path),
        batch_id=BATCH,
        ledger_path=str(ledger),
        resend_quiet_period=QUIET_S,
        fail_on_failed=False,
    )
    operator.execute({"ti": TaskInstanceStub()})


def _reconcile(ledger: Path) -> dict[str, Any]:
    operator = EnKashBatchReconcileOperator(
        task_id="reconcile", batch_id=BATCH, ledger_path=str(ledger), settle_timeout_s=30, poll_interval_s=0.2
    )
    return operator.execute(_context(None))


def _report(path: Path, ledger: Path, reconciliation: Any) -> EnKashBatchReportOperator:
    return EnKashBatchReportOperator(
        task_id="report",
        batch_id=BATCH,
        ledger_path=str(ledger),
        source_path=str(path),
        plan_task_id="validate",
        reconciliation=reconciliation,
        outlets=[ASSET],
    )


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_settled_batch_reconciles_and_reports_every_row_loaded(sandbox, hook, tmp_path):
    sandbox.post("config", {"settle_delay_s": 0.5})  # reconcile waits for the credits to settle
    rows = payroll(new_cards(hook, 3))
    path, ledger = _batch_file(tmp_path, rows), tmp_path / "ledger"
    _load(path, ledger)

    result = _reconcile(ledger)
    assert (result["batch_id"], result["verdicts"], result["consistent"]) == (BATCH, {"matched": 3}, True)

    ctx = _context(PLAN)
    returned = _report(path, ledger, result).execute(ctx)
    folder = Path(str(FileLedger(str(ledger)).folder(BATCH)))
    report = _read(folder / "report.csv")
    assert [(r["enkash_card_id"], r["outcome"]) for r in report] == [
        (r["enkash_card_id"], "loaded") for r in rows
    ]
    assert _read(folder / "needs_action.csv") == []
    assert returned["report"]["counts"] == {"loaded": 3} and returned["consistent"]
    extra = ctx["outlet_events"][ASSET].extra
    assert (extra["batch_id"], extra["rows"], extra["needs_action"], extra["ledger"]) == (
        BATCH, 3, 0, str(ledger),
    )  # fmt: skip


def test_a_refused_row_lands_in_needs_action_and_fails_the_report(sandbox, hook, tmp_path):
    rows = [
        *payroll(new_cards(hook, 2)),
        {"enkash_card_id": "EKCDUNKNOWN9", "amount": "5.00", "remarks": "x"},
    ]
    path, ledger = _batch_file(tmp_path, rows), tmp_path / "ledger"
    _load(path, ledger)
    sandbox.post("settle")
    result = _reconcile(ledger)
    with pytest.raises(
        AirflowFailException, match=rf"batch {BATCH}: 1 row\(s\) need action \(see .*needs_action"
    ):
        _report(path, ledger, result).execute(_context(PLAN))
    needs_action = _read(Path(str(FileLedger(str(ledger)).folder(BATCH))) / "needs_action.csv")
    assert needs_action == [rows[2]]


def test_no_plan_summary_means_no_report(sandbox, tmp_path):
    path = _batch_file(tmp_path, [{"enkash_card_id": "EKCD1", "amount": "1.00", "remarks": ""}])
    with pytest.raises(AirflowFailException, match="no report: the batch file did not validate .*'validate'"):
        _report(path, tmp_path / "ledger", {"consistent": True}).execute(_context(None))
    assert not (tmp_path / "ledger").exists()


def test_a_missing_reconciliation_fails_the_report_after_writing_it(sandbox, hook, tmp_path):
    rows = payroll(new_cards(hook, 1))
    path, ledger = _batch_file(tmp_path, rows), tmp_path / "ledger"
    _load(path, ledger)
    with pytest.raises(AirflowFailException, match="ledger and EnKash not compared: no reconciliation"):
        _report(path, ledger, None).execute(_context(PLAN))
    assert (Path(str(FileLedger(str(ledger)).folder(BATCH))) / "report.csv").exists()


def test_bad_arguments_are_refused_when_the_task_is_built():
    with pytest.raises(EnKashValidationError, match="ledger"):
        EnKashBatchReconcileOperator(task_id="r", batch_id=BATCH)
    with pytest.raises(EnKashValidationError, match="settle_timeout_s"):
        EnKashBatchReconcileOperator(task_id="r", batch_id=BATCH, ledger_path="/tmp/x", settle_timeout_s=-1)
    with pytest.raises(EnKashValidationError, match="report_path"):
        EnKashBatchReportOperator(
            task_id="report", batch_id=BATCH, ledger_conn_id="warehouse", source_path="f.csv",
            plan_task_id="validate", reconciliation=None,
        )  # fmt: skip
