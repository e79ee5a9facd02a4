"""Operators that look transactions up into a small XCom value (for bulk exports see ``transfers/``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.operators.base import (
    ACCOUNT_FIELDS,
    CARD_FIELDS,
    EnKashBaseOperator,
    EnKashCardOperator,
    pick,
)
from airflow_provider_enkash.request_models.validators import positive_int

if TYPE_CHECKING:
    from airflow.sdk import Context


class EnKashGetTransactionDetailsOperator(EnKashCardOperator):
    """Find the transactions of a card carrying a load reference (Get Transaction Details).

    :param pg_reference_number: the ``uniqueReferenceNumber`` the load was sent with.

    XCom: ``found``, and for the first match ``enkash_transaction_id``, ``status`` and ``amount``;
    ``transactions`` holds every match.
    """

    operation = "get_transaction_details"
    template_fields: Sequence[str] = (*CARD_FIELDS, "pg_reference_number")

    def __init__(self, *, pg_reference_number: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pg_reference_number = pg_reference_number

    def call_enkash(self, context: Context) -> Any:
        return self.hook.get_transaction_details(pg_reference_number=self.pg_reference_number, **self._card())

    def summarise(self, response: Any) -> dict[str, Any]:
        first = response[0] if response else {}
        return {
            "enkash_card_id": self.enkash_card_id,
            "pg_reference_number": self.pg_reference_number,
            "found": bool(response),
            **pick(
                first,
                enkash_transaction_id="enKashCardTransactionId",
                status="status",
                amount="principalAmount",
            ),
            "transactions": response,
        }


class EnKashGetAllTransactionsOperator(EnKashBaseOperator):
    """Search transactions (Get All Transaction details) into a small XCom value.

    For more than a few hundred records use the transaction exporter, which pages windows
    into SQL or object storage; EnKash may truncate large responses silently.

    :param txn_date_from: window start, aware datetime or ISO-8601 (sent as UTC with milliseconds).
    :param txn_date_to: window end, same format.
    :param enkash_card_id, user_id, status, card_transaction_type (``DR``/``CR``),
        enkash_transaction_ids, pg_reference_numbers, amount_from, amount_to (rupees): filters.
    :param page: 0-based page, :param size: page size (sent only when given; EnKash documents no paging).
    :param max_xcom_records: most records returned in XCom (default 500); ``truncated`` says when more came.
    """

    operation = "get_all_transactions"
    _FILTERS = (
        "txn_date_from", "txn_date_to", "enkash_card_id", "user_id", "status", "card_transaction_type",
        "enkash_transaction_ids", "pg_reference_numbers", "amount_from", "amount_to", "page", "size",
    )  # fmt: skip
    template_fields: Sequence[str] = (*_FILTERS, *ACCOUNT_FIELDS)

    def __init__(
        self,
        *,
        txn_date_from: datetime | str | None = None,
        txn_date_to: datetime | str | None = None,
        enkash_card_id: str | None = None,
        user_id: str | None = None,
        status: str | None = None,
        card_transaction_type: str | None = None,
        enkash_transaction_ids: list[str] | None = None,
        pg_reference_numbers: list[str] | None = None,
        amount_from: Decimal | str | None = None,
        amount_to: Decimal | str | None = None,
        page: int | None = None,
        size: int | None = None,
        max_xcom_records: int = 500,
        company_id: str | None = None,
        card_account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.txn_date_from = txn_date_from
        self.txn_date_to = txn_date_to
        self.enkash_card_id = enkash_card_id
        self.user_id = user_id
        self.status = status
        self.card_transaction_type = card_transaction_type
        self.enkash_transaction_ids = enkash_transaction_ids
        self.pg_reference_numbers = pg_reference_numbers
        self.amount_from = amount_from
        self.amount_to = amount_to
        self.page = page
        self.size = size
        self.max_xcom_records = positive_int(max_xcom_records, field="max_xcom_records")
        self.company_id = company_id
        self.card_account_id = card_account_id

    def call_enkash(self, context: Context) -> Any:
        filters = {name: getattr(self, name) for name in (*self._FILTERS, *ACCOUNT_FIELDS)}
        return self.hook.get_all_transactions(**filters)

    def summarise(self, response: Any) -> dict[str, Any]:
        records = response.get("data") or []
        kept = records[: self.max_xcom_records]
        if len(kept) < len(records):
            self.log.warning(
                "Keeping %d of %d transactions in XCom (max_xcom_records)", len(kept), len(records)
            )
        return {
            "records_count": response.get("recordsCount", len(records)),
            "returned": len(kept),
            "truncated": len(kept) < len(records),
            "transactions": kept,
        }
