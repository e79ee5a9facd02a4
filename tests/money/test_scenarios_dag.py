"""Issue 11's scenario classes through real Airflow retries and deferrals (``dag.test()``).

Each scenario bends the sandbox the way an unhelpful EnKash could (search lag, a queued commit,
an unfiltered capped search, another reference field, other status words, a token endpoint in
trouble) after a send whose answer is lost. Each asserts from the sandbox's ledger that every
reference was applied at most once, no amount differs, no row was lost unless the task failed
naming it, and what the task state and XCom say. The quiet period is kept to seconds through
the setting (``ENKASH_TEST_QUIET_S``); production's default is 15 minutes.
"""

from __future__ import annotations

import pytest

from airflow_provider_enkash.references import batch_row_reference
from tests.batch.helpers import new_cards, payroll
from tests.money.helpers import assert_at_most_once, run_dag

LOST_ANSWER = {"operation": "load_card_balance", "mode": "drop_after_commit", "count": 1}


@pytest.fixture(autouse=True)
def short_quiet_period(monkeypatch):
    monkeypatch.setenv("ENKASH_TEST_QUIET_S", "2")


def _single(sandbox, hook, amount: str = "1000.00") -> tuple[dict, str]:
    (card,) = new_cards(hook, 1)
    return {"enkash_card_id": card, "amount": amount}, card


def _reference_of(sandbox, card: str) -> str | None:
    matches = [e["reference"] for e in sandbox.get("ledger")["loads"] if e["enkash_card_id"] == card]
    return matches[0] if matches else None


# -- single loads -------------------------------------------------------------------------------


def test_search_lag_after_a_lost_answer_is_waited_out_not_paid_twice(sandbox, hook):
    conf, card = _single(sandbox, hook)
    sandbox.post("config", {"search_lag_s": 0.8})
    sandbox.post("faults", LOST_ANSWER)
    run_state, task_state, xcoms = run_dag("money_single_load", conf)
    assert (run_state, task_state) == ("success", "success")
    assert xcoms["return_value"]["outcome"] == "already_loaded"
    assert_at_most_once(sandbox, [conf], [_reference_of(sandbox, card)], all_loaded=True)


@pytest.mark.parametrize("mode", ["queued_commit", "queued_commit_503"])
def test_a_commit_queued_after_the_first_look_up_is_found_not_paid_twice(sandbox, hook, mode):
    conf, card = _single(sandbox, hook)
    sandbox.post(
        "faults", {"operation": "load_card_balance", "mode": mode, "count": 1, "commit_after_s": 0.6}
    )
    run_state, task_state, xcoms = run_dag("money_single_load", conf)
    assert (run_state, task_state) == ("success", "success")
    assert xcoms["return_value"]["outcome"] == "already_loaded"
    assert sandbox.get("faults")["fired"] == {mode: 1}
    assert_at_most_once(sandbox, [conf], [_reference_of(sandbox, card)], all_loaded=True)


def test_a_truncated_unfiltered_search_never_reads_as_absent(sandbox, hook):
    conf, card = _single(sandbox, hook)
    for i in range(4):  # more credits on the account than the search cap below
        hook.load_card_balance(enkash_card_id=card, amount="1.00", unique_reference_number=f"OTHER-{i}")
    sandbox.post("config", {"ignore_search_filters": True, "max_records": 3})
    sandbox.post("faults", LOST_ANSWER)
    run_state, task_state, xcoms = run_dag("money_single_load", conf)
    # every look-up proves nothing: the task fails naming the reference, it never resends
    assert (run_state, task_state) == ("failed", "failed")
    assert "return_value" not in xcoms
    (entry,) = [
        e
        for e in sandbox.get("ledger")["loads"]
        if e["enkash_card_id"] == card and not e["reference"].startswith("OTHER-")
    ]
    assert entry["times_applied"] == 1 and entry["amount"] == "1000.00"


def test_records_carrying_the_reference_as_unique_reference_number_are_found(sandbox, hook):
    conf, card = _single(sandbox, hook)
    sandbox.post("config", {"reference_field": "uniqueReferenceNumber"})
    sandbox.post("faults", LOST_ANSWER)
    run_state, task_state, xcoms = run_dag("money_single_load", conf)
    assert (run_state, task_state) == ("success", "success")
    assert xcoms["return_value"]["outcome"] == "already_loaded"
    assert_at_most_once(sandbox, [conf], [_reference_of(sandbox, card)], all_loaded=True)


def test_an_unknown_failure_word_is_never_already_loaded(sandbox, hook):
    conf, card = _single(sandbox, hook)
    sandbox.post("config", {"status_words": {"FAILED": "FAILURE"}, "failure_rate": 1.0, "settle_delay_s": 0})
    sandbox.post("faults", LOST_ANSWER)
    run_state, task_state, xcoms = run_dag("money_single_load", conf)
    assert (run_state, task_state) == ("failed", "failed")
    assert "return_value" not in xcoms  # never reported already_loaded
    (entry,) = [e for e in sandbox.get("ledger")["loads"] if e["enkash_card_id"] == card]
    assert entry["times_applied"] == 1 and entry["statuses"] == ["FAILED"]


# -- batch loads --------------------------------------------------------------------------------


def _batch(hook, tmp_path, name: str, count: int = 6) -> tuple[dict, list[dict], list[str]]:
    rows = payroll(new_cards(hook, count))
    conf = {"rows": rows, "batch_id": name, "ledger_path": str(tmp_path / "ledger")}
    return conf, rows, [batch_row_reference(batch_id=name, row_key=r["enkash_card_id"]) for r in rows]


def test_batch_search_lag_after_lost_answers(sandbox, hook, tmp_path):
    conf, rows, references = _batch(hook, tmp_path, "lag")
    sandbox.post("config", {"search_lag_s": 0.8})
    sandbox.post("faults", {**LOST_ANSWER, "count": 2})
    run_state, task_state, xcoms = run_dag("money_batch_load", conf)
    assert (run_state, task_state) == ("success", "success")
    assert xcoms["batch_summary"]["counts"]["already_loaded"] == 2
    assert xcoms["batch_summary"]["counts"]["loaded"] == 4
    assert_at_most_once(sandbox, rows, references, all_loaded=True)


def test_batch_token_endpoint_503_while_settling_leaves_rows_unclear_then_settles(sandbox, hook, tmp_path):
    conf, rows, references = _batch(hook, tmp_path, "token503")
    sandbox.post("faults", {**LOST_ANSWER, "count": 1})
    # the settling look-up's token is revoked and the token endpoint then answers 503 for a while
    sandbox.post("faults", {"operation": "get_transaction_details", "mode": "revoke_token", "count": 1})
    sandbox.post("faults", {"operation": "auth_token", "mode": "http_503", "count": 12})
    run_state, task_state, xcoms = run_dag("money_batch_load", conf)
    assert (run_state, task_state) == ("success", "success")
    counts = xcoms["batch_summary"]["counts"]
    assert counts["failed"] == 0 and counts["loaded"] + counts["already_loaded"] == 6
    assert sandbox.get("faults")["fired"].get("http_503") == 12
    assert_at_most_once(sandbox, rows, references, all_loaded=True)


def test_batch_amount_corrected_under_the_same_batch_id_fails_naming_both_amounts(sandbox, hook, tmp_path):
    conf, rows, references = _batch(hook, tmp_path, "corrected", count=3)
    assert run_dag("money_batch_load", conf)[:2] == ("success", "success")
    corrected = [dict(rows[0], amount="1500.00"), *rows[1:]]
    run_state, task_state, xcoms = run_dag("money_batch_load", {**conf, "rows": corrected})
    assert (run_state, task_state) == ("failed", "failed")
    summary = xcoms["batch_summary"]
    assert summary["counts"]["amount_mismatch"] == 1
    (problem,) = summary["problem_rows"]
    assert (problem["amount"], problem["enkash_amount"]) == ("1500.00", rows[0]["amount"])
    assert_at_most_once(sandbox, rows, references, all_loaded=True)  # 1000.01 once; nothing more sent
