"""The load operators' build-time arguments: their defaults and the checks run when a task is built.

Kept apart from the ledger, lease, runner and row validation so that a DAG file building batch tasks
imports only this (DAG-file parse cost); those modules take their defaults from here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.request_models.validators import parse_amount, positive_int, require_id

DEFAULT_CHUNK_SIZE = 1000  # rows per chunk, i.e. per mapped load task
DEFAULT_CONCURRENCY = 8  # rows in flight at once
DEFAULT_LEASE_TTL_S = 300.0  # seconds a batch lease outlives its holder's last heartbeat
DEFAULT_LEDGER_TABLE = "enkash_batch_ledger"
ON_UNKNOWN = ("wait", "fail")  # what a load does with a send whose outcome is unclear


def check_on_unknown(value: str) -> str:
    """``on_unknown``: ``wait`` (look up until the resend gate decides) or ``fail`` (a human decides)."""
    if value not in ON_UNKNOWN:
        raise EnKashValidationError("on_unknown", f"must be one of {', '.join(ON_UNKNOWN)}, got {value!r}")
    return value


def check_ledger_choice(*, ledger_path: Any, ledger_conn_id: str | None, required: bool = True) -> None:
    """A ledger is a folder (``ledger_path``) or a common.sql table (``ledger_conn_id``), never both;
    with ``required`` (default) exactly one of them."""
    if ledger_path is not None and ledger_conn_id is not None:
        raise EnKashValidationError(
            "ledger", "give only one of ledger_path (a folder) or ledger_conn_id (a SQL table)"
        )
    if required and ledger_path is None and ledger_conn_id is None:
        raise EnKashValidationError(
            "ledger", "give one of ledger_path (a folder) or ledger_conn_id (a SQL table)"
        )


def optional_cap(value: Any, field: str) -> Decimal | None:
    """A rupee cap (``max_amount_per_card``, ``max_batch_total``) as a Decimal; None passes through."""
    return None if value is None else parse_amount(value, field=field, maximum=Decimal("1e12"))


def _positive_number(value: Any, field: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, Decimal))
        or not 0 < value < float("inf")
    ):
        raise EnKashValidationError(field, f"must be a number > 0, got {value!r}")


def check_batch_arguments(
    *,
    max_amount_per_card: Any = None,
    max_batch_total: Any = None,
    max_rows: Any = None,
    chunk_size: Any = None,
    concurrency: Any = None,
    requests_per_second: Any = None,
    ledger_flush_rows: Any = None,
    ledger_flush_interval_s: Any = None,
    load_type: Any = None,
) -> None:
    """Check the batch operators' non-templated arguments when the operator is built (DAG parse time).

    So that a bad argument fails before anything is read, sent or written to a ledger. Arguments left
    None are not checked. Raises ``EnKashValidationError`` naming the argument.
    """
    optional_cap(max_amount_per_card, "max_amount_per_card")
    optional_cap(max_batch_total, "max_batch_total")
    for field, value in (
        ("max_rows", max_rows),
        ("chunk_size", chunk_size),
        ("concurrency", concurrency),
        ("ledger_flush_rows", ledger_flush_rows),
    ):
        if value is not None:
            positive_int(value, field=field)
    for field, value in (
        ("requests_per_second", requests_per_second),
        ("ledger_flush_interval_s", ledger_flush_interval_s),
    ):
        if value is not None:
            _positive_number(value, field)
    if load_type is not None:
        require_id(load_type, field="load_type")
