"""The sandbox's entities and their formats: money, identifiers, card accounts and cards.

Money is held as whole paise (``int``) and shown as ``Decimal`` rupees, so
balances are exact; JSON renders them as numbers (``10`` or ``250.75``).

Identifiers are drawn from a seeded RNG (REFERENCE.md section 6). Transaction ids
encode their sequence number: ``ECTR`` + 9 base-36 digits, fixed width, so their
string order is their creation order and an id maps back to its record without
an index. Seeded loads carry the reference ``SEED`` + the same 9 digits.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from airflow_provider_enkash.sandbox import clock

# -- identifiers ------------------------------------------------------------------------------

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TXN_PREFIX = "ECTR"
_SEED_REF_PREFIX = "SEED"
_TXN_DIGITS = 9
_TXN_BASE = 10 * 36**8  # ids start at ECTRA00000000
CARD_BIN = "608326"  # a RuPay-like issuer prefix


def code(rng: random.Random, length: int) -> str:
    """``length`` random upper-case letters and digits."""
    return "".join(rng.choices(ALNUM, k=length))


def digits(rng: random.Random, length: int) -> str:
    return "".join(rng.choices("0123456789", k=length))


def _base36(number: int) -> str:
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(ALNUM[rest])
    return "".join(reversed(out)).rjust(_TXN_DIGITS, "0")


def txn_id(seq: int) -> str:
    """The ``enKashCardTransactionId`` of transaction number ``seq``."""
    return _TXN_PREFIX + _base36(_TXN_BASE + seq)


def _decode(text: str, prefix: str) -> int | None:
    if not isinstance(text, str) or len(text) != len(prefix) + _TXN_DIGITS or not text.startswith(prefix):
        return None
    try:
        return int(text[len(prefix) :], 36) - _TXN_BASE
    except ValueError:
        return None


def txn_seq(text: str) -> int | None:
    """The sequence number behind a transaction id, or None when it is not one of ours."""
    return _decode(text, _TXN_PREFIX)


def seed_reference(seq: int) -> str:
    """The ``pgReferenceNumber`` of seeded load number ``seq``."""
    return _SEED_REF_PREFIX + txn_id(seq)[len(_TXN_PREFIX) :]


def seed_reference_seq(text: str) -> int | None:
    return _decode(text, _SEED_REF_PREFIX)


def card_number(rng: random.Random) -> str:
    """A 16-digit card number with a valid Luhn check digit."""
    body = CARD_BIN + digits(rng, 9)
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def masked(number: str) -> str:
    """``XXXX XXXX XXXX 1234``."""
    return "XXXX XXXX XXXX " + number[-4:]


# -- money, card accounts and cards -----------------------------------------------------------

MAX_AMOUNT = Decimal(10) ** 15  # rupees; far above any real balance, keeps paise arithmetic exact
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
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


def to_paise(value: Any) -> int:
    """Whole paise of a JSON amount (number or numeric string, rupees, <= 2 decimals); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str, float)):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value.strip()):
        raise ValueError(f"{value[:40]!r} is not a plain decimal number (ASCII digits, no exponent)")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if abs(amount) > MAX_AMOUNT:
        raise ValueError(f"{str(value)[:40]!r} is out of range (at most {MAX_AMOUNT})")
    paise = amount * 100
    if paise != paise.to_integral_value():
        raise ValueError(f"{value!r} has more than 2 decimal places")
    return int(paise)


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
