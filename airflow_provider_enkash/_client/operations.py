"""The EnKash Prepaid Card operations: name, path and kind.

Names are the keys of the API reference's ``endpoints.json``. The paths of
``view_card_details`` and ``order_physical_card`` are placeholders (the real
paths are not published); override them per connection with the ``paths`` extra.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class OperationKind(str, enum.Enum):
    """How an operation may be retried (DESIGN.md decision 2)."""

    READ = "read"  # safe to resend: retried on transport errors, 429 and 5xx
    WRITE = "write"  # changes state: never resent automatically
    MONEY = "money"  # moves money: never resent; settled by reference look-up


@dataclass(frozen=True)
class Operation:
    """One card API operation.

    :param account_fields: which of ``companyId``/``cardAccountId`` the docs list for it; only
        those default from the connection.
    """

    name: str
    path: str
    kind: OperationKind
    account_fields: tuple[str, ...] = ("companyId", "cardAccountId")


_CARD = "/api/v0/partner/enKashCard"

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "create_card_account",
            f"{_CARD}/cardAccount/create",
            OperationKind.WRITE,
            account_fields=("companyId",),
        ),
        Operation("create_gift_card", _CARD, OperationKind.WRITE),
        Operation("create_prepaid_card", _CARD, OperationKind.WRITE),
        Operation("set_card_pin", f"{_CARD}/setPin", OperationKind.WRITE),
        Operation("load_card_balance", f"{_CARD}/balance", OperationKind.MONEY),
        Operation("get_card_account_details", f"{_CARD}/cardAccount/get", OperationKind.READ),
        Operation(
            "generate_card_otp", f"{_CARD}/otp", OperationKind.WRITE, account_fields=("cardAccountId",)
        ),
        Operation("view_card_details", f"{_CARD}/view-card-details", OperationKind.READ),
        Operation("card_usage_controls", f"{_CARD}/velocity/rule", OperationKind.WRITE),
        Operation("get_card_usage_limits", f"{_CARD}/velocity/rule/get", OperationKind.READ),
        Operation(
            "request_card_replacement",
            f"{_CARD}/replaceCard",
            OperationKind.WRITE,
            account_fields=("cardAccountId",),
        ),
        Operation("block_card", f"{_CARD}/block", OperationKind.WRITE),
        Operation("order_physical_card", f"{_CARD}/order-physical-card", OperationKind.WRITE),
        Operation("get_card_details", f"{_CARD}/search", OperationKind.READ),
        Operation("get_transaction_details", f"{_CARD}/transaction/all", OperationKind.READ),
        Operation("get_all_transactions", f"{_CARD}/transaction/all", OperationKind.READ),
    )
}

TOKEN_PATH = "/oauth/token"  # the token path of the OAuth server (and of the sandbox)
DEFAULT_TOKEN_URL = "https://ekpayout-uat.enkash.in" + TOKEN_PATH  # UAT; the production URL is unpublished
