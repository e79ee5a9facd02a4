"""What each API operation does, and which operation a request is.

Each operation takes the validated request body and the time (UTC ms) and returns
the payload. They run under ``State.lock`` (taken by :func:`run`) and raise
:class:`BusinessError` for refusals EnKash reports as ``code`` 1.

Two pairs of operations share a path (endpoints.json): ``create_prepaid_card``
and ``create_gift_card`` (a GIFT card account makes it the gift call), and
``get_transaction_details`` and ``get_all_transactions`` (a
``pgReferenceNumber`` makes it the details call, which requires ``enKashCardId`` as documented
unless ``details_without_card``; one search serves both).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from airflow_provider_enkash.sandbox import clock, search
from airflow_provider_enkash.sandbox.api_spec import ENDPOINTS
from airflow_provider_enkash.sandbox.model import (
    CARD_HOLDER_FIELDS,
    CONTROL_LIMITS,
    DEFAULT_CONTROLS,
    DELIVERY_FIELDS,
    STATUS_BY_BLOCK_CODE,
    Account,
    Card,
    rupees,
    to_paise,
    txn_id,
)
from airflow_provider_enkash.sandbox.state import BusinessError, State
from airflow_provider_enkash.sandbox.transactions import Extra

# -- cards and card accounts ----------------------------------------------------------------


def _ts(state: State) -> str:
    return state.config.timestamp_format


def _account_head(account: Account) -> dict[str, Any]:
    """The fields every card-account answer starts with."""
    return {
        "cardAccountId": account.card_account_id,
        "companyId": account.company_id,
        "companyName": account.company_name,
        "accountType": account.account_type,
        "accountTitle": account.title,
    }


def create_card_account(state: State, body: dict[str, Any], now: int) -> dict[str, Any]:
    """A new, empty card account under the configured company."""
    if body["companyId"] != state.config.company_id:
        raise BusinessError("Company not found")
    account_id = state.new_id("CA", 7, state.accounts)
    account = state.open_account(account_id, body["accountType"], body["accountTitle"], Decimal(0), now)
    return {**_account_head(account), "availableBalance": account.balance}


def create_card(state: State, body: dict[str, Any], now: int) -> dict[str, Any]:
    """Create Prepaid Card / Create Gift Card: the account's type decides; ``loadAmount`` debits the account."""
    account = state.account(body["companyId"], body["cardAccountId"])
    paise = to_paise(body["loadAmount"]) if body.get("loadAmount") not in (None, "") else 0
    if paise > account.balance_paise:
        raise BusinessError("Insufficient balance in card account")
    user_id = body.get("userId") or None
    if user_id is not None and user_id not in state.users:
        raise BusinessError("User not found")
    holder = {k: body[k] for k in (*CARD_HOLDER_FIELDS, "documents") if body.get(k) not in (None, "")}
    card = state.issue_card(account, holder, now, user_id=user_id)
    if body.get("physicalCard") is True:
        card.physical_order = {k: body[k] for k in DELIVERY_FIELDS if k in body} | {"orderedMs": now}
    if paise:
        extra = Extra(description="Load at card issue")
        state.credit_card(account, card, paise, now, type_name="LOAD_MONEY", extra=extra, lifecycle=False)
    return card.public_view(_ts(state))


def set_card_pin(state: State, body: dict[str, Any], now: int) -> str:
    card = state.card(body["enKashCardId"], state.account(body["companyId"], body["cardAccountId"]))
    if card.status == "BLOCKED":
        raise BusinessError("Card is blocked")
    card.pin = body["pinBlock"]
    card.modified_ms = now
    state.pins_seen.append(card.pin)
    return "Success"


def get_card_account_details(state: State, body: dict[str, Any], now: int) -> dict[str, Any]:
    account = state.account(body["companyId"], body["cardAccountId"])
    cards = [state.cards[c] for c in account.card_ids]
    primary = state.cards.get(account.primary_card_id) if account.primary_card_id else None
    month = account.monthly.get(clock.ist_month(now), [0, 0])
    return {
        **_account_head(account),
        "creditLimit": 0,
        "dynamicLimit": 0,
        "usedCreditLimit": 0,
        "availableBalance": account.balance,
        "availableCardBalance": rupees(account.cards_paise),
        "primaryEnKashCard": primary.public_view(_ts(state)) if primary else None,
        "totalCards": len(cards),
        "activeCards": sum(1 for c in cards if c.status == "ACTIVE"),
        "totalAllocationPoint": rupees(account.allocated_paise),
        "totalRedemptionPoint": rupees(account.redeemed_paise),
        "currentMonthAllocationPoint": rupees(month[0]),
        "currentMonthRedemptionPoint": rupees(month[1]),
    }


def generate_card_otp(state: State, body: dict[str, Any], now: int) -> dict[str, Any] | str:
    card = state.card(body["enKashCardId"], state.account(body.get("companyId"), body["cardAccountId"]))
    request_id, otp = state.new_otp(card, now)
    if state.config.otp_reply == "string":
        return request_id
    return {"otpRequestId": request_id, "otp": otp} if state.config.echo_otp else {"otpRequestId": request_id}


def view_card_details(state: State, body: dict[str, Any], now: int) -> dict[str, Any]:
    """Full card number, CVV and expiry; an OTP, when sent, must be valid."""
    card = state.card(body["enKashCardId"], state.account(body["companyId"], body["cardAccountId"]))
    if body.get("otpRequestId") or body.get("otp"):
        state.use_otp(card, body.get("otpRequestId"), body.get("otp"), now)
    return card.sensitive_view()


def card_usage_controls(state: State, body: dict[str, Any], now: int) -> str:
    account = state.account(body["companyId"], body["cardAccountId"])
    ids = body["enKashCardIds"]
    cards = [state.card(card_id, account) for card_id in ([ids] if isinstance(ids, str) else ids)]
    changes = {k: body[k] for k in DEFAULT_CONTROLS if k in body}
    for name in CONTROL_LIMITS:
        if changes.get(name) is not None:
            changes[name] = rupees(to_paise(changes[name]))
    for card in cards:
        card.controls.update(changes)
        card.controls_modified_ms = now
    return "Success"


def get_card_usage_limits(state: State, body: dict[str, Any], now: int) -> dict[str, Any]:
    card = state.card(body["enKashCardId"], state.account(body["companyId"], body["cardAccountId"]))
    return card.controls_view(_ts(state), created_by=state.config.username)


def _check_otp(state: State, body: dict[str, Any], card: Card, now: int) -> None:
    if body.get("otpRequired") is True:
        state.use_otp(card, body.get("otpRequestId"), body.get("otp"), now)


def request_card_replacement(state: State, body: dict[str, Any], now: int) -> dict[str, Any]:
    """Issue a new card to the same holder; the balance moves to it and the old card is blocked."""
    account = (
        state.account(body.get("companyId"), body["cardAccountId"]) if body.get("cardAccountId") else None
    )
    card = state.card(body["enKashCardId"], account)
    if card.replaced_by:
        raise BusinessError("Card already replaced")
    _check_otp(state, body, card, now)
    account = state.accounts[card.card_account_id]
    new = state.issue_card(account, dict(card.holder), now, user_id=card.user_id)
    new.balance_paise, card.balance_paise = card.balance_paise, 0
    new.controls, new.replaces = dict(card.controls), card.enkash_card_id
    card.replaced_by, card.status, card.block_code, card.block_reason = (
        new.enkash_card_id,
        "BLOCKED",
        "BL",
        "Replaced",
    )
    card.modified_ms = now
    if account.primary_card_id == card.enkash_card_id:
        account.primary_card_id, new.primary, card.primary = new.enkash_card_id, True, False
    return {
        "enKashCardId": new.enkash_card_id,
        "oldEnKashCardId": card.enkash_card_id,
        "maskedNumber": new.masked_number,
        "cardStatus": {"label": new.status},
    }


def block_card(state: State, body: dict[str, Any], now: int) -> str:
    """Lock (L), unlock (UL), block for good (BL) or mark activation in progress (AP)."""
    card = state.card(body["enKashCardId"], state.account(body["companyId"], body["cardAccountId"]))
    if card.status == "BLOCKED":
        raise BusinessError("Card is permanently blocked")
    _check_otp(state, body, card, now)
    card.status, card.block_code = STATUS_BY_BLOCK_CODE[body["blockCode"]], body["blockCode"]
    card.block_reason = body.get("reason")
    card.modified_ms = now
    return "Success"


def order_physical_card(state: State, body: dict[str, Any], now: int) -> str:
    card = state.card(body["enKashCardId"], state.account(body["companyId"], body["cardAccountId"]))
    if card.status == "BLOCKED":
        raise BusinessError("Card is blocked")
    if card.physical_order is not None:
        raise BusinessError("Physical card already ordered")
    card.physical_order = {k: body[k] for k in DELIVERY_FIELDS if k in body} | {"orderedMs": now}
    card.modified_ms = now
    return "Success"


def get_card_details(state: State, body: dict[str, Any], now: int) -> dict[str, Any]:
    """Cards of an account (or the one asked for), paged like transaction search."""
    account = state.account(body["companyId"], body["cardAccountId"])
    if body.get("enKashCardId"):
        card = state.cards.get(body["enKashCardId"])
        card_ids = [card.enkash_card_id] if card and card.card_account_id == account.card_account_id else []
    else:
        card_ids = account.card_ids
    start, stop = search.page_bounds(state.config, body.get("page"), body.get("size"))
    rows = [state.cards[c].public_view(_ts(state)) for c in card_ids[start:stop]]
    if body.get("enKashCardId") and rows and state.config.card_details_shape == "object":
        return rows[0]  # the sibling pages' shape B: the card object itself
    total = len(card_ids) if state.config.records_count == "total" else len(rows)
    return {"recordsCount": total, "data": rows}


# -- money movements --------------------------------------------------------------------------

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


# -- routing ----------------------------------------------------------------------------------

Handler = Callable[[State, dict[str, Any], int], Any]

HANDLERS: dict[str, Handler] = {
    "create_card_account": create_card_account,
    "create_gift_card": create_card,
    "create_prepaid_card": create_card,
    "set_card_pin": set_card_pin,
    "load_card_balance": load_card_balance,
    "get_card_account_details": get_card_account_details,
    "generate_card_otp": generate_card_otp,
    "view_card_details": view_card_details,
    "card_usage_controls": card_usage_controls,
    "get_card_usage_limits": get_card_usage_limits,
    "request_card_replacement": request_card_replacement,
    "block_card": block_card,
    "order_physical_card": order_physical_card,
    "get_card_details": get_card_details,
    "get_transaction_details": search.search_transactions,
    "get_all_transactions": search.search_transactions,
}

PATHS: dict[str, tuple[str, ...]] = {
    path: tuple(name for name, op in ENDPOINTS.items() if op.path == path)
    for path in {op.path for op in ENDPOINTS.values()}
}


def resolve(path: str, body: Any, state: State) -> str:
    """The operation a request to ``path`` (one of ``PATHS``) is, given its decrypted ``body`` (any JSON, or None)."""
    names = PATHS[path]
    if len(names) == 1:
        return names[0]
    fields = body if isinstance(body, dict) else {}
    if "create_gift_card" in names:
        account_id = fields.get("cardAccountId")
        account = state.accounts.get(account_id) if isinstance(account_id, str) else None
        return (
            "create_gift_card"
            if account is not None and account.account_type == "GIFT"
            else "create_prepaid_card"
        )
    return "get_transaction_details" if fields.get("pgReferenceNumber") else "get_all_transactions"


def run(state: State, operation: str, body: dict[str, Any]) -> Any:
    """Serve a validated request atomically; BusinessError propagates."""
    with state.lock:
        now = clock.now_ms()
        state.settle_due(now)
        payload = HANDLERS[operation](state, body, now)
    odd = {name.strip() for name in state.config.string_payloads.split(",")}
    return "Success" if operation in odd else payload
