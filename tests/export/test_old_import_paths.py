"""The export operators moved to ``transfers/``; the old ``operators.transactions`` path still works, with a warning."""

from __future__ import annotations

import importlib

import pytest
from airflow.exceptions import AirflowProviderDeprecationWarning

from airflow_provider_enkash.transfers.enkash_to_sql import EnKashTransactionsToSqlOperator
from airflow_provider_enkash.transfers.enkash_to_storage import EnKashTransactionsToStorageOperator


@pytest.mark.parametrize(
    ("name", "moved_to"),
    [
        (EnKashTransactionsToSqlOperator, "airflow_provider_enkash.transfers.enkash_to_sql"),
        (EnKashTransactionsToStorageOperator, "airflow_provider_enkash.transfers.enkash_to_storage"),
    ],
    ids=["sql", "storage"],
)
def test_old_path_warns_and_gives_the_same_class(name: type, moved_to: str) -> None:
    old = importlib.import_module("airflow_provider_enkash.operators.transactions")
    with pytest.warns(AirflowProviderDeprecationWarning, match=moved_to.replace(".", r"\.")) as caught:
        found = getattr(old, name.__name__)
    assert found is name
    assert issubclass(caught[0].category, DeprecationWarning)


def test_old_path_has_nothing_else() -> None:
    old = importlib.import_module("airflow_provider_enkash.operators.transactions")
    with pytest.raises(AttributeError, match="_TransactionExportOperator"):
        old._TransactionExportOperator  # noqa: B018


def test_pyarrow_available_still_answers_with_a_warning() -> None:
    from airflow_provider_enkash.export.arguments import parquet_available
    from airflow_provider_enkash.export.storage_sink import pyarrow_available

    with pytest.warns(AirflowProviderDeprecationWarning, match="parquet_available"):
        assert pyarrow_available() is parquet_available() is True
