"""Fixtures of the money-safety tests: the batch ledger in each store the operators support."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["file", "sql"])
def ledger(request, monkeypatch, tmp_path: Path) -> dict[str, str]:
    """The batch operator's ledger arguments: a JSON Lines folder, or a table on the test command's PostgreSQL."""
    if request.param == "file":
        return {"ledger_path": str(tmp_path / "ledger")}
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_LEDGER_PG", request.getfixturevalue("postgres_uri"))
    return {"ledger_conn_id": "enkash_ledger_pg"}
