"""EnKashBatchLoadOperator against the sandbox: every row loaded exactly once, to the paisa, through faults and retries."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_enkash.batch import (
    BatchIncompleteError,
    BatchValidationError,
    FileLedger,
)
from airflow_provider_enkash.operators.batch_load import EnKashBatchLoadOperator
from airflow_provider_enkash.references import batch_row_reference

from .helpers import (
    QUIET_S,
    assert_loaded_exactly_once,
    card_balances,
    context,
    execute_through_deferrals,
    new_cards,
    payroll,
    sandbox_loads,
)

BATCH = "payroll-2025-01-15"


def _operator(tmp_path, rows, **kwargs) -> EnKashBatchLoadOperator:
    return EnKashBatchLoadOperator(
        task_id="load",
        rows=rows,
        batch_id=BATCH,
        ledger_path=str(tmp_path / "ledger"),
        **{"resend_quiet_period": QUIET_S, **kwargs},
    )


def _references(rows) -> list[str]:
    return [batch_row_reference(batch_id=BATCH, row_key=row["enkash_card_id"]) for row in rows]


def _run_until_settled(tmp_path, rows, *, max_tries: int = 4, **kwargs) -> list[dict]:
    """Run the operator as Airflow would with retries: try 1, 2, ... until the batch is settled."""
    summaries = []
    for try_number in range(1, max_tries + 1):
        ctx = context(try_number=try_number)
        try:
            summaries.append(execute_through_deferrals(_operator(tmp_path, rows, **kwargs), ctx))
            return summaries
        except BatchIncompleteError as exc:
            summaries.append(exc.summary)
    raise AssertionError(f"not settled after {max_tries} tries: {summaries[-1]}")


def test_happy_path_loads_every_row_once_and_records_the_ledger(sandbox, hook, tmp_path):
    rows = payroll(new_cards(hook, 12))
    account_before = Decimal(sandbox.get("accounts")["CASANDBOX1"]["balance"])
    ctx = context()
    summary = _operator(tmp_path, rows, concurrency=4).execute(ctx)

    assert summary["counts"] == {
        "loaded": 12,
        "already_loaded": 0,
        "failed": 0,
        "outcome_unknown": 0,
        "resent_after_unknown": 0,
        "amount_mismatch": 0,
    }
    total = sum(Decimal(r["amount"]) for r in rows)
    assert Decimal(summary["settled_amount"]) == total
    assert ctx["ti"].xcoms["batch_summary"] == summary
    assert_loaded_exactly_once(sandbox, rows, _references(rows))
    assert Decimal(sandbox.get("accounts")["CASANDBOX1"]["balance"]) == account_before - total
    ledger = FileLedger(tmp_path / "ledger").read(BATCH)
    assert {e.outcome for e in ledger.values()} == {"loaded"}
    assert {e.reference for e in ledger.values()} == set(_references(rows))
    # a fresh first try sends each load without a look-up first
    assert sandbox.get("counters")["operations"].get("get_transaction_details", 0) == 0


def test_rerun_of_a_settled_batch_sends_nothing(sandbox, hook, tmp_path):
    rows = payroll(new_cards(hook, 5))
    _operator(tmp_path, rows).execute(context())
    before = sandbox.requests_total()
    summary = _operator(tmp_path, rows).execute(context(try_number=2))
    assert sandbox.requests_total() == before
    assert summary["carried_over_from_ledger"] == 5
    assert summary["counts"]["loaded"] == 5
    assert_loaded_exactly_once(sandbox, rows, _references(rows))


def test_ledger_lost_rerun_finds_every_reference_and_reports_already_loaded(sandbox, hook, tmp_path):
    rows = payroll(new_cards(hook, 5))
    _operator(tmp_path, rows).execute(context())
    summary = _operator(tmp_path / "elsewhere", rows).execute(context(try_number=2))
    assert summary["counts"]["already_loaded"] == 5
    assert_loaded_exactly_once(sandbox, rows, _references(rows))


def test_a_batch_with_bad_rows_loads_nothing_and_reports_every_row(sandbox, hook, tmp_path):
    cards = new_cards(hook, 3)
    before = sandbox.requests_total()
    rows = [
        {"enkash_card_id": cards[0], "amount": "100.00"},
        {"enkash_card_id": cards[1], "amount": "12.345"},
        {"enkash_card_id": "", "amount": "5"},
        {"enkash_card_id": cards[0], "amount": "1.00"},
        {"enkash_card_id": cards[2], "amount": "-3"},
    ]
    with pytest.raises(BatchValidationError) as info:
        _operator(tmp_path, rows).execute(context())
    report = {(p.row_number, p.field) for p in info.value.problems}
    assert report == {
        (2, "amount"),
        (3, "enkash_card_id"),
        (4, "reference"),
        (5, "amount"),
    }
    assert sandbox.requests_total() == before
    assert sandbox_loads(sandbox) == {}


def test_caps_fail_the_whole_batch_before_any_call(sandbox, hook, tmp_path):
    rows = payroll(new_cards(hook, 3))
    before = sandbox.requests_total()
    with pytest.raises(BatchValidationError, match="the cap is 2000.00"):
        _operator(tmp_path, rows, max_batch_total="2000").execute(context())
    with pytest.raises(BatchValidationError, match="would receive 1000.01"):
        _operator(tmp_path, rows[:1], max_amount_per_card="999.99").execute(context())
    assert sandbox.requests_total() == before


def test_check_cards_refuses_unknown_and_blocked_cards_before_loading(sandbox, hook, tmp_path):
    cards = new_cards(hook, 2)
    hook.block_card(enkash_card_id=cards[1], block_code="BL", reason="lost")
    rows = [*payroll(cards), {"enkash_card_id": "EKCNOSUCH1", "amount": "1.00"}]
    with pytest.raises(BatchValidationError) as info:
        _operator(tmp_path, rows, check_cards=True).execute(context())
    assert {(p.row_number, p.field) for p in info.value.problems} == {
        (2, "enkash_card_id"),
        (3, "enkash_card_id"),
    }
    assert sandbox_loads(sandbox) == {}


def test_dry_run_reports_and_sends_no_load(sandbox, hook, tmp_path):
    rows = payroll(new_cards(hook, 4))
    before = sandbox.requests_total()
    report = _operator(tmp_path, rows, dry_run=True).execute(context())
    assert report["dry_run"] is True
    assert report["would_load"] == 4
    assert Decimal(report["would_load_amount"]) == sum(Decimal(r["amount"]) for r in rows)
    assert report["sample"][0]["unique_reference_number"] == _references(rows)[0]
    assert sandbox.requests_total() == before


def test_business_refusals_are_failed_rows_and_the_rest_still_load(sandbox, hook, tmp_path):
    cards = new_cards(hook, 4)
    hook.block_card(enkash_card_id=cards[2], block_code="BL", reason="lost")
    rows = payroll(cards)
    with pytest.raises(BatchIncompleteError) as info:
        _operator(tmp_path, rows).execute(context())
    summary = info.value.summary
    assert summary["counts"] == {
        "loaded": 3,
        "already_loaded": 0,
        "failed": 1,
        "outcome_unknown": 0,
        "resent_after_unknown": 0,
        "amount_mismatch": 0,
    }
    (problem,) = summary["problem_rows"]
    assert (
        problem["row_number"] == 3 and problem["error_code"] and "blocked" in problem["error_message"].lower()
    )
    balances = card_balances(sandbox)
    assert balances[cards[2]] == Decimal(0)
    assert [balances[c] for c in (cards[0], cards[1], cards[3])] == [
        Decimal(rows[i]["amount"]) for i in (0, 1, 3)
    ]


def test_fail_on_failed_false_lets_the_task_succeed(sandbox, hook, tmp_path):
    cards = new_cards(hook, 2)
    hook.block_card(enkash_card_id=cards[0], block_code="BL", reason="lost")
    summary = _operator(tmp_path, payroll(cards), fail_on_failed=False).execute(context())
    assert summary["counts"]["failed"] == 1


@pytest.mark.parametrize(
    "faults",
    [
        [{"operation": "load_card_balance", "mode": "http_500", "rate": 0.1}],
        [
            {
                "operation": "load_card_balance",
                "mode": "http_429",
                "rate": 0.1,
                "retry_after_s": 0,
            }
        ],
        [{"operation": "load_card_balance", "mode": "drop_after_commit", "rate": 0.1}],
        [{"mode": "revoke_token", "count": 3}],
        [
            {
                "operation": "load_card_balance",
                "mode": "drop_after_commit",
                "rate": 0.1,
            },
            {"operation": "load_card_balance", "mode": "http_500", "rate": 0.1},
            {"mode": "http_429", "rate": 0.05, "retry_after_s": 0},
            {"mode": "revoke_token", "count": 2},
        ],
    ],
    ids=["5xx", "429", "drop_after_commit", "token_expiry", "all_at_once"],
)
def test_faults_end_with_every_row_loaded_exactly_once(sandbox, hook, tmp_path, faults):
    rows = payroll(new_cards(hook, 60))
    for fault in faults:
        sandbox.post("faults", fault)
    _run_until_settled(tmp_path, rows, concurrency=8)
    statuses = sandbox.get("counters")["statuses"]
    assert sum(n for status, n in statuses.items() if status != "200") > 0, statuses  # the faults did fire
    assert_loaded_exactly_once(sandbox, rows, _references(rows))
    ledger = FileLedger(tmp_path / "ledger").read(BATCH)
    assert len(ledger) == 60 and all(e.settled for e in ledger.values())


def test_task_retry_mid_batch_re_examines_only_unsettled_rows_after_a_lookup(sandbox, hook, tmp_path):
    rows = payroll(new_cards(hook, 20))
    # Try 1: five loads commit but their answers are lost, and look-ups fail: five rows end outcome_unknown.
    sandbox.post(
        "faults",
        {"operation": "load_card_balance", "mode": "drop_after_commit", "count": 5},
    )
    sandbox.post("faults", {"operation": "get_transaction_details", "mode": "http_500"})
    sandbox.post("faults", {"operation": "get_all_transactions", "mode": "http_500"})
    ctx = context(try_number=1)
    with pytest.raises(AirflowFailException, match="5 row\\(s\\) with an unclear outcome") as info:
        _operator(tmp_path, rows, concurrency=4, on_unknown="fail").execute(ctx)
    assert ctx["ti"].xcoms["batch_summary"]["counts"] == {
        "loaded": 15,
        "already_loaded": 0,
        "failed": 0,
        "outcome_unknown": 5,
        "resent_after_unknown": 0,
        "amount_mismatch": 0,
    }
    unknown = {p["reference"] for p in ctx["ti"].xcoms["batch_summary"]["problem_rows"]}
    assert all(reference in str(info.value) for reference in unknown)

    # Try 2 (EnKash healthy again): only the five are examined, each by a look-up, and none is sent again.
    sandbox.post("faults", {"clear": True})
    before = sandbox.get("counters")["operations"]
    summary = execute_through_deferrals(_operator(tmp_path, rows, concurrency=4), context(try_number=2))
    after = sandbox.get("counters")["operations"]
    assert after.get("get_transaction_details", 0) - before.get("get_transaction_details", 0) == 5
    assert after.get("load_card_balance", 0) == before.get("load_card_balance", 0)
    assert summary["counts"] == {
        "loaded": 15,
        "already_loaded": 5,
        "failed": 0,
        "outcome_unknown": 0,
        "resent_after_unknown": 0,
        "amount_mismatch": 0,
    }
    assert (
        summary["carried_over_from_ledger"] >= 15
    )  # the 15 loaded in try 1, plus rows settled before a deferral
    assert {r for r, e in sandbox_loads(sandbox).items() if e["times_applied"] == 1} >= unknown
    assert_loaded_exactly_once(sandbox, rows, _references(rows))


def test_crash_mid_batch_retry_looks_up_rows_missing_from_the_ledger(sandbox, hook, tmp_path):
    """A worker killed mid-batch leaves some loads done but unrecorded; the retry finds them by reference."""
    rows = payroll(new_cards(hook, 10))
    for row, reference in list(zip(rows, _references(rows), strict=False))[
        :6
    ]:  # what the killed try managed to send
        hook.load_card_balance(
            enkash_card_id=row["enkash_card_id"],
            amount=row["amount"],
            unique_reference_number=reference,
        )
    summary = _operator(tmp_path, rows).execute(context(try_number=2))
    assert summary["counts"] == {
        "loaded": 4,
        "already_loaded": 6,
        "failed": 0,
        "outcome_unknown": 0,
        "resent_after_unknown": 0,
        "amount_mismatch": 0,
    }
    assert_loaded_exactly_once(sandbox, rows, _references(rows))


def test_reading_rows_from_a_jsonl_file(sandbox, hook, tmp_path):
    rows = payroll(new_cards(hook, 3))
    source = tmp_path / "payroll.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    op = EnKashBatchLoadOperator(
        task_id="load",
        source_path=str(source),
        batch_id=BATCH,
        ledger_path=str(tmp_path / "l"),
    )
    assert op.execute(context())["counts"]["loaded"] == 3
    assert_loaded_exactly_once(sandbox, rows, _references(rows))


def test_jsonl_amounts_written_as_json_numbers_load_exactly(sandbox, hook, tmp_path):
    """``{"amount": 1000.01}`` is read as Decimal('1000.01'), never through a float."""
    rows = payroll(new_cards(hook, 2), base="1000.01")
    source = tmp_path / "payroll.jsonl"
    source.write_text(
        "".join(f'{{"enkash_card_id": "{r["enkash_card_id"]}", "amount": {r["amount"]}}}\n' for r in rows)
    )
    assert '"amount": 1000.01' in source.read_text()
    op = EnKashBatchLoadOperator(
        task_id="load", source_path=str(source), batch_id=BATCH, ledger_path=str(tmp_path / "l")
    )
    assert op.execute(context())["counts"]["loaded"] == 2
    assert_loaded_exactly_once(sandbox, rows, _references(rows))


def test_requests_per_second_ceiling_spaces_the_calls(sandbox, hook, tmp_path):
    import time

    rows = payroll(new_cards(hook, 10))
    started = time.monotonic()
    _operator(tmp_path, rows, concurrency=8, requests_per_second=20).execute(context())
    # 10 loads at most 20 per second: the first is free, the other nine wait 50 ms each at least
    assert time.monotonic() - started >= 9 / 20 * 0.9
    assert_loaded_exactly_once(sandbox, rows, _references(rows))


def test_a_ledger_is_required(tmp_path):
    with pytest.raises(ValueError, match="ledger"):
        EnKashBatchLoadOperator(task_id="load", rows=[])


def test_a_task_killed_before_its_first_ledger_flush_is_not_sent_again(sandbox, hook, tmp_path, monkeypatch):
    """The worker dies after sending but before any outcome reached the ledger; the rerun must not pay again."""
    rows = payroll(new_cards(hook, 6))
    real_write = FileLedger.write
    writes = []

    def dying_write(self, outcomes):
        writes.append(1)
        if (
            len(writes) > 1
        ):  # the first write holds the rows carried over (none); the outcome flush never lands
            raise SystemExit("worker killed")
        return real_write(self, outcomes)

    monkeypatch.setattr(FileLedger, "write", dying_write)
    with pytest.raises(SystemExit):
        _operator(tmp_path, rows).execute(context(try_number=1))
    monkeypatch.setattr(FileLedger, "write", real_write)
    loads_after_crash = int(sandbox.get("counters")["operations"]["load_card_balance"])
    assert loads_after_crash == 6

    # e.g. a manual rerun of the same batch id: the rows left 'sending' are unclear, settled by look-ups
    summary = execute_through_deferrals(_operator(tmp_path, rows), context(try_number=1))
    assert summary["counts"]["already_loaded"] == 6
    assert int(sandbox.get("counters")["operations"]["load_card_balance"]) == loads_after_crash
    assert_loaded_exactly_once(sandbox, rows, _references(rows))
