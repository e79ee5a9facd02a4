"""The export reads through the transaction reader: a server cap below ``truncation_limit`` (adversary
finding F9) is honoured once the connection's ``search_cap`` names it, instead of a silently short window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_enkash.export.windows import Window, WindowReader
from airflow_provider_enkash.hooks.enkash import EnKashHook
from tests.conftest import connection_json
from tests.export.conftest import api_records, day


@pytest.fixture
def capped(seeded, seeded_server, monkeypatch):
    """EnKash cuts every search at 300 rows and reports recordsCount as the rows returned (no hint)."""
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(seeded_server, search_cap=300))
    expected = api_records(seeded, *day(2))
    seeded.post("config", {"max_records": 300, "records_count": "returned"})
    return expected


def test_a_cap_below_truncation_limit_is_bisected_not_read_as_complete(capped):
    assert len(capped) > 300  # one day holds more than a capped answer
    reader = WindowReader(hook=EnKashHook(), truncation_limit=1000, initial_sub_window=timedelta(days=1))
    ids = [r["enKashCardTransactionId"] for batch in reader.batches(Window(*day(2))) for r in batch]
    assert set(ids) == set(capped)
    assert reader.cap == 300 and reader.stats.bisections > 0
    assert reader.stats.records == len(ids)


def test_paging_with_pages_above_the_cap_falls_back_to_bisection(capped):
    reader = WindowReader(
        hook=EnKashHook(), truncation_limit=1000, page_size=500, initial_sub_window=timedelta(days=1)
    )
    ids = {r["enKashCardTransactionId"] for batch in reader.batches(Window(*day(2))) for r in batch}
    assert ids == set(capped)
    assert reader.stats.paging is False
