"""Batch attempts in separate worker processes (``tests.money.batch_worker``): start, wait, kill, read."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from airflow_provider_enkash.references import batch_row_reference
from tests.batch.helpers import new_cards, payroll, sandbox_loads

REPO = Path(__file__).resolve().parents[2]
LEASE_TTL_S = 10.0  # longer than a loaded machine takes to start a released worker
QUIET_S = 1.5
START_DEADLINE_S = 90


@dataclass(frozen=True)
class Batch:
    """A payroll batch on fresh sandbox cards: its id, rows and the reference of each row."""

    batch_id: str
    rows: list[dict]
    references: list[str]

    @classmethod
    def new(cls, hook, *, name: str, cards: int, numbered: bool = False) -> Batch:
        """``cards`` rows, one per new card; ``numbered`` rows carry source row numbers, as a plan's chunks do."""
        batch_id = f"{name}-{time.time_ns()}"
        rows = payroll(new_cards(hook, cards))
        if numbered:
            rows = [{**row, "row_number": number} for number, row in enumerate(rows, start=1)]
        references = [batch_row_reference(batch_id=batch_id, row_key=r["enkash_card_id"]) for r in rows]
        return cls(batch_id, rows, references)

    def applied(self, sandbox) -> set[str]:
        """The references of this batch the sandbox has applied."""
        loads = sandbox_loads(sandbox)
        return {r for r in self.references if r in loads}

    def spec(self, ledger: dict, try_number: int, *, rows: list[dict] | None = None, **extra) -> dict:
        """A worker's arguments: this batch (or some of its ``rows``) as attempt ``try_number``."""
        return {"rows": self.rows if rows is None else rows, "batch_id": self.batch_id, **ledger,
                "try_number": try_number, "lease_ttl": LEASE_TTL_S, "quiet_s": QUIET_S, **extra}  # fmt: skip


def start(spec: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.money.batch_worker", json.dumps(spec)],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def result(process: subprocess.Popen, timeout: float = 120) -> dict:
    out, err = process.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, f"worker printed no result (rc={process.returncode}):\n{err[-3000:]}"
    return json.loads(lines[-1])


def wait_until_applied(
    sandbox, batch: Batch, count: int, worker: subprocess.Popen, *, deadline: float
) -> None:
    """Wait until the sandbox applied ``count`` loads of ``batch``; fail if ``worker`` ended first."""
    while len(batch.applied(sandbox)) < count:
        assert worker.poll() is None, result(worker)
        assert time.monotonic() < deadline, "the first worker never got going"
        time.sleep(0.05)


def kill_mid_batch(sandbox, batch: Batch, worker: subprocess.Popen, *, after_loads: int = 8) -> float:
    """SIGKILL ``worker`` once ``after_loads`` of its loads were applied (requests still in flight,
    which the sandbox commits); return when it died (monotonic seconds)."""
    wait_until_applied(sandbox, batch, after_loads, worker, deadline=time.monotonic() + START_DEADLINE_S)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    return time.monotonic()


def wait_for_lease_expiry(killed_at: float) -> None:
    time.sleep(max(0.0, killed_at + LEASE_TTL_S + 0.5 - time.monotonic()))
