"""The sandbox's entities: card accounts and cards, and how the API shows them.

Money is held as whole paise (``int``) and shown as ``Decimal`` rupees, so
balances are exact; JSON renders them as numbers (``10`` or ``250.75``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from airflow_provider_enkash.sandbox import clock
from airflow_provider_enkash.sandbox.identifiers import masked

CARD_HOLDER_FIELDS = (
    "title",
    "firstName",
    "middleName",
    "lastName",
    "email",
    "mobile",
    "gender",
    "specialDate",
    "address",
    "address2",
    "city",
    "state",
    "country",
    "pincode",
)
DELIVERY_FIELDS = (
    "physicalDeliveryAddressFlag",
    "deliveryAddress",
    "deliveryAddress2",
    "deliveryCity",
    "deliveryState",
    "deliveryCountry",
    "deliveryPincode",
)
CONTROL_SWITCHES = ("posAllowed", "onlineAllowed", "contactlessAllowed", "internationalAllowed", "atmAllowed")
CONTROL_LIMITS = (
    "perTxnLimit",
    "dtd",
    "mtd",
    "ytd",
    "dtdCount",
    "mtdCount",
    "ytdCount",
    "posDailyLimit",
    "posDailyLimitCount",
    "ecomDailyLimit",
    "ecomDailyLimitCount",
    "contactLessDailyLimit",
    "contactLessDailyLimitCount",
)
DEFAULT_CONTROLS: dict[str, Any] = {
    "posAllowed": True,
    "onlineAllowed": True,
    "contactlessAllowed": True,
    "internationalAllowed": False,
    "atmAllowed": False,
    "adminUser": False,
    **dict.fromkeys(CONTROL_LIMITS),
}
STATUS_BY_BLOCK_CODE = {"L": "LOCKED", "UL": "ACTIVE", "BL": "BLOCKED", "AP": "ACTIVATION_IN_PROGRESS"}


def rupees(paise: int) -> Decimal:
    """Exact rupees of ``paise`` (``Decimal('250.75')``)."""
    return Decimal(paise).scaleb(-2)


@dataclass(eq=False)
class Account:
    """A card account (a pool of money under a company that cards are loaded from)."""

    card_account_id: str
    company_id: str
    company_name: str
    account_type: str
    title: str
    balance_paise: int
    created_ms: int
    card_ids: list[str] = field(default_factory=list)
    primary_card_id: str | None = None
    cards_paise: int = 0  # sum of the balances of its cards
    allocated_paise: int = 0  # every credit onto its cards
    redeemed_paise: int = 0  # every spend from its cards
    monthly: dict[tuple[int, int], list[int]] = field(
        default_factory=dict
    )  # IST month -> [allocated, redeemed]

    @property
    def balance(self) -> Decimal:
        return rupees(self.balance_paise)

    def count_flow(self, ms: int, paise: int, *, credit: bool) -> None:
        """Add a card credit (allocation) or debit (redemption) to the running totals."""
        month = self.monthly.setdefault(clock.ist_month(ms), [0, 0])
        if credit:
            self.allocated_paise += paise
            month[0] += paise
        else:
            self.redeemed_paise += paise
            month[1] += paise


@dataclass(eq=False)
class Card:
    """One card and everything the sandbox knows about it, including the sensitive data."""

    ix: int  # position in State.card_list; transactions refer to cards by it
    enkash_card_id: str
    user_id: str
    card_account_id: str
    company_id: str
    card_type: str  # PREPAID or GIFT
    holder: dict[str, Any]
    card_number: str
    cvv: str
    expiry_month: str
    expiry_year: str
    kit_number: str
    token: str
    created_ms: int
    modified_ms: int
    status: str = "ACTIVE"
    block_code: str | None = None
    block_reason: str | None = None
    balance_paise: int = 0
    pin: str | None = None
    primary: bool = False
    controls: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_CONTROLS))
    controls_modified_ms: int | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    physical_order: dict[str, Any] | None = None

    @property
    def balance(self) -> Decimal:
        return rupees(self.balance_paise)

    @property
    def masked_number(self) -> str:
        return masked(self.card_number)

    @property
    def holder_name(self) -> str:
        parts = (self.holder.get(k) for k in ("firstName", "middleName", "lastName"))
        return " ".join(p for p in parts if p)

    def public_view(self, ts: str) -> dict[str, Any]:
        """The card as create and search calls show it: no full number, CVV, expiry or PIN."""
        return {
            "enKashCardId": self.enkash_card_id,
            "userId": self.user_id,
            "cardAccountId": self.card_account_id,
            "companyId": self.company_id,
            **{k: self.holder.get(k) for k in CARD_HOLDER_FIELDS if k in self.holder},
            "maskedNumber": self.masked_number,
            "token": self.token,
            "expiryMonth": "",
            "expiryYear": "",
            "otbBalance": self.balance,
            "cardStatus": {"label": self.status, "blockCode": self.block_code},
            "cardType": self.card_type,
            "kycStatus": "MIN_KYC",
            "primaryEnKashCard": self.primary,
            "physicalCard": self.physical_order is not None,
            "pinSet": self.pin is not None,
            "replacedBy": self.replaced_by,
            "replacementOf": self.replaces,
            "createdOn": clock.render(self.created_ms, ts),
            "modifiedOn": clock.render(self.modified_ms, ts),
        }

    def sensitive_view(self) -> dict[str, Any]:
        """View Card Details: full number, CVV and expiry."""
        return {
            "enKashCardId": self.enkash_card_id,
            "maskedNumber": self.masked_number,
            "cardNumber": self.card_number,
            "cvv": self.cvv,
            "expiryMonth": self.expiry_month,
            "expiryYear": self.expiry_year,
            "nameOnCard": self.holder_name.upper(),
        }

    def controls_view(self, ts: str, created_by: str) -> dict[str, Any]:
        """Get Card Usage Limits: the controls plus their audit fields."""
        return {
            "enKashCardId": self.enkash_card_id,
            "createdBy": created_by,
            "createdOn": clock.render(self.created_ms, ts),
            "modifiedOn": clock.render(self.controls_modified_ms or self.created_ms, ts),
            **self.controls,
        }

    def admin_view(self) -> dict[str, Any]:
        """What GET /_sandbox/cards lists (no sensitive data)."""
        return {
            "enkash_card_id": self.enkash_card_id,
            "user_id": self.user_id,
            "card_account_id": self.card_account_id,
            "card_type": self.card_type,
            "status": self.status,
            "block_code": self.block_code,
            "balance": str(self.balance),
            "masked_number": self.masked_number,
            "pin_set": self.pin is not None,
            "replaced_by": self.replaced_by,
            "physical_card_ordered": self.physical_order is not None,
        }
