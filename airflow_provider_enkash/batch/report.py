"""The files a person reads after a batch: ``report.csv`` (every row) and ``needs_action.csv``.

``report.csv`` has one line per row of the batch, in source order: the row, its latest ledger
outcome and EnKash's transaction id. ``needs_action.csv`` holds the rows that are not known to be
on the card (failed, unclear, or never recorded) in the source's own columns, so it can be fixed
and submitted again as a payroll file: the same pay period means the same batch id, so every row
keeps its reference and is looked up at EnKash before anything is sent.

Built only on the ledger's public reading API (:meth:`BatchLedger.read` and
:attr:`RowOutcome.settled`), so new outcome kinds land in the right file without a change here.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from airflow_provider_enkash.batch.outcomes import RowOutcome
from airflow_provider_enkash.batch.rows import ROW_NUMBER, BatchRow

REPORT_FILE = "report.csv"
NEEDS_ACTION_FILE = "needs_action.csv"
#: Outcome shown for a row the ledger holds nothing for (its chunk never ran).
NOT_RECORDED = "not_recorded"
REPORT_COLUMNS = (
    "row_number",
    "row_key",
    "enkash_card_id",
    "amount",
    "outcome",
    "enkash_transaction_id",
    "reference",
    "error_code",
    "error_message",
    "recorded_at",
)


@dataclass(frozen=True)
class BatchReport:
    """Where the report files are and what they say.

    :param needs_action_amount: rupees of the rows in ``needs_action.csv`` (a decimal string).
    """

    report_path: str
    needs_action_path: str
    rows: int
    needs_action: int
    counts: dict[str, int]
    settled_amount: str
    needs_action_amount: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_batch_report(
    *,
    rows: Sequence[BatchRow],
    source_rows: Sequence[Mapping[str, Any]],
    outcomes: Mapping[str, RowOutcome],
    directory: Any,
) -> BatchReport:
    """Write ``report.csv`` and ``needs_action.csv`` into ``directory`` (replacing earlier ones).

    :param rows: the validated rows of the batch (``validate_rows`` of ``source_rows``).
    :param source_rows: the rows as read from the source, each with its ``row_number``; their
        columns, in source order, are the columns of ``needs_action.csv``.
    :param outcomes: the ledger's latest outcome by row key (``ledger.read(batch_id)``).
    :param directory: an ``ObjectStoragePath`` or a path/URL string; created when missing.
    """
    from airflow.sdk import ObjectStoragePath

    folder = directory if isinstance(directory, ObjectStoragePath) else ObjectStoragePath(str(directory))
    folder.mkdir(parents=True, exist_ok=True)
    source_by_number = {int(raw[ROW_NUMBER]): raw for raw in source_rows}
    report_lines: list[dict[str, Any]] = []
    needs_action: list[Mapping[str, Any]] = []
    counts: Counter[str] = Counter()
    settled_amount = needs_action_amount = Decimal(0)
    for row in sorted(rows, key=lambda r: r.row_number):
        outcome = outcomes.get(row.row_key)
        counts[outcome.outcome if outcome else NOT_RECORDED] += 1
        report_lines.append(_report_line(row, outcome))
        if outcome is not None and outcome.settled:
            settled_amount += outcome.amount
        else:
            needs_action.append(source_by_number[row.row_number])
            needs_action_amount += row.amount
    report_path = folder / REPORT_FILE
    needs_action_path = folder / NEEDS_ACTION_FILE
    _write_text(report_path, _csv_text(REPORT_COLUMNS, report_lines))
    _write_text(needs_action_path, _csv_text(_source_columns(source_rows), needs_action))
    return BatchReport(
        report_path=str(report_path),
        needs_action_path=str(needs_action_path),
        rows=len(rows),
        needs_action=len(needs_action),
        counts=dict(sorted(counts.items())),
        settled_amount=str(settled_amount),
        needs_action_amount=str(needs_action_amount),
    )


def _report_line(row: BatchRow, outcome: RowOutcome | None) -> dict[str, Any]:
    line = {
        "row_number": row.row_number,
        "row_key": row.row_key,
        "enkash_card_id": row.enkash_card_id,
        "amount": str(row.amount),
        "outcome": NOT_RECORDED,
    }
    if outcome is not None:
        line.update(
            outcome=outcome.outcome,
            amount=str(outcome.amount),
            enkash_transaction_id=outcome.enkash_transaction_id,
            reference=outcome.reference,
            error_code=outcome.error_code,
            error_message=outcome.error_message,
            recorded_at=outcome.recorded_at,
        )
    return line


def _source_columns(source_rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The source's columns in first-seen order, without the ``row_number`` the reader added."""
    columns: dict[str, None] = {}
    for raw in source_rows:
        columns.update((name, None) for name in raw if name != ROW_NUMBER)
    return list(columns)


def _csv_text(columns: Sequence[str], lines: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for line in lines:
        writer.writerow({name: "" if line.get(name) is None else line.get(name) for name in columns})
    return buffer.getvalue()


def _write_text(path: Any, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)
