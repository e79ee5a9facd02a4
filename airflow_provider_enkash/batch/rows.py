"""Rows of a batch load: where they come from and what a checked row holds.

A batch comes from a CSV or JSON Lines file (any ``ObjectStoragePath``: local,
S3, GCS, ...), a SQL query on a common.sql connection, or a list of dicts
(e.g. an XCom). Readers return raw dicts, each with its ``row_number``
(1-based, in source order, the number the validation report refers to);
:mod:`~airflow_provider_enkash.batch.validation` turns them into
:class:`BatchRow`.

Columns: ``enkash_card_id`` (also ``card_id`` or ``enKashCardId``),
``amount`` (rupees), optional ``reference`` (the row's business key, e.g.
``EMP0042-2025-01-A``; defaults to the card id) and optional ``remarks``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from airflow_provider_enkash.exceptions import EnKashValidationError

ROW_NUMBER = "row_number"
READ_PROBLEM = "_read_problem"  # key of a row the reader could not read: (field, problem)
CARD_ID_COLUMNS = ("enkash_card_id", "card_id", "enKashCardId")
FILE_FORMATS = ("csv", "jsonl")
_SUFFIX_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True)
class BatchRow:
    """One checked row of a batch.

    :param row_number: 1-based position in the source (data rows; a CSV header is not counted).
    :param row_key: the row's business key, unique in the batch: ``reference`` when given, else the card id.
    :param enkash_card_id: the card to credit.
    :param amount: rupees, at most two decimal places.
    :param remarks: free text sent with the load, or None.
    """

    row_number: int
    row_key: str
    enkash_card_id: str
    amount: Decimal
    remarks: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (amount as a string) that :func:`read_rows` accepts back unchanged."""
        row = {
            ROW_NUMBER: self.row_number,
            "reference": self.row_key,
            "enkash_card_id": self.enkash_card_id,
            "amount": str(self.amount),
        }
        if self.remarks is not None:
            row["remarks"] = self.remarks
        return row


def file_format_of(path: Any, file_format: str | None) -> str:
    """``file_format`` when given, else guessed from the path's suffix (``.csv``, ``.jsonl``, ``.ndjson``)."""
    if file_format is not None:
        if file_format not in FILE_FORMATS:
            raise EnKashValidationError(
                "file_format",
                f"{file_format!r} is not one of {', '.join(FILE_FORMATS)}",
            )
        return file_format
    suffix = "." + str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else ""
    if suffix not in _SUFFIX_FORMATS:
        raise EnKashValidationError(
            "file_format",
            f"cannot tell the format of {str(path)!r} from its suffix; pass 'csv' or 'jsonl'",
        )
    return _SUFFIX_FORMATS[suffix]


def _has_undecodable(value: Any) -> bool:
    return isinstance(value, str) and any("\udc80" <= char <= "\udcff" for char in value)


def _refuse_file(problem: str) -> NoReturn:
    """Raise the batch report for a file that cannot be read at all (row 0: the batch as a whole)."""
    from airflow_provider_enkash.batch.validation import (  # imports this module
        BatchValidationError,
        RowProblem,
    )

    raise BatchValidationError([RowProblem(0, "source_path", problem)])


def decode_rows_bytes(data: bytes) -> str:
    """The text of a rows file: UTF-8 (a BOM is dropped).

    Bytes that are not UTF-8 are kept as lone surrogates (``surrogateescape``) so that
    :func:`parse_rows_text` can report the rows that hold them; a UTF-16/UTF-32 or binary file
    (BOM or NUL bytes) is refused as a whole with a ``BatchValidationError``.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        _refuse_file("the file is UTF-16, UTF-32 or binary, not UTF-8 text; save it as UTF-8")
    return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")


def parse_rows_text(text: str, *, file_format: str) -> list[dict[str, Any]]:
    """Rows of a CSV (with a header line) or JSON Lines document, numbered from 1.

    A row that cannot be read (bytes that are not UTF-8, a line that is not a JSON object) is
    returned as ``{READ_PROBLEM: (field, problem)}``, so the batch report names it with the other problems.
    """
    raw: list[dict[str, Any]]
    if file_format == "csv":
        reader = csv.DictReader(io.StringIO(text), skipinitialspace=True)
        if reader.fieldnames is None:
            return []
        if any(_has_undecodable(name) for name in reader.fieldnames):
            _refuse_file("the header line is not valid UTF-8 text; save the file as UTF-8")
        raw = []
        for record in reader:
            row = {k.strip(): v for k, v in record.items() if k is not None}
            bad = next((column for column, value in row.items() if _has_undecodable(value)), None)
            raw.append(
                row
                if bad is None
                else {READ_PROBLEM: (bad, "is not valid UTF-8 text; save the file as UTF-8")}
            )
    else:
        raw = []
        for line_number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line, parse_float=Decimal)  # 1500.50 stays exact, never a float
            except ValueError:
                record = {READ_PROBLEM: ("rows", f"line {line_number} is not valid JSON")}
            if not isinstance(record, dict):
                record = {READ_PROBLEM: ("rows", f"line {line_number} is not a JSON object")}
            if any(_has_undecodable(v) for v in (*record, *record.values())):
                record = {READ_PROBLEM: ("rows", f"line {line_number} is not valid UTF-8 text")}
            raw.append(record)
    return [{**record, ROW_NUMBER: number} for number, record in enumerate(raw, start=1)]


def read_rows_from_file(path: Any, *, file_format: str | None = None) -> list[dict[str, Any]]:
    """Rows of a CSV or JSON Lines file (UTF-8).

    :param path: an ``ObjectStoragePath`` or a path/URL string (``file://``, ``s3://``, ... via fsspec).
    :param file_format: ``csv`` or ``jsonl``; default from the suffix.
    """
    from airflow.sdk import ObjectStoragePath

    storage_path = path if isinstance(path, ObjectStoragePath) else ObjectStoragePath(str(path))
    fmt = file_format_of(storage_path, file_format)
    with storage_path.open("rb") as handle:  # type: ignore[no-untyped-call]
        return parse_rows_text(decode_rows_bytes(handle.read()), file_format=fmt)


def read_rows_from_sql(
    *,
    sql: str,
    sql_conn_id: str,
    parameters: Mapping[str, Any] | Iterable[Any] | None = None,
) -> list[dict[str, Any]]:
    """Rows of a query on a common.sql connection; columns named as in the file formats.

    :param sql: one SELECT statement.
    :param sql_conn_id: an Airflow connection whose hook is a common.sql ``DbApiHook``.
    :param parameters: bind parameters of the query (default none).
    """
    from airflow.providers.common.sql.hooks.handlers import fetch_all_handler
    from airflow.providers.common.sql.hooks.sql import DbApiHook
    from airflow.sdk import BaseHook

    db_hook = BaseHook.get_connection(sql_conn_id).get_hook()  # type: ignore[no-untyped-call]
    if not isinstance(db_hook, DbApiHook):
        raise EnKashValidationError(
            "sql_conn_id",
            f"{sql_conn_id!r} is not a SQL connection (common.sql DbApiHook)",
        )
    records = db_hook.run(sql, parameters=parameters, handler=fetch_all_handler) or []
    columns = [str(column[0]) for column in db_hook.last_description or ()]
    return [
        {**dict(zip(columns, record, strict=False)), ROW_NUMBER: number}
        for number, record in enumerate(records, start=1)
    ]


def number_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A list of row dicts, each keeping its ``row_number`` if it has one (chunks keep their source numbers).

    An item that is not a mapping becomes an unreadable row (``READ_PROBLEM``), reported by validation.
    """
    numbered = []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            row = {
                READ_PROBLEM: ("rows", f"item {index} is a {type(row).__name__}, not a mapping of columns")
            }
        numbered.append({**row, ROW_NUMBER: row.get(ROW_NUMBER, index)})
    return numbered
