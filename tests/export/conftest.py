"""Fixtures for the export tests: a sandbox seeded with three days of settled transactions, and warehouses."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airflow_provider_enkash.hooks.enkash import EnKashHook
from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig
from airflow_provider_enkash.token_cache import TOKEN_CACHE
from tests.conftest import SandboxAdmin, connection_json

UTC = UTC
SEED_END = datetime(2025, 1, 4, tzinfo=UTC)
SEED_DAYS = 3
SEED_TRANSACTIONS = 3000


def day(n: int) -> tuple[datetime, datetime]:
    """The data interval of January ``n``, 2025 (UTC)."""
    start = datetime(2025, 1, n, tzinfo=UTC)
    return start, start + timedelta(days=1)


@pytest.fixture(scope="package")
def seeded_server() -> Iterator[Sandbox]:
    sandbox = Sandbox(
        SandboxConfig(
            seed_transactions=SEED_TRANSACTIONS,
            days=SEED_DAYS,
            seed_end=SEED_END,
            settle_delay_s=0,
        )
    ).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def seeded(seeded_server: Sandbox, monkeypatch: pytest.MonkeyPatch) -> SandboxAdmin:
    """The seeded sandbox, reset, as ``enkash_default``."""
    admin = SandboxAdmin(seeded_server)
    admin.post("reset")
    admin.post("faults", {"clear": True})
    TOKEN_CACHE.clear()
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(seeded_server))
    return admin


def api_records(admin: SandboxAdmin, start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
    """Every record EnKash holds for ``[start, end)``, by id: one untruncated search (limit lifted meanwhile)."""
    limit = admin.get("config")["max_records"]
    admin.post("config", {"max_records": 1_000_000})
    try:
        result = EnKashHook().get_all_transactions(txn_date_from=start, txn_date_to=end)
    finally:
        admin.post("config", {"max_records": limit})
    assert result["recordsCount"] == len(result["data"])
    return {r["enKashCardTransactionId"]: r for r in result["data"]}


def run_export(operator: Any, start: datetime, end: datetime) -> dict[str, Any]:
    """Execute ``operator`` for the data interval ``[start, end)``."""
    return operator.execute({"data_interval_start": start, "data_interval_end": end})


@pytest.fixture
def sqlite_warehouse(tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Connection id of a fresh SQLite file."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_ENKASH_WAREHOUSE",
        json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "wh.db")}),
    )
    return "enkash_warehouse"


@pytest.fixture
def postgres_warehouse(monkeypatch: pytest.MonkeyPatch, postgres_uri: str) -> Iterator[tuple[str, str]]:
    """(connection id, fresh table name) on the test PostgreSQL server; the table is dropped afterwards."""
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_PG", postgres_uri)
    table = f"enkash_txn_{uuid.uuid4().hex[:8]}"
    yield "enkash_pg", table
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    PostgresHook(postgres_conn_id="enkash_pg").run(f"DROP TABLE IF EXISTS {table}")
