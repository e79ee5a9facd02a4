"""Progress lines: bounded rate, the counts people need, no card data; batch loads and exports write them."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from airflow_provider_enkash.batch.rows import BatchRow
from airflow_provider_enkash.batch.runner import BatchRunner
from airflow_provider_enkash.progress import ProgressLog
from tests.batch.helpers import new_cards

LOG = logging.getLogger("tests.progress")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _lines(caplog, prefix: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(prefix)]


def test_lines_come_every_10_s_or_5_percent_never_more_than_once_a_second(caplog):
    caplog.set_level(logging.INFO, logger="tests.progress")
    clock = _Clock()
    progress = ProgressLog(LOG, label="Job", unit="rows", clock=clock)
    for done in range(1, 10_001):  # 10,000 rows at 100 rows/s: 100 s
        clock.now = done / 100
        progress.report(done=done, total=10_000, final=done == 10_000)
    lines = _lines(caplog, "Job: ")
    # one per 5 % (every 5 s here) and the final one; the 10 s timer never adds a line in between
    assert len(lines) == 20, lines
    assert lines[0] == "Job: 500 of 10,000 rows (5%), 100.0 rows/s, ETA 1 min 35 s"
    assert lines[-1] == "Job: 10,000 of 10,000 rows (100%), 100.0 rows/s, took 1 min 40 s"


def test_a_fast_job_logs_at_most_once_a_second_and_a_slow_one_every_10_s(caplog):
    caplog.set_level(logging.INFO, logger="tests.progress")
    clock = _Clock()
    fast = ProgressLog(LOG, label="Fast", unit="rows", clock=clock)
    for done in range(1, 1001):  # 1,000 rows in 2 s: 5 % steps every 0.1 s
        clock.now = done / 500
        fast.report(done=done, total=1000)
    assert len(_lines(caplog, "Fast: ")) == 2
    slow = ProgressLog(LOG, label="Slow", unit="rows", clock=clock)
    start = clock.now
    for done in range(1, 61):  # unknown total, one row a second for a minute
        clock.now = start + done
        slow.report(done=done)
    assert _lines(caplog, "Slow: ") == [f"Slow: {n} rows, 1.0 rows/s" for n in (10, 20, 30, 40, 50, 60)]


def test_a_batch_load_logs_rows_rupees_unclear_failed_and_no_card_data(sandbox, hook, caplog):
    caplog.set_level(logging.INFO, logger="airflow_provider_enkash.batch.runner")
    cards = new_cards(hook, 3)
    rows = [
        BatchRow(row_number=i + 1, row_key=f"ROW{i}", enkash_card_id=cards[i % 3], amount=Decimal("100.25"))
        for i in range(6)
    ]
    rows.append(BatchRow(row_number=7, row_key="ROW6", enkash_card_id="EKCNOSUCH0", amount=Decimal("5.00")))
    outcomes = BatchRunner(hook, concurrency=2).run(rows, batch_id="PROGRESS1", lookup_first=False)
    assert [o.outcome for o in outcomes].count("failed") == 1
    lines = _lines(caplog, "Batch PROGRESS1: ")
    assert lines, caplog.text
    assert re.fullmatch(
        r"Batch PROGRESS1: 7 of 7 rows \(100%\), INR 601\.50 loaded, 0 unclear, 1 failed, [\d.,]+ rows/s, took \d+ s",
        lines[-1],
    ), lines[-1]
    for line in lines:
        assert not any(card in line for card in [*cards, "EKCNOSUCH0"]), line
