"""Request models of the transaction searches and of Load Card Balance (REFERENCE.md sections 9.15 to 9.17)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from airflow_provider_enkash.request_models.cards import AccountRequest, CardRequest
from airflow_provider_enkash.request_models.fields import (
    Amount,
    CardTransactionTypeValue,
    Id,
    LoadAmount,
    LongIdList,
    Reference,
    Text,
    TextList,
    TxnDate,
    WholeCount,
)


class GetTransactionDetails(CardRequest):
    """Transactions of a card carrying the load reference ``pgReferenceNumber``."""

    operation = "get_transaction_details"
    pgReferenceNumber: Text = Field(alias="pg_reference_number")


class GetAllTransactions(AccountRequest):
    """Search transactions; dates are UTC, sent in the connection's ``request_date_format``;
    ``page``/``size`` only when given."""

    operation = "get_all_transactions"
    txnDateFrom: TxnDate | None = Field(None, alias="txn_date_from")
    txnDateTo: TxnDate | None = Field(None, alias="txn_date_to")
    enKashCardId: Id | None = Field(None, alias="enkash_card_id")
    userId: Id | None = Field(None, alias="user_id")
    status: Id | None = Field(None, alias="status")
    cardTransactionType: CardTransactionTypeValue | None = Field(None, alias="card_transaction_type")
    enKashTransactionIds: LongIdList | None = Field(None, alias="enkash_transaction_ids")
    pgReferenceNumbers: TextList | None = Field(None, alias="pg_reference_numbers")
    amountFrom: Amount | None = Field(None, alias="amount_from")
    amountTo: Amount | None = Field(None, alias="amount_to")
    page: WholeCount | None = Field(None, alias="page")
    size: WholeCount | None = Field(None, alias="size")


class LoadCardBalance(CardRequest):
    """A credit of ``amount`` rupees (at most the connection's ``max_load_amount``) under the caller's
    ``uniqueReferenceNumber`` (at most the connection's ``reference_max_length`` characters)."""

    operation = "load_card_balance"
    amount: LoadAmount = Field(alias="amount")
    transactionType: Literal["CR"] = Field("CR", alias="transaction_type")  # a load is always a credit
    type: Id = Field("LOAD_MONEY", alias="type")
    transactionCode: Id | None = Field(None, alias="transaction_code")
    uniqueReferenceNumber: Reference = Field(alias="unique_reference_number")
    description: Text | None = Field(None, alias="description")
    remarks: Text | None = Field(None, alias="remarks")
    createdBy: Text | None = Field(None, alias="created_by")
