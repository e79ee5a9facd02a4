"""Reading, validating, chunking and recording batches (no EnKash calls), and the SQL ledger on SQLite and Postgres."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from airflow_provider_enkash.batch import (
    BatchValidationError,
    FileLedger,
    RowOutcome,
    SqlLedger,
    chunk_rows,
    read_batch,
    validate_rows,
)
from airflow_provider_enkash.batch.throttle import RateLimiter


def test_csv_rows_are_numbered_and_typed(tmp_path):
    source = tmp_path / "p.csv"
    source.write_text(
        "enkash_card_id,amount,reference,remarks\nEKCAAAAAA1, 1500.00 ,EMP1-JAN,Jan salary\nEKCAAAAAA2,0.01,,\n"
    )
    rows = validate_rows(read_batch(source_path=str(source)))
    assert [(r.row_number, r.row_key, r.amount, r.remarks) for r in rows] == [
        (1, "EMP1-JAN", Decimal("1500.00"), "Jan salary"),
        (2, "EKCAAAAAA2", Decimal("0.01"), None),
    ]


def test_every_problem_of_the_batch_is_reported_with_row_and_field():
    raw = [
        {"card_id": "EKCAAAAAA1", "amount": "10"},
        {"amount": "10"},
        {"card_id": "EKCAAAAAA2", "amount": 0.1 + 0.2},
        {"card_id": "EKCAAAAAA3", "amount": "1e3"},
        {"card_id": "EKCAAAAAA1", "amount": "5", "reference": "EKCAAAAAA1"},
        {"card_id": "EKCAAAAAA4", "amount": "10", "remarks": "bad\x00remark"},
    ]
    with pytest.raises(BatchValidationError) as info:
        validate_rows(raw)
    fields = [(p.row_number, p.field) for p in info.value.problems]
    assert (2, "enkash_card_id") in fields
    assert (3, "amount") in fields
    assert (5, "reference") in fields
    assert (6, "remarks") in fields
    assert "row 2: enkash_card_id" in str(info.value)


def test_empty_batch_and_ambiguous_sources_are_refused():
    with pytest.raises(BatchValidationError, match="empty"):
        validate_rows([])
    with pytest.raises(ValueError, match="exactly one source"):
        read_batch(rows=[], sql="select 1")


def test_chunks_keep_source_row_numbers_and_keys():
    rows = validate_rows([{"card_id": f"EKC{i:07d}", "amount": "1.00"} for i in range(7)])
    chunks = chunk_rows(rows, chunk_size=3)
    assert [len(c) for c in chunks] == [3, 3, 1]
    again = validate_rows(chunks[1])
    assert [(r.row_number, r.row_key) for r in again] == [
        (4, "EKC0000003"),
        (5, "EKC0000004"),
        (6, "EKC0000005"),
    ]


def _outcome(batch: str, key: str, outcome: str, amount: str = "10.50") -> RowOutcome:
    return RowOutcome(
        batch_id=batch, row_key=key, row_number=1, reference=f"AF{key}", enkash_card_id="EKCAAAAAA1",
        amount=Decimal(amount), outcome=outcome, error_code="1" if outcome == "failed" else None,
    )  # fmt: skip


def _check_ledger(ledger) -> None:
    batch = f"b/{uuid.uuid4().hex}"
    assert ledger.read(batch) == {}
    ledger.write([_outcome(batch, "k1", "outcome_unknown"), _outcome(batch, "k2", "failed")])
    ledger.write([_outcome(batch, "k1", "already_loaded", "10.50")])
    ledger.write([_outcome("other-batch", "k1", "loaded")])
    entries = ledger.read(batch)
    assert {k: e.outcome for k, e in entries.items()} == {
        "k1": "already_loaded",
        "k2": "failed",
    }
    assert entries["k1"].amount == Decimal("10.50")
    assert entries["k2"].error_code == "1"


def test_file_ledger_latest_outcome_wins(tmp_path):
    _check_ledger(FileLedger(tmp_path / "ledger"))


def test_file_ledger_sending_marks_are_in_the_file_as_each_call_returns(tmp_path):
    """A kill right after ``mark_sending`` returns must leave its markers: another process (here a
    fresh ledger object, which reads the files) sees every call's rows before the journal is closed."""
    batch = "b/journal"
    ledger = FileLedger(tmp_path / "ledger")
    ledger.mark_sending([_outcome(batch, "k1", "sending"), _outcome(batch, "k2", "sending")])
    assert {k: e.outcome for k, e in FileLedger(tmp_path / "ledger").read(batch).items()} == {
        "k1": "sending",
        "k2": "sending",
    }
    ledger.mark_sending([_outcome(batch, "k3", "sending")])
    ledger.write([_outcome(batch, "k1", "loaded")])
    assert {k: e.outcome for k, e in FileLedger(tmp_path / "ledger").read(batch).items()} == {
        "k1": "loaded",
        "k2": "sending",
        "k3": "sending",
    }
    journals = list((tmp_path / "ledger").rglob("*.sending.jsonl"))
    assert len(journals) == 1, journals  # one journal per batch and attempt, appended to
    ledger.close()
    ledger.close()  # closing twice is harmless
    assert len(ledger.read(batch)) == 3


_FULL_DISK_CHILD = """
import os, resource, sys
from decimal import Decimal
from airflow_provider_enkash.batch.ledger import FileLedger
from airflow_provider_enkash.batch.outcomes import RowOutcome

def row(i):
    return RowOutcome(batch_id="b", row_key=f"k{i}", row_number=i, reference=f"R{i}", enkash_card_id="EKC1",
                      amount=Decimal("10.00"), outcome="sending", sent_at=1.0)

ledger = FileLedger(sys.argv[1])
ledger.mark_sending([row(0)])
journal = next(os.path.join(d, f) for d, _, files in os.walk(sys.argv[1]) for f in files)
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(journal) + 40, resource.RLIM_INFINITY))
try:
    ledger.mark_sending([row(1)])
except OSError as exc:
    print("refused:", exc.errno)
"""


def test_file_ledger_refuses_a_sending_mark_it_could_only_write_in_part(tmp_path):
    """A disk with room for part of a marker: ``mark_sending`` raises (so that row is never sent) and
    cuts the torn line off, so the ledger stays readable with every earlier marker."""
    import errno
    import subprocess
    import sys

    child = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_CHILD, str(tmp_path / "ledger")],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert f"refused: {errno.EFBIG}" in child.stdout, child.stdout + child.stderr
    assert {k: e.outcome for k, e in FileLedger(tmp_path / "ledger").read("b").items()} == {"k0": "sending"}


def test_sql_ledger_on_sqlite(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_BATCH_SQLITE",
        json.dumps({"conn_type": "sqlite", "host": f"{tmp_path}/ledger.db"}),
    )
    _check_ledger(SqlLedger("batch_sqlite"))


def test_sql_ledger_on_postgres(monkeypatch, postgres_uri):
    monkeypatch.setenv("AIRFLOW_CONN_BATCH_PG", postgres_uri)
    _check_ledger(SqlLedger("batch_pg", table=f"ledger_{uuid.uuid4().hex[:8]}"))


def test_sql_ledger_refuses_an_unsafe_table_name():
    with pytest.raises(ValueError, match="ledger_table"):
        SqlLedger("x", table="t; drop table users")


def test_rate_limiter_refuses_nonsense():
    with pytest.raises(ValueError, match="requests_per_second"):
        RateLimiter(0)
