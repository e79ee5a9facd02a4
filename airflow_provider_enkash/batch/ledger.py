"""The per-row ledger of a batch: one record per (batch id, row key), the latest outcome wins.

A retry reads it to re-examine only rows that are not settled. Two stores:

- :class:`FileLedger`: JSON Lines files under a folder (any ``ObjectStoragePath``:
  local, S3, GCS, ...). Every flush writes a new part file named by time, so no
  store needs append and parallel chunks never write the same object.
- :class:`SqlLedger`: a table on a common.sql connection, upserted on
  ``(batch_id, row_key)`` through the connection's dialect (Postgres
  ``ON CONFLICT``, SQLite/MySQL ``REPLACE``).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any, BinaryIO, Protocol

from airflow_provider_enkash.batch.arguments import DEFAULT_LEDGER_TABLE as DEFAULT_LEDGER_TABLE
from airflow_provider_enkash.batch.arguments import check_ledger_choice
from airflow_provider_enkash.batch.lease import FileLeaseStore, SqlLeaseStore
from airflow_provider_enkash.batch.outcomes import RowOutcome
from airflow_provider_enkash.exceptions import EnKashValidationError

LEDGER_COLUMNS = (
    "batch_id",
    "row_key",
    "row_number",
    "reference",
    "enkash_card_id",
    "amount",
    "outcome",
    "enkash_transaction_id",
    "error_code",
    "error_message",
    "recorded_at",
    "sent_at",
    "absent_checks",
    "last_absent_at",
    "enkash_amount",
)
_TABLE_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
_MESSAGE_MAX_LENGTH = 1000


class BatchLedger(Protocol):
    """Where row outcomes are kept between attempts, and the lease of each batch."""

    location: str

    def lease_store(self) -> Any:
        """The lease store beside this ledger (:mod:`~airflow_provider_enkash.batch.lease`)."""

    def read(self, batch_id: str) -> dict[str, RowOutcome]:
        """The latest outcome of every row of ``batch_id`` recorded so far, by row key."""

    def write(self, outcomes: Iterable[RowOutcome]) -> None:
        """Record ``outcomes`` (each replaces any earlier record of its batch id and row key)."""

    def mark_sending(self, outcomes: list[RowOutcome]) -> None:
        """Record ``sending`` markers of rows about to be sent, durably and cheaply (one call per
        handful of rows): what a take-over treats as unclear."""

    def close(self) -> None:
        """Release what ``mark_sending`` keeps open (the records stay written)."""


def _latest_by_key(records: Iterable[RowOutcome]) -> dict[str, RowOutcome]:
    return {record.row_key: record for record in records}


class FileLedger:
    """JSON Lines part files under ``directory/<batch folder>/``.

    :param directory: an ``ObjectStoragePath`` or path/URL string; created when missing.
    """

    def __init__(self, directory: Any) -> None:
        from airflow.sdk import ObjectStoragePath

        self.directory = (
            directory if isinstance(directory, ObjectStoragePath) else ObjectStoragePath(str(directory))
        )
        self.location = str(self.directory)
        self._journals: dict[str, BinaryIO] = {}  # batch id -> this attempt's sending journal, open to append

    def lease_store(self) -> FileLeaseStore:
        return FileLeaseStore(self.folder, protocol=self.directory.protocol)

    def folder(self, batch_id: str) -> Any:
        """The folder of one batch: a readable slug of the id plus a hash, so distinct ids never collide."""
        readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", batch_id)[:80]
        digest = hashlib.sha256(batch_id.encode("utf-8")).hexdigest()[:12]
        return self.directory / f"{readable}-{digest}"

    def read(self, batch_id: str) -> dict[str, RowOutcome]:
        folder = self.folder(batch_id)
        if not folder.exists():
            return {}
        records: list[RowOutcome] = []
        for part in sorted(folder.iterdir(), key=lambda p: p.name):
            if not part.name.endswith(".jsonl"):
                continue
            with part.open("r", encoding="utf-8") as handle:
                records.extend(RowOutcome.from_record(json.loads(line)) for line in handle if line.strip())
        return _latest_by_key(r for r in records if r.batch_id == batch_id)

    def write(self, outcomes: Iterable[RowOutcome]) -> None:
        by_batch: dict[str, list[RowOutcome]] = {}
        for outcome in outcomes:
            by_batch.setdefault(outcome.batch_id, []).append(outcome)
        for batch_id, records in by_batch.items():
            folder = self.folder(batch_id)
            folder.mkdir(parents=True, exist_ok=True)
            part = folder / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.jsonl"
            with part.open("w", encoding="utf-8") as handle:
                handle.write(_lines(records))

    def mark_sending(self, outcomes: list[RowOutcome]) -> None:
        """Appended to one journal part per batch and attempt, named (so ordered) by its creation time.

        The journal stays open (unbuffered, ``O_APPEND``) until :meth:`close`: each call is one
        ``write``, which survives the process being killed. The batch lease already restricts file
        ledgers to local paths. Other stores get an ordinary part file per call.
        """
        if self.directory.protocol not in ("file", "local", ""):
            self.write(outcomes)
            return
        for batch_id in {o.batch_id for o in outcomes}:
            journal = self._journals.get(batch_id)
            if journal is None:
                folder = self.folder(batch_id)
                folder.mkdir(parents=True, exist_ok=True)
                name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.sending.jsonl"
                journal = self._journals[batch_id] = open(os.path.join(folder.path, name), "ab", buffering=0)  # noqa: SIM115  (closed in close())
            _append_whole(journal, _lines(o for o in outcomes if o.batch_id == batch_id).encode("utf-8"))

    def close(self) -> None:
        """Close this attempt's sending journals."""
        while self._journals:
            self._journals.popitem()[1].close()


def _append_whole(journal: BinaryIO, data: bytes) -> None:
    """Append all of ``data`` or nothing: a short or failed write (a full disk) is cut off again and
    raised, so the caller sends nothing and the journal holds no torn line that would make the
    ledger unreadable."""
    end = journal.tell()
    written = 0
    try:
        while written < len(data):
            count = journal.write(memoryview(data)[written:])
            if not count:
                raise OSError(errno.ENOSPC, "the sending journal took no more bytes")
            written += count
    except BaseException:
        journal.truncate(end)
        raise


def _lines(records: Iterable[RowOutcome]) -> str:
    return "".join(json.dumps(r.to_record(), sort_keys=True) + "\n" for r in records)


class SqlLedger:
    """A ledger table on a common.sql connection.

    :param conn_id: an Airflow connection whose hook is a common.sql ``DbApiHook``.
    :param table: table name, optionally ``schema.table`` (default ``enkash_batch_ledger``).
    :param create_table: create the table when it does not exist (default True).
    """

    def __init__(
        self,
        conn_id: str,
        *,
        table: str = DEFAULT_LEDGER_TABLE,
        create_table: bool = True,
    ) -> None:
        if not isinstance(table, str) or not _TABLE_NAME_RE.fullmatch(table):
            raise EnKashValidationError(
                "ledger_table", f"{table!r} is not a plain table name like schema.table"
            )
        self.conn_id = conn_id
        self.table = table
        self.create_table = create_table
        self.location = f"{conn_id}:{table}"
        self._db_hook: Any = None

    def lease_store(self) -> SqlLeaseStore:
        return SqlLeaseStore(lambda: self.db_hook, f"{self.table}_batch_leases")

    @property
    def db_hook(self) -> Any:
        """The connection's ``DbApiHook``, resolved once; the table is created on first use."""
        if self._db_hook is None:
            from airflow.providers.common.sql.hooks.sql import DbApiHook
            from airflow.sdk import BaseHook

            db_hook = BaseHook.get_connection(self.conn_id).get_hook()  # type: ignore[no-untyped-call]
            if not isinstance(db_hook, DbApiHook):
                raise EnKashValidationError(
                    "ledger_conn_id", f"{self.conn_id!r} is not a common.sql connection"
                )
            if self.create_table:
                db_hook.run(self.create_table_sql())
            self._db_hook = db_hook
        return self._db_hook

    def create_table_sql(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "batch_id VARCHAR(255) NOT NULL, row_key VARCHAR(255) NOT NULL, row_number INTEGER NOT NULL, "
            "reference VARCHAR(64) NOT NULL, enkash_card_id VARCHAR(64) NOT NULL, amount NUMERIC(16, 2) NOT NULL, "
            "outcome VARCHAR(32) NOT NULL, enkash_transaction_id VARCHAR(64), error_code VARCHAR(64), "
            f"error_message VARCHAR({_MESSAGE_MAX_LENGTH}), recorded_at VARCHAR(40), "
            "sent_at DOUBLE PRECISION, absent_checks INTEGER, last_absent_at DOUBLE PRECISION, "
            "enkash_amount NUMERIC(16, 2), PRIMARY KEY (batch_id, row_key))"
        )

    def read(self, batch_id: str) -> dict[str, RowOutcome]:
        hook = self.db_hook
        records = hook.get_records(
            f"SELECT {', '.join(LEDGER_COLUMNS)} FROM {self.table} WHERE batch_id = {hook.placeholder}",
            parameters=(batch_id,),
        )
        return _latest_by_key(
            RowOutcome.from_record(dict(zip(LEDGER_COLUMNS, record, strict=False)))
            for record in records or ()
        )

    def mark_sending(self, outcomes: list[RowOutcome]) -> None:
        self.write(outcomes)

    def close(self) -> None:
        """Nothing to release: every write is its own transaction on the connection's hook."""

    def write(self, outcomes: Iterable[RowOutcome]) -> None:
        rows = []
        for outcome in outcomes:
            record = outcome.to_record()
            if record["error_message"] is not None:
                record["error_message"] = record["error_message"][:_MESSAGE_MAX_LENGTH]
            rows.append(tuple(record[column] for column in LEDGER_COLUMNS))
        if rows:
            self.db_hook.insert_rows(
                self.table,
                rows,
                target_fields=list(LEDGER_COLUMNS),
                replace=True,
                replace_index=["batch_id", "row_key"],
                commit_every=1000,
            )


class LedgerWriter:
    """Buffers outcomes and writes them every ``flush_rows`` rows or ``flush_interval_s`` seconds."""

    def __init__(self, ledger: BatchLedger, *, flush_rows: int, flush_interval_s: float) -> None:
        self.ledger = ledger
        self.flush_rows = flush_rows
        self.flush_interval_s = flush_interval_s
        self._buffer: list[RowOutcome] = []
        self._flushed_at = time.monotonic()

    def add(self, outcome: RowOutcome) -> None:
        self._buffer.append(outcome)
        if (
            len(self._buffer) >= self.flush_rows
            or time.monotonic() - self._flushed_at >= self.flush_interval_s
        ):
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self.ledger.write(self._buffer)
            self._buffer = []
        self._flushed_at = time.monotonic()


def open_ledger(
    *,
    ledger_path: Any = None,
    ledger_conn_id: str | None = None,
    ledger_table: str = DEFAULT_LEDGER_TABLE,
) -> BatchLedger:
    """The ledger named by exactly one of ``ledger_path`` (a folder) or ``ledger_conn_id`` (a SQL table)."""
    check_ledger_choice(ledger_path=ledger_path, ledger_conn_id=ledger_conn_id)
    if ledger_conn_id is not None:
        return SqlLedger(ledger_conn_id, table=ledger_table)
    return FileLedger(ledger_path)
