"""Operation routing: which operation a request is, and the function that serves it.

Two pairs of operations share a path (endpoints.json): ``create_prepaid_card``
and ``create_gift_card`` (a GIFT card account makes it the gift call), and
``get_transaction_details`` and ``get_all_transactions`` (a
``pgReferenceNumber`` makes it the details call; one search serves both).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_enkash.sandbox import card_ops, clock, money_ops, search
from airflow_provider_enkash.sandbox.endpoints import ENDPOINTS
from airflow_provider_enkash.sandbox.state import State

Handler = Callable[[State, dict[str, Any], int], Any]

HANDLERS: dict[str, Handler] = {
    "create_card_account": card_ops.create_card_account,
    "create_gift_card": card_ops.create_card,
    "create_prepaid_card": card_ops.create_card,
    "set_card_pin": card_ops.set_card_pin,
    "load_card_balance": money_ops.load_card_balance,
    "get_card_account_details": card_ops.get_card_account_details,
    "generate_card_otp": card_ops.generate_card_otp,
    "view_card_details": card_ops.view_card_details,
    "card_usage_controls": card_ops.card_usage_controls,
    "get_card_usage_limits": card_ops.get_card_usage_limits,
    "request_card_replacement": card_ops.request_card_replacement,
    "block_card": card_ops.block_card,
    "order_physical_card": card_ops.order_physical_card,
    "get_card_details": card_ops.get_card_details,
    "get_transaction_details": search.search_transactions,
    "get_all_transactions": search.search_transactions,
}

PATHS: dict[str, tuple[str, ...]] = {
    path: tuple(name for name, op in ENDPOINTS.items() if op.path == path)
    for path in {op.path for op in ENDPOINTS.values()}
}


def resolve(path: str, body: Any, state: State) -> str | None:
    """The operation a request to ``path`` is, given its decrypted ``body`` (None when unreadable)."""
    names = PATHS.get(path)
    if not names or len(names) == 1:
        return names[0] if names else None
    fields = body if isinstance(body, dict) else {}
    if "create_gift_card" in names:
        account = (
            state.accounts.get(fields.get("cardAccountId"))
            if isinstance(fields.get("cardAccountId"), str)
            else None
        )
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
