"""An export logs progress lines: rows so far and the share of the window read."""

from __future__ import annotations

import re

from airflow_provider_enkash.transfers.enkash_to_sql import EnKashTransactionsToSqlOperator
from tests.export.conftest import day, run_export


def test_an_export_logs_rows_and_the_share_of_the_window_read(seeded, sqlite_warehouse, capfd):
    operator = EnKashTransactionsToSqlOperator(task_id="export", conn_id=sqlite_warehouse)
    result = run_export(operator, *day(2))
    output = "".join(capfd.readouterr())  # the task logger writes to the console, not to caplog
    lines = [line for line in output.splitlines() if "] Export " in line]
    assert lines, output
    assert re.search(
        rf"Export .*: {result['fetched']:,} rows \(100%\), [\d.,]+ rows/s, took \d+", lines[-1]
    ), lines
