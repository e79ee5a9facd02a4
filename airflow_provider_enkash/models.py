"""Typed values and input validation shared by the hook and the operators.

Every check runs before any network call and raises
:class:`~airflow_provider_enkash.exceptions.EnKashValidationError` naming the
API field, the problem and the rule. Money is :class:`~decimal.Decimal` rupees
with at most two decimal places; floats are accepted only when their shortest
representation already has at most two decimals (never rounded).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from airflow_provider_enkash.exceptions import EnKashValidationError

# ASCII digits only: ``\d`` would also take Arabic-Indic, Devanagari or full-width digits.
MOBILE_RE = re.compile(r"^[0-9]{10}$")
EMAIL_RE = re.compile(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$")
COMPANY_ID_RE = re.compile(r"^CEK[A-Z0-9]{7}$")
PINCODE_RE = re.compile(r"^[0-9]{6}$")
PIN_RE = re.compile(r"^[0-9]{4,6}$")
SPECIAL_DATE_FORMAT = "%d-%m-%Y"  # dd-MM-yyyy, e.g. 02-09-2001
_SPECIAL_DATE_RE = re.compile(r"[0-9]{2}-[0-9]{2}-[0-9]{4}")
ID_MAX_LENGTH = 64
TEXT_MAX_LENGTH = 255
MIN_AMOUNT = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000.00")  # ₹1 crore: a sanity bound per call, not an EnKash limit
PAISA = Decimal("0.01")
_AMOUNT_TEXT_RE = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")  # no exponent ("1e3"), ASCII digits only


class _Vocabulary(str, enum.Enum):
    @classmethod
    def parse(cls, value: Any, *, field: str) -> str:
        """Return the API value of ``value`` or raise naming ``field`` and the allowed values."""
        if isinstance(value, cls):
            return str(value.value)
        allowed = [member.value for member in cls]
        if value not in allowed:
            raise EnKashValidationError(field, f"{value!r} is not one of {', '.join(allowed)}")
        return str(value)


class BlockCode(_Vocabulary):
    """Block Card ``blockCode``: lock, unlock, permanent block, activation in progress."""

    LOCK = "L"
    UNLOCK = "UL"
    BLOCK = "BL"
    ACTIVATION_IN_PROGRESS = "AP"


class AccountType(_Vocabulary):
    """Create Card Account ``accountType``."""

    RELOADABLE_GPR = "RELOADABLE_GPR"
    CORPORATE = "CORPORATE"
    GIFT = "GIFT"
    MEAL = "MEAL"
    FUEL = "FUEL"
    VIRTUAL_ACCOUNT = "VIRTUAL_ACCOUNT"
    INVOICE_DISCOUNTING = "INVOICE_DISCOUNTING"
    EMPLOYEE_REWARDS = "EMPLOYEE_REWARDS"
    CHANNEL_INCENTIVE = "CHANNEL_INCENTIVE"
    ENKASH_COIN = "ENKASH_COIN"
    PETTY_CASH = "PETTY_CASH"
    FREEDOM_REWARDS = "FREEDOM_REWARDS"
    PAYOUT = "PAYOUT"
    E_RUPI_VOUCHER = "E_RUPI_VOUCHER"


class OtpMedium(_Vocabulary):
    MOBILE = "MOBILE"
    MFA = "MFA"


class Gender(_Vocabulary):
    MALE = "M"
    FEMALE = "F"
    OTHER = "O"


class Title(_Vocabulary):
    MR = "Mr"
    MRS = "Mrs"
    MS = "Ms"


class CardTransactionType(_Vocabulary):
    DEBIT = "DR"
    CREDIT = "CR"


class CardOtpAction(_Vocabulary):
    """``cardOtpAction`` values seen in the docs (the list is incomplete: any identifier is sent)."""

    TRANSACTION_OTP = "TRANSACTION_OTP"


def parse_amount(
    value: Any, *, field: str = "amount", maximum: Decimal = MAX_AMOUNT, minimum: Decimal = MIN_AMOUNT
) -> Decimal:
    """Return ``value`` as Decimal rupees, refusing anything that is not exactly representable.

    :param value: Decimal, int, a plain decimal string of ASCII digits (``"1500.00"``; no exponent
        such as ``"1e3"``), or a float whose shortest repr is such a string with at most 2 decimals.
    :param maximum: largest accepted amount in rupees (default ₹1,00,00,000.00).
    :param minimum: smallest accepted amount in rupees (default 0.01; usage limits take 0).
    """
    if isinstance(value, bool) or value is None:
        raise EnKashValidationError(
            field, f"{value!r} is not an amount; give rupees as Decimal, int or string"
        )
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, str) and not _AMOUNT_TEXT_RE.fullmatch(value.strip()):
        raise EnKashValidationError(
            field, f"{value[:40]!r} is not a plain decimal number like 1500.00 (ASCII digits, no exponent)"
        )
    if not isinstance(value, (Decimal, int, str)):
        raise EnKashValidationError(
            field, f"type {type(value).__name__} is not an amount; use Decimal rupees"
        )
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise EnKashValidationError(field, f"{value!r} is not a number") from None
    shown = str(value)[:40]
    if not amount.is_finite():
        raise EnKashValidationError(field, f"{shown!r} is not a finite amount")
    if amount < minimum:
        raise EnKashValidationError(field, f"{shown!r} is below the minimum of {minimum} rupees")
    if amount > maximum:  # before quantize: a huge value would overflow the decimal context
        raise EnKashValidationError(field, f"{shown!r} is above the maximum of {maximum} rupees")
    if amount != amount.quantize(PAISA, rounding="ROUND_DOWN"):
        raise EnKashValidationError(
            field, f"{shown!r} has more than 2 decimal places (rule: whole paise only)"
        )
    return amount.quantize(PAISA)


def require_text(value: Any, *, field: str, max_length: int = TEXT_MAX_LENGTH) -> str:
    """Return a non-empty, printable string of at most ``max_length`` characters."""
    if not isinstance(value, str):
        raise EnKashValidationError(field, f"must be a string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise EnKashValidationError(field, "is required and must not be empty")
    if len(text) > max_length:
        raise EnKashValidationError(field, f"is {len(text)} characters long; the maximum is {max_length}")
    if not text.isprintable():
        raise EnKashValidationError(field, "contains control characters")
    return text


def require_id(value: Any, *, field: str) -> str:
    """Return an EnKash identifier: non-empty ASCII letters, digits, ``-`` and ``_``, at most 64 characters."""
    text = require_text(value, field=field, max_length=ID_MAX_LENGTH)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise EnKashValidationError(field, f"{text!r} must contain only ASCII letters, digits, '-' or '_'")
    return text


def check_secret_code(value: Any, *, field: str) -> str:
    """An OTP or MFA code: 4 to 12 ASCII letters or digits. The error never repeats the value."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9]{4,12}", value):
        raise EnKashValidationError(field, "must be 4 to 12 ASCII letters or digits (value not shown)")
    return value


def optional_text(value: Any, *, field: str, max_length: int = TEXT_MAX_LENGTH) -> str | None:
    """Like :func:`require_text` but ``None`` passes through."""
    return None if value is None else require_text(value, field=field, max_length=max_length)


def check_pattern(value: Any, pattern: re.Pattern[str], *, field: str, rule: str) -> str:
    """Return ``value`` when it is a string matching ``pattern``; ``rule`` describes it for the error."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise EnKashValidationError(field, f"{value!r} does not match the rule: {rule}")
    return value


def check_mobile(value: Any, *, field: str = "mobile") -> str:
    return check_pattern(value, MOBILE_RE, field=field, rule="exactly 10 digits")


def check_email(value: Any, *, field: str = "email") -> str:
    return check_pattern(value, EMAIL_RE, field=field, rule="an e-mail address like name@example.com")


def check_company_id(value: Any, *, field: str = "companyId") -> str:
    return check_pattern(
        value, COMPANY_ID_RE, field=field, rule="CEK followed by 7 upper-case letters or digits"
    )


def check_special_date(value: Any, *, field: str = "specialDate") -> str:
    """Return a ``dd-MM-yyyy`` date string (e.g. ``02-09-2001``)."""
    if not isinstance(value, str):
        raise EnKashValidationError(field, f"must be a dd-MM-yyyy string, got {type(value).__name__}")
    try:
        if not _SPECIAL_DATE_RE.fullmatch(value):  # strptime alone takes "2-9-2001" and non-ASCII digits
            raise ValueError
        datetime.strptime(value, SPECIAL_DATE_FORMAT)
    except ValueError:
        raise EnKashValidationError(field, f"{value!r} is not a date in dd-MM-yyyy format") from None
    return value


def check_bool(value: Any, *, field: str) -> bool:
    if not isinstance(value, bool):
        raise EnKashValidationError(field, f"must be true or false, got {value!r}")
    return value


def check_id_list(values: Any, *, field: str, min_items: int = 1, max_items: int = 100) -> list[str]:
    """Return a list of ids with ``min_items``..``max_items`` entries."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise EnKashValidationError(field, "must be a list of ids")
    ids = [require_id(v, field=f"{field}[{i}]") for i, v in enumerate(values)]
    if not min_items <= len(ids) <= max_items:
        raise EnKashValidationError(field, f"has {len(ids)} items; allowed {min_items} to {max_items}")
    return ids


# Response fields that carry rupees (REFERENCE.md sections 9.6, 9.7, 9.10, 9.16).
AMOUNT_FIELDS = frozenset(
    {
        "amount", "loadAmount", "availableBalance", "availableCardBalance", "creditLimit", "dynamicLimit",
        "usedCreditLimit", "otbBalance", "balance", "principalAmount", "fcyAmount", "transactionFees",
        "perTxnLimit", "dtd", "mtd", "ytd", "posDailyLimit", "ecomDailyLimit", "contactLessDailyLimit",
        "totalAllocationPoint", "totalRedemptionPoint", "currentMonthAllocationPoint", "currentMonthRedemptionPoint",
    }
)  # fmt: skip


def amounts_as_decimal(data: Any) -> Any:
    """``data`` with every whole-number amount (JSON ``898138``) as ``Decimal``, like the fractional ones (in place).

    JSON parsing already gives ``Decimal`` for ``92415.44``; this closes the gap for whole numbers, so
    an amount is always ``Decimal`` in the hook and always a string in XCom.
    """
    if isinstance(data, list):
        for item in data:
            amounts_as_decimal(item)
    elif isinstance(data, dict):  # changed in place: the payload was just parsed and is ours
        for key, value in data.items():
            if value.__class__ is int and key in AMOUNT_FIELDS:
                data[key] = Decimal(value)
            elif isinstance(value, (dict, list)):
                amounts_as_decimal(value)
    return data


def drop_none(payload: dict[str, Any]) -> dict[str, Any]:
    """Return ``payload`` without the keys whose value is None (unset optional fields)."""
    return {key: value for key, value in payload.items() if value is not None}


@dataclass(frozen=True)
class LoadResult:
    """The outcome of one card load.

    :param outcome: ``loaded`` (this call moved the money) or ``already_loaded``
        (the reference was found at EnKash, nothing was sent again).
    :param transaction_status: the transaction's status when known (``None`` right after a load).
    """

    outcome: str
    unique_reference_number: str
    enkash_card_id: str
    amount: Decimal
    enkash_transaction_id: str | None
    transaction_status: str | None = None
    otb_balance: Decimal | None = None
    masked_number: str | None = None

    def to_xcom(self) -> dict[str, Any]:
        """A small JSON-serialisable dict (amounts as strings, no card data beyond the masked number)."""
        return {
            "outcome": self.outcome,
            "unique_reference_number": self.unique_reference_number,
            "enkash_card_id": self.enkash_card_id,
            "amount": str(self.amount),
            "enkash_transaction_id": self.enkash_transaction_id,
            "transaction_status": self.transaction_status,
            "otb_balance": None if self.otb_balance is None else str(self.otb_balance),
            "masked_number": self.masked_number,
        }
