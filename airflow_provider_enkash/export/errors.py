"""Errors of the transaction export (all :class:`~airflow_provider_enkash.exceptions.EnKashError`)."""

from __future__ import annotations

from airflow_provider_enkash.exceptions import EnKashError


class EnKashExportError(EnKashError):
    """The export cannot guarantee a complete, correct result and stops rather than drop data."""


class EnKashRecordError(EnKashExportError):
    """A transaction record from EnKash cannot be turned into a row.

    :param transaction_id: the record's EnKash transaction id, when it has one.
    :param field: the API field at fault (e.g. ``txnDate``).
    :param problem: what is wrong with it.
    """

    def __init__(self, *, transaction_id: str | None, field: str, problem: str) -> None:
        self.transaction_id = transaction_id
        self.field = field
        self.problem = problem
        super().__init__(f"transaction {transaction_id or '<no id>'}: {field}: {problem}")
