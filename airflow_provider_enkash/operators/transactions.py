"""Deprecated import path: the export operators live in :mod:`airflow_provider_enkash.transfers`.

``from airflow_provider_enkash.operators.transactions import EnKashTransactionsToSqlOperator`` (and
``EnKashTransactionsToStorageOperator``) keeps working, with an ``AirflowProviderDeprecationWarning``.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from airflow.exceptions import AirflowProviderDeprecationWarning

_MOVED = {
    "EnKashTransactionsToSqlOperator": "airflow_provider_enkash.transfers.enkash_to_sql",
    "EnKashTransactionsToStorageOperator": "airflow_provider_enkash.transfers.enkash_to_storage",
}
__all__ = sorted(_MOVED)


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"airflow_provider_enkash.operators.transactions.{name} is deprecated; import it from {_MOVED[name]}",
        AirflowProviderDeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(_MOVED[name]), name)
