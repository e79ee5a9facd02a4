"""EnKashTransactionsToSqlOperator against the sandbox: exactly once, backfills, late changes, bisection, Postgres."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.sdk import BaseHook

from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.transfers.enkash_to_sql import EnKashTransactionsToSqlOperator
from tests.export.conftest import SEED_TRANSACTIONS, api_records, day, run_export

UTC = UTC


def sqlite_rows(conn_id: str, sql: str) -> list[tuple]:
    path = BaseHook.get_connection(conn_id).host
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def exporter(conn_id: str, **kwargs) -> EnKashTransactionsToSqlOperator:
    return EnKashTransactionsToSqlOperator(
        task_id="export", conn_id=conn_id, **{"lookback": timedelta(0), **kwargs}
    )


def test_rerun_writes_every_transaction_exactly_once(seeded, sqlite_warehouse):
    expected = api_records(seeded, *day(2))
    assert 500 < len(expected) < SEED_TRANSACTIONS
    first = run_export(exporter(sqlite_warehouse), *day(2))
    second = run_export(exporter(sqlite_warehouse), *day(2))
    assert (first["fetched"], first["inserted"], first["updated"]) == (
        len(expected),
        len(expected),
        0,
    )
    assert (second["fetched"], second["inserted"], second["updated"]) == (
        len(expected),
        0,
        len(expected),
    )
    assert (first["window_start"], first["window_end"]) == (
        "2025-01-02T00:00:00.000Z",
        "2025-01-03T00:00:00.000Z",
    )
    rows = sqlite_rows(
        sqlite_warehouse,
        "SELECT enkash_transaction_id, principal_amount_paise, status FROM enkash_transactions",
    )
    assert len(rows) == len(expected)
    assert {r[0]: (r[1], r[2]) for r in rows} == {
        i: (int(Decimal(str(r["principalAmount"])) * 100), r["status"]) for i, r in expected.items()
    }


def test_backfill_out_of_order_with_overlapping_lookback_converges(seeded, sqlite_warehouse):
    for n in (3, 1, 2, 2, 3):
        run_export(exporter(sqlite_warehouse, lookback=timedelta(days=1)), *day(n))
    expected = api_records(seeded, day(1)[0], day(3)[1])
    assert len(expected) == SEED_TRANSACTIONS
    ids = sqlite_rows(sqlite_warehouse, "SELECT enkash_transaction_id FROM enkash_transactions")
    assert sorted(i for (i,) in ids) == sorted(expected)
    per_day = dict(
        sqlite_rows(
            sqlite_warehouse,
            "SELECT substr(txn_date, 1, 10), COUNT(*) FROM enkash_transactions GROUP BY 1",
        )
    )
    assert per_day == {f"2025-01-0{n}": len(api_records(seeded, *day(n))) for n in (1, 2, 3)}


def test_ist_day_boundaries_export_the_ist_day(seeded, sqlite_warehouse):
    summary = run_export(exporter(sqlite_warehouse, day_boundaries="Asia/Kolkata"), *day(2))
    assert (summary["window_start"], summary["window_end"]) == (
        "2025-01-01T18:30:00.000Z",
        "2025-01-02T18:30:00.000Z",
    )
    expected = api_records(
        seeded,
        datetime(2025, 1, 1, 18, 30, tzinfo=UTC),
        datetime(2025, 1, 2, 18, 30, tzinfo=UTC),
    )
    ids = sqlite_rows(sqlite_warehouse, "SELECT enkash_transaction_id FROM enkash_transactions")
    assert sorted(i for (i,) in ids) == sorted(expected)


def test_truncated_responses_are_bisected_until_every_row_is_found(seeded, sqlite_warehouse):
    expected = api_records(seeded, *day(2))
    seeded.post("config", {"max_records": 40})
    summary = run_export(
        exporter(sqlite_warehouse, truncation_limit=40, initial_sub_window=timedelta(days=1)),
        *day(2),
    )
    assert summary["bisections"] > 0 and summary["fetched"] == len(expected)
    ids = sqlite_rows(sqlite_warehouse, "SELECT enkash_transaction_id FROM enkash_transactions")
    assert sorted(i for (i,) in ids) == sorted(expected)


def test_page_and_size_are_used_when_the_api_honours_them(seeded, sqlite_warehouse):
    expected = api_records(seeded, *day(2))
    seeded.post("config", {"max_records": 100})
    before = seeded.get("counters")["total"]
    summary = run_export(
        exporter(
            sqlite_warehouse,
            truncation_limit=100,
            page_size=100,
            initial_sub_window=timedelta(days=1),
        ),
        *day(2),
    )
    assert summary["paged"] is True and summary["bisections"] == 0
    assert summary["requests"] == len(expected) // 100 + 1
    assert seeded.get("counters")["total"] - before <= summary["requests"] + 1  # + the token call
    ids = sqlite_rows(sqlite_warehouse, "SELECT enkash_transaction_id FROM enkash_transactions")
    assert sorted(i for (i,) in ids) == sorted(expected)


def test_late_status_change_replaces_the_row(sandbox, hook, sqlite_warehouse):
    sandbox.post(
        "config",
        {"settle_delay_s": 0, "late_change_rate": 1.0, "late_change_delay_s": 1.0},
    )
    card = hook.create_prepaid_card(first_name="Ravi", mobile="9123456781")["enKashCardId"]
    hook.load_card_balance(enkash_card_id=card, amount="321.09", unique_reference_number="EXPORT-LATE-1")
    now = datetime.now(UTC)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    operator = exporter(sqlite_warehouse, day_boundaries=None)
    first = run_export(operator, start, end)
    assert sqlite_rows(
        sqlite_warehouse,
        "SELECT status, principal_amount_paise FROM enkash_transactions",
    ) == [("SUCCESS", 32109)]
    time.sleep(1.2)
    second = run_export(operator, start, end)
    assert sqlite_rows(
        sqlite_warehouse,
        "SELECT status, principal_amount_paise FROM enkash_transactions",
    ) == [("REVERSED", 32109)]
    assert (first["inserted"], second["inserted"], second["updated"]) == (1, 0, 1)


def test_postgres_upsert_is_exact_and_typed(seeded, postgres_warehouse):
    conn_id, table = postgres_warehouse
    expected = api_records(seeded, *day(2))
    run_export(exporter(conn_id, table=table), *day(2))
    seeded.post("config", {"max_records": 50})  # the rerun bisects differently: same rows
    summary = run_export(exporter(conn_id, table=table, truncation_limit=50), *day(2))
    assert (summary["inserted"], summary["updated"]) == (0, len(expected))
    pg = PostgresHook(postgres_conn_id=conn_id)
    rows = pg.get_records(f"SELECT enkash_transaction_id, principal_amount, txn_date, status FROM {table}")
    assert len(rows) == len(expected)
    assert {r[0]: r[1] for r in rows} == {i: Decimal(str(r["principalAmount"])) for i, r in expected.items()}
    assert all(isinstance(r[1], Decimal) and r[2].utcoffset() == timedelta(0) for r in rows)
    assert all(day(2)[0] <= r[2] < day(2)[1] for r in rows)
    total = pg.get_first(f"SELECT SUM(principal_amount) FROM {table}")[0]
    assert total == sum(Decimal(str(r["principalAmount"])) for r in expected.values())
    types = dict(
        pg.get_records(
            f"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{table}'"
        )
    )
    assert (types["principal_amount"], types["txn_date"], types["principal_amount_paise"]) == (
        "numeric", "timestamp with time zone", "bigint",
    )  # fmt: skip


def test_bad_input_fails_before_any_request(seeded, sqlite_warehouse):
    with pytest.raises(EnKashValidationError, match="table"):
        exporter(sqlite_warehouse, table="x; DROP TABLE y")
    with pytest.raises(EnKashValidationError, match="page_size"):
        exporter(sqlite_warehouse, page_size=5000)
    with pytest.raises(EnKashValidationError, match="lookback"):
        exporter(sqlite_warehouse, lookback=timedelta(days=-1))
    before = seeded.requests_total()
    with pytest.raises(EnKashValidationError, match="day_boundaries"):
        run_export(
            exporter(sqlite_warehouse),
            datetime(2025, 1, 2, 5, tzinfo=UTC),
            datetime(2025, 1, 2, 6, tzinfo=UTC),
        )
    with pytest.raises(EnKashValidationError, match="data_interval"):
        exporter(sqlite_warehouse).execute({})
    assert seeded.requests_total() == before


def test_an_api_reading_txn_date_to_inclusively_still_gives_each_row_once(seeded, sqlite_warehouse):
    expected = api_records(seeded, *day(2))
    seeded.post("config", {"date_to_inclusive": True, "max_records": 40})
    summary = run_export(exporter(sqlite_warehouse, truncation_limit=40), *day(2))
    assert summary["fetched"] == len(expected)
    ids = sqlite_rows(sqlite_warehouse, "SELECT enkash_transaction_id FROM enkash_transactions")
    assert sorted(i for (i,) in ids) == sorted(expected)


def test_paging_with_a_server_cap_below_page_size_loses_nothing(seeded, sqlite_warehouse):
    """EnKash honours page/size but silently caps each response below page_size."""
    expected = api_records(seeded, *day(2))
    seeded.post("config", {"max_records": 50})
    summary = run_export(exporter(sqlite_warehouse, page_size=200, truncation_limit=1000), *day(2))
    assert summary["fetched"] >= len(expected)
    ids = [
        row[0]
        for row in sqlite_rows(sqlite_warehouse, "SELECT enkash_transaction_id FROM enkash_transactions")
    ]
    assert sorted(ids) == sorted(expected)


def test_an_api_ignoring_page_and_size_falls_back_to_bisection(seeded, sqlite_warehouse):
    expected = api_records(seeded, *day(2))
    seeded.post("config", {"ignore_paging": True, "max_records": 60})
    summary = run_export(exporter(sqlite_warehouse, page_size=50, truncation_limit=60), *day(2))
    assert summary["paged"] is False
    assert summary["bisections"] > 0
    ids = [
        row[0]
        for row in sqlite_rows(sqlite_warehouse, "SELECT enkash_transaction_id FROM enkash_transactions")
    ]
    assert sorted(ids) == sorted(expected)
