"""Killed and overlapping batch attempts in separate worker processes, against the sandbox.

SIGKILL with loads in flight, then an immediate rerun: the rerun fails fast naming the live-looking
holder; after the lease expires the next attempt takes over, settles what the dead one may have sent
through the quiet period, and loads the rest. Two attempts of one batch id started together: only
one sends. The ground truth is the sandbox ledger: every reference applied exactly once, every card
holding exactly its amount. Leases and quiet periods are seconds here through the settings
(production: 300 s lease, 15 min quiet period).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airflow_provider_enkash.references import batch_row_reference
from tests.batch.helpers import new_cards, payroll, sandbox_loads
from tests.money.helpers import assert_at_most_once

REPO = Path(__file__).resolve().parents[2]
LEASE_TTL_S = 10.0  # longer than a loaded machine takes to start a released worker
QUIET_S = 1.5


def _start(spec: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.money.batch_worker", json.dumps(spec)],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(process: subprocess.Popen, timeout: float = 120) -> dict:
    out, err = process.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, f"worker printed no result (rc={process.returncode}):\n{err[-3000:]}"
    return json.loads(lines[-1])


def _spec(rows, batch_id, ledger, try_number, **extra) -> dict:
    return {"rows": rows, "batch_id": batch_id, **ledger, "try_number": try_number, "lease_ttl": LEASE_TTL_S,
            "quiet_s": QUIET_S, **extra}  # fmt: skip


def _ledger(store: str, tmp_path: Path) -> dict:
    return (
        {"ledger_path": str(tmp_path / "ledger")}
        if store == "file"
        else {"ledger_conn_id": "enkash_ledger_pg"}
    )


@pytest.fixture
def pg_ledger_conn(monkeypatch, request, store):
    """The SQL ledger's connection on the test command's PostgreSQL (for ``store == "sql"``)."""
    if store == "sql":
        monkeypatch.setenv("AIRFLOW_CONN_ENKASH_LEDGER_PG", request.getfixturevalue("postgres_uri"))


@pytest.mark.parametrize("store", ["file", "sql"])
def test_sigkill_with_loads_in_flight_then_rerun_pays_each_row_once(
    sandbox, hook, tmp_path, store, pg_ledger_conn
):
    ledger = _ledger(store, tmp_path)
    batch_id = f"killed-{store}-{time.time_ns()}"
    rows = payroll(new_cards(hook, 40))
    references = [batch_row_reference(batch_id=batch_id, row_key=r["enkash_card_id"]) for r in rows]
    # 40 loads of 400 ms, two at a time: about 8 s, so the kill lands mid-batch even on a busy machine
    sandbox.post("faults", {"operation": "load_card_balance", "mode": "latency", "latency_ms": 400})

    go_rerun, go_takeover = tmp_path / "go-rerun", tmp_path / "go-takeover"
    first = _start(_spec(rows, batch_id, ledger, 1, concurrency=2))
    # started now, released later: Airflow's import time must not eat the lease's lifetime
    rerun_worker = _start(_spec(rows, batch_id, ledger, 2, start_when=str(go_rerun)))
    takeover_worker = _start(_spec(rows, batch_id, ledger, 3, start_when=str(go_takeover)))
    deadline = time.monotonic() + 90
    while sum(1 for r in references if r in sandbox_loads(sandbox)) < 8:
        assert first.poll() is None, _result(first)
        assert time.monotonic() < deadline, "the first worker never got going"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)  # requests in flight: the sandbox still commits them
    first.wait()
    killed_at = time.monotonic()
    go_rerun.touch()

    rerun = _result(rerun_worker)
    assert rerun["ok"] is False and rerun["error"] == "EnKashLeaseHeld", rerun
    assert "try 1" in rerun["message"]  # the holder is named
    applied_before_takeover = sum(1 for r in references if r in sandbox_loads(sandbox))
    assert 8 <= applied_before_takeover < 40

    time.sleep(max(0.0, killed_at + LEASE_TTL_S + 0.5 - time.monotonic()))
    sandbox.post("faults", {"clear": True})
    go_takeover.touch()
    takeover = _result(takeover_worker)
    assert takeover["ok"] is True, takeover
    counts = takeover["summary"]["counts"]
    assert counts["failed"] == counts["outcome_unknown"] == counts["amount_mismatch"] == 0, counts
    assert sum(counts.values()) == 40
    assert_at_most_once(sandbox, rows, references, all_loaded=True)
    assert int(sandbox.get("counters")["operations"]["load_card_balance"]) == 40  # no row sent twice


@pytest.mark.parametrize("store", ["file", "sql"])
def test_two_overlapping_attempts_of_one_batch_cannot_both_send(
    sandbox, hook, tmp_path, store, pg_ledger_conn
):
    ledger = _ledger(store, tmp_path)
    batch_id = f"overlap-{store}-{time.time_ns()}"
    rows = payroll(new_cards(hook, 20))
    references = [batch_row_reference(batch_id=batch_id, row_key=r["enkash_card_id"]) for r in rows]
    sandbox.post("faults", {"operation": "load_card_balance", "mode": "latency", "latency_ms": 200})
    start_at = time.time() + 12  # both workers have imported Airflow by then; they start together
    workers = [_start(_spec(rows, batch_id, ledger, 1, start_at=start_at, concurrency=2)) for _ in range(2)]
    results = [_result(w) for w in workers]
    assert sorted(r["ok"] for r in results) == [False, True], results
    (loser,) = [r for r in results if not r["ok"]]
    assert loser["error"] == "EnKashLeaseHeld" and "try 1" in loser["message"]
    (winner,) = [r for r in results if r["ok"]]
    assert winner["summary"]["counts"]["loaded"] == 20
    assert_at_most_once(sandbox, rows, references, all_loaded=True)
    assert int(sandbox.get("counters")["operations"]["load_card_balance"]) == 20


def _numbered(rows: list[dict]) -> list[dict]:
    """Rows with their source row numbers, as the plan's chunks carry them."""
    return [{**row, "row_number": number} for number, row in enumerate(rows, start=1)]


def _second_while_first_loads(first_spec: dict, second_spec: dict, references: list[str], sandbox, tmp_path):
    """Start both workers; release the second once the first has loaded 2 rows (it has seconds of work
    left), so the two attempts really overlap. Return both results."""
    go = tmp_path / f"go-{time.time_ns()}"
    second = _start({**second_spec, "start_when": str(go)})
    deadline = time.monotonic() + 90
    while not Path(f"{go}.ready").exists():
        assert second.poll() is None, _result(second)
        assert time.monotonic() < deadline, "the second worker never got ready"
        time.sleep(0.05)
    first = _start(first_spec)
    while sum(1 for r in references if r in sandbox_loads(sandbox)) < 2:
        assert first.poll() is None, _result(first)
        assert time.monotonic() < deadline, "the first worker never got going"
        time.sleep(0.05)
    go.touch()
    second_result = _result(second)
    assert first.poll() is None, "the first worker finished before the second one ran: no overlap tested"
    return _result(first), second_result


@pytest.mark.parametrize("store", ["file", "sql"])
def test_attempts_chunking_one_batch_differently_cannot_both_send(
    sandbox, hook, tmp_path, store, pg_ledger_conn
):
    """A scheduled run loading the batch as one chunk next to a manual run with half-size chunks."""
    ledger = _ledger(store, tmp_path)
    batch_id = f"rechunked-{store}-{time.time_ns()}"
    rows = _numbered(payroll(new_cards(hook, 20)))
    references = [batch_row_reference(batch_id=batch_id, row_key=r["enkash_card_id"]) for r in rows]
    sandbox.post("faults", {"operation": "load_card_balance", "mode": "latency", "latency_ms": 400})
    scheduled = _spec(rows, batch_id, ledger, 1, concurrency=2, run_id="scheduled__2025-01-15", map_index=0)
    manual = _spec(rows[10:], batch_id, ledger, 1, concurrency=2, run_id="manual__2025-01-15", map_index=1)
    first, second = _second_while_first_loads(scheduled, manual, references, sandbox, tmp_path)
    assert first["ok"] is True, first
    assert second["ok"] is False and second["error"] == "EnKashLeaseHeld", second
    assert "scheduled__2025-01-15" in second["message"]  # the holder is named
    assert_at_most_once(sandbox, rows, references, all_loaded=True)
    assert int(sandbox.get("counters")["operations"]["load_card_balance"]) == 20

    retry = _result(_start({**manual, "try_number": 2}))  # the manual run's retry: nothing left to send
    assert retry["ok"] is True, retry
    assert int(sandbox.get("counters")["operations"]["load_card_balance"]) == 20


@pytest.mark.parametrize("store", ["file", "sql"])
def test_chunks_of_one_plan_load_in_parallel(sandbox, hook, tmp_path, store, pg_ledger_conn):
    ledger = _ledger(store, tmp_path)
    batch_id = f"chunks-{store}-{time.time_ns()}"
    rows = _numbered(payroll(new_cards(hook, 20)))
    references = [batch_row_reference(batch_id=batch_id, row_key=r["enkash_card_id"]) for r in rows]
    sandbox.post("faults", {"operation": "load_card_balance", "mode": "latency", "latency_ms": 400})
    # a long chunk (16 loads one at a time: 6 s) and a short one (4 loads two at a time) of one plan
    chunk0, chunk1 = (
        _spec(
            chunk, batch_id, ledger, 1, concurrency=concurrency, run_id="scheduled__2025-01-15", map_index=i
        )
        for i, (chunk, concurrency) in enumerate(((rows[:16], 1), (rows[16:], 2)))
    )
    first, second = _second_while_first_loads(chunk0, chunk1, references, sandbox, tmp_path)
    assert [first["ok"], second["ok"]] == [True, True], (first, second)
    assert [first["summary"]["counts"]["loaded"], second["summary"]["counts"]["loaded"]] == [16, 4]
    assert_at_most_once(sandbox, rows, references, all_loaded=True)
    assert int(sandbox.get("counters")["operations"]["load_card_balance"]) == 20


@pytest.mark.parametrize("store", ["file", "sql"])
def test_after_a_kill_only_rows_that_were_started_wait_the_quiet_period(
    sandbox, hook, tmp_path, store, pg_ledger_conn
):
    """The take-over sends every row the dead attempt never started at once; only started rows are unclear."""
    ledger = _ledger(store, tmp_path)
    batch_id = f"unstarted-{store}-{time.time_ns()}"
    rows = payroll(new_cards(hook, 40))
    references = [batch_row_reference(batch_id=batch_id, row_key=r["enkash_card_id"]) for r in rows]
    sandbox.post("faults", {"operation": "load_card_balance", "mode": "latency", "latency_ms": 400})
    go = tmp_path / "go-takeover"
    first = _start(_spec(rows, batch_id, ledger, 1, concurrency=2))
    # a quiet period far longer than the test: a row that waits fails the take-over by name
    takeover_worker = _start(
        _spec(rows, batch_id, ledger, 2, start_when=str(go), quiet_s=3600, on_unknown="fail")
    )
    deadline = time.monotonic() + 90
    while sum(1 for r in references if r in sandbox_loads(sandbox)) < 8:
        assert first.poll() is None, _result(first)
        assert time.monotonic() < deadline, "the first worker never got going"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = time.monotonic()
    time.sleep(max(0.0, killed_at + LEASE_TTL_S + 0.5 - time.monotonic()))
    sandbox.post("faults", {"clear": True})
    started_by_the_dead = {r for r in references if r in sandbox_loads(sandbox)}
    assert 8 <= len(started_by_the_dead) < 40
    go.touch()

    takeover = _result(takeover_worker)
    assert takeover["ok"] is False and takeover["error"] == "AirflowFailException", takeover
    unclear = set(re.findall(r"reference (\S+),", takeover["message"]))
    assert unclear, takeover["message"]
    assert unclear <= started_by_the_dead, sorted(unclear - started_by_the_dead)
    assert_at_most_once(sandbox, rows, references, all_loaded=True)  # the never-started rows: sent once, now
    assert int(sandbox.get("counters")["operations"]["load_card_balance"]) == 40
