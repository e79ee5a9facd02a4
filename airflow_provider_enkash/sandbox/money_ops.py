"""Money movements: Load Card Balance (account -> card, CR) and simulated card spends (DR)."""

from __future__ import annotations

from typing import Any

from airflow_provider_enkash.sandbox.errors import BusinessError
from airflow_provider_enkash.sandbox.identifiers import txn_id
from airflow_provider_enkash.sandbox.state import State
from airflow_provider_enkash.sandbox.transactions import Extra
from airflow_provider_enkash.sandbox.validation import to_paise

DEFAULT_LOAD_TYPE = "LOAD_MONEY"


def load_card_balance(state: State, body: dict[str, Any], now: int) -> dict[str, Any]:
    """Debit the card account, credit the card and record a CR transaction, atomically.

    A repeated ``uniqueReferenceNumber`` follows ``duplicate_references``: ``apply``
    (load again), ``reject`` (code 1) or ``return_original`` (the first load's payload).
    """
    if body.get("cardAccountId"):
        account = state.account(body.get("companyId"), body["cardAccountId"])
        card = state.card(body["enKashCardId"], account)
    else:
        card = state.card(body["enKashCardId"])
        account = state.account(body.get("companyId"), card.card_account_id)
    if card.card_type == "GIFT":
        raise BusinessError("Gift card cannot be loaded")
    if card.status != "ACTIVE":
        raise BusinessError("Card is blocked")
    reference = body.get("uniqueReferenceNumber") or None
    original = state.ledger.get(reference)
    if original is not None and state.config.duplicate_references == "reject":
        raise BusinessError("Duplicate uniqueReferenceNumber")
    if original is not None and state.config.duplicate_references == "return_original":
        return dict(original.first_payload or {})
    paise = to_paise(body["amount"])
    extra = Extra(reference=reference, description=body.get("description") or None)
    type_name = body.get("type") or DEFAULT_LOAD_TYPE
    seq = state.credit_card(account, card, paise, now, type_name=type_name, extra=extra, lifecycle=True)
    payload = {
        "enKashCardId": card.enkash_card_id,
        "enkashCardTxnId": txn_id(seq),
        "pgReferenceNumber": reference if state.config.echoed_reference == "sent" else f"PG{txn_id(seq)}",
        "otbBalance": card.balance,
        "maskedNumber": card.masked_number,
    }
    state.ledger.record(reference, card.enkash_card_id, paise, seq, payload)
    return payload


def spend(
    state: State, card_id: str, amount: Any, now: int, *, merchant: str, mcc: str, channel: str
) -> dict[str, Any]:
    """A card purchase (DR ``SALE``) at ``merchant``; refused when the card is not active or lacks funds."""
    card = state.card(card_id)
    try:
        paise = to_paise(amount)
    except ValueError as exc:
        raise BusinessError(f"amount: {exc}") from None
    if paise <= 0:
        raise BusinessError("amount: must be greater than 0")
    seq = state.debit_card(
        card,
        paise,
        now,
        extra=Extra(description=f"Purchase at {merchant}", merchant=(merchant, mcc, channel)),
    )
    return {"enkash_card_transaction_id": txn_id(seq), "balance": str(card.balance)}
