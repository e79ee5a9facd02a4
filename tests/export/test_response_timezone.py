"""The zone of zoneless response timestamps is a connection setting (``response_timezone``), tested both ways."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_enkash.token_cache import TOKEN_CACHE
from airflow_provider_enkash.transfers.enkash_to_sql import EnKashTransactionsToSqlOperator
from tests.conftest import connection_json

from .conftest import day, run_export


@pytest.mark.parametrize(("zone", "outside"), [("Asia/Kolkata", True), ("UTC", False)])
def test_a_server_writing_utc_needs_response_timezone_utc(
    seeded, seeded_server, sqlite_warehouse, monkeypatch, zone, outside
):
    seeded.post("config", {"timestamp_format": "enkash_utc"})
    TOKEN_CACHE.clear()
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(seeded_server, response_timezone=zone))
    exporter = EnKashTransactionsToSqlOperator(
        task_id="export", conn_id=sqlite_warehouse, lookback=timedelta(0)
    )
    try:
        summary = run_export(exporter, *day(2))
    finally:
        seeded.post("config", {"timestamp_format": "enkash"})
    assert summary["fetched"] > 500
    # Read in the wrong zone, the records EnKash returned for the day seem 5.5 hours off: kept, but counted.
    assert (summary["outside_window"] > 0) is outside, summary
