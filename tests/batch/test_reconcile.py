"""reconcile_ledger reads EnKash through the truncation-aware reader and the connection's status words."""

from __future__ import annotations

import pytest

from airflow_provider_enkash.batch import FileLedger, reconcile_ledger
from airflow_provider_enkash.batch.reconcile import reconcile_when_settled
from airflow_provider_enkash.operators.batch_load import EnKashBatchLoadOperator

from .helpers import QUIET_S, context, new_cards, payroll

BATCH = "reconcile-2025-01-15"


def _load(tmp_path, rows) -> FileLedger:
    EnKashBatchLoadOperator(
        task_id="load",
        rows=rows,
        batch_id=BATCH,
        ledger_path=str(tmp_path / "ledger"),
        resend_quiet_period=QUIET_S,
    ).execute(context())
    return FileLedger(tmp_path / "ledger")


def test_a_loaded_batch_reconciles_as_matched(sandbox, hook, tmp_path):
    ledger = _load(tmp_path, payroll(new_cards(hook, 3)))
    sandbox.post("settle")
    report = reconcile_ledger(hook, ledger.read(BATCH).values())
    assert report["verdicts"] == {"matched": 3} and report["consistent"]


def test_a_corrected_amount_shows_as_amount_mismatch_with_both_amounts(sandbox, hook, tmp_path):
    rows = payroll(new_cards(hook, 2))
    ledger = _load(tmp_path, rows)
    corrected = [dict(rows[0], amount="1500.00"), rows[1]]
    with pytest.raises(Exception, match="amount-mismatch"):
        _load(tmp_path, corrected)
    sandbox.post("settle")
    report = reconcile_ledger(hook, ledger.read(BATCH).values())
    assert report["verdicts"] == {"amount_mismatch": 1, "matched": 1}
    (problem,) = report["problems"]
    assert (problem["ledger_amount"], problem["enkash_amounts"]) == ("1500.00", [rows[0]["amount"]])


def test_a_search_that_ignores_filters_is_unknown_never_missing(sandbox, hook, tmp_path):
    ledger = _load(tmp_path, payroll(new_cards(hook, 4)))
    sandbox.post("config", {"ignore_search_filters": True, "max_records": 2})
    report = reconcile_ledger(hook, ledger.read(BATCH).values())
    assert report["verdicts"] == {"unknown_at_enkash": 4} and not report["consistent"]


def test_an_unknown_status_word_is_a_problem_not_a_match(sandbox, hook, tmp_path):
    ledger = _load(tmp_path, payroll(new_cards(hook, 2)))
    sandbox.post("settle")
    sandbox.post("config", {"status_words": {"SUCCESS": "SUCCESSFUL"}})
    report = reconcile_ledger(hook, ledger.read(BATCH).values())
    assert report["verdicts"] == {"unknown_status": 2}


def test_a_credit_still_pending_is_not_matched(sandbox, hook, tmp_path):
    """Accepted is not paid: a pending credit may still fail (finding F7)."""
    sandbox.post("config", {"settle_delay_s": 3600})
    ledger = _load(tmp_path, payroll(new_cards(hook, 2)))
    report = reconcile_ledger(hook, ledger.read(BATCH).values())
    assert report["verdicts"] == {"pending_at_enkash": 2} and not report["consistent"]
    assert report["pending"] == 2
    waited = reconcile_when_settled(
        hook, ledger.read(BATCH).values(), settle_timeout_s=0.5, poll_interval_s=0.2
    )
    assert waited["verdicts"] == {"pending_at_enkash": 2} and not waited["consistent"]


def test_reconcile_when_settled_waits_and_sees_credits_that_settle_failed(sandbox, hook, tmp_path):
    """The adversary's r8: loads accepted, then settled FAILED; reconciling right away said "matched"."""
    sandbox.post("config", {"settle_delay_s": 1.5, "failure_rate": 1.0})
    ledger = _load(tmp_path, payroll(new_cards(hook, 2)))
    report = reconcile_when_settled(
        hook, ledger.read(BATCH).values(), settle_timeout_s=30, poll_interval_s=0.3
    )
    assert report["verdicts"] == {"failed_at_enkash": 2} and not report["consistent"]
    assert report["settled_amount_at_enkash"] == "0"


def test_reconcile_when_settled_reports_matched_once_settled(sandbox, hook, tmp_path):
    sandbox.post("config", {"settle_delay_s": 1.0})
    ledger = _load(tmp_path, payroll(new_cards(hook, 2)))
    report = reconcile_when_settled(
        hook, ledger.read(BATCH).values(), settle_timeout_s=30, poll_interval_s=0.3
    )
    assert report["verdicts"] == {"matched": 2} and report["consistent"] and report["pending"] == 0
