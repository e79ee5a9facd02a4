"""Buttons on a task's page in the Airflow UI: where its ledger or its export went.

Airflow 3 computes each link on the worker when the task finishes (``get_link`` on the task that
ran) and keeps the URL in XCom, so these read what ``execute`` recorded on the operator. A task
with nothing to point at (a SQL ledger or table, or a task that failed early) gets no link.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperatorLink


class EnKashLedgerLink(BaseOperatorLink):
    """The batch's ledger folder (the operator's ``ledger_location``, set by ``execute``)."""

    name = "EnKash batch ledger"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow_provider_enkash.export.lineage import browsable_url  # DAG files import this module

        return browsable_url(getattr(operator, "ledger_location", None))


class EnKashExportDestinationLink(BaseOperatorLink):
    """The folder an export wrote its files to (the operator's ``destination_location``)."""

    name = "EnKash export destination"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow_provider_enkash.export.lineage import browsable_url

        return browsable_url(getattr(operator, "destination_location", None))
