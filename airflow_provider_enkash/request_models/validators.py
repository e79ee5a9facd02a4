"""The one set of request-value checks: ids, text, mobile, e-mail, companyId, pincode, amounts, counts.

Each check takes the value and the API field it fills, returns the value as sent and raises
:class:`~airflow_provider_enkash.exceptions.EnKashValidationError` naming that field before
anything is sent. Money is :class:`~decimal.Decimal` rupees with at most two decimal places,
ASCII digits only; a float is accepted only when its shortest repr already has at most two
decimals (never rounded). Secret values (PIN, OTP, MFA code) never appear in a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
_ID_RE = re.compile(r"[A-Za-z0-9_-]+")
_SECRET_CODE_RE = re.compile(r"[A-Za-z0-9]{4,12}")
SPECIAL_DATE_FORMAT = "%d-%m-%Y"  # dd-MM-yyyy, e.g. 02-09-2001
_SPECIAL_DATE_RE = re.compile(r"[0-9]{2}-[0-9]{2}-[0-9]{4}")
ID_MAX_LENGTH = 64
TEXT_MAX_LENGTH = 255
MIN_AMOUNT = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000.00")  # ₹1 crore: a sanity bound per call, not an EnKash limit
PAISA = Decimal("0.01")
_AMOUNT_TEXT_RE = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")  # no exponent ("1e3"), ASCII digits only


def parse_amount(
    value: Any, *, field: str = "amount", maximum: Decimal = MAX_AMOUNT, minimum: Decimal = MIN_AMOUNT
) -> Decimal:
    """Return ``value`` as Decimal rupees, refusing anything that is not exactly representable.

    :param value: Decimal, int, or a plain decimal string of ASCII digits (``"1500.00"``; no exponent
        such as ``"1e3"``). A float is refused: money is never float.
    :param maximum: largest accepted amount in rupees (default ₹1,00,00,000.00).
    :param minimum: smallest accepted amount in rupees (default 0.01; usage limits take 0).
    """
    if isinstance(value, bool) or value is None:
        raise EnKashValidationError(
            field, f"{value!r} is not an amount; give rupees as Decimal, int or string"
        )
    if isinstance(value, float):
        raise EnKashValidationError(
            field,
            f"{value!r} is a float; give rupees as Decimal, int or string (e.g. '1500.50'): money is never float",
        )
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
    if not _ID_RE.fullmatch(text):
        raise EnKashValidationError(field, f"{text!r} must contain only ASCII letters, digits, '-' or '_'")
    return text


def check_secret_code(value: Any, *, field: str) -> str:
    """An OTP or MFA code: 4 to 12 ASCII letters or digits. The error never repeats the value."""
    if not isinstance(value, str) or not _SECRET_CODE_RE.fullmatch(value):
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


def check_pincode(value: Any, *, field: str = "pincode") -> str:
    return check_pattern(value, PINCODE_RE, field=field, rule="exactly 6 digits")


def check_pin(value: Any, *, field: str = "pinBlock") -> str:
    """A card PIN: 4 to 6 ASCII digits. The error never repeats the value."""
    if not isinstance(value, str) or not PIN_RE.fullmatch(value):
        raise EnKashValidationError(field, "must be a string of 4 to 6 digits")
    return value


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


def whole_number(value: Any, *, field: str, minimum: int = 0) -> int:
    """``value`` when it is an ``int`` (not a bool) >= ``minimum``; else ``EnKashValidationError`` naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise EnKashValidationError(field, f"must be a whole number >= {minimum}, got {value!r}")
    return value


def whole_count(value: Any, *, field: str) -> int:
    """A count: a whole number >= 0 (usage-control counts, ``page``, ``size``)."""
    return whole_number(value, field=field, minimum=0)


def positive_int(value: Any, *, field: str) -> int:
    """A positive whole number (>= 1): chunk and page sizes, concurrency, attempts, limits."""
    return whole_number(value, field=field, minimum=1)


def drop_none(payload: dict[str, Any]) -> dict[str, Any]:
    """Return ``payload`` without the keys whose value is None (unset optional fields)."""
    return {key: value for key, value in payload.items() if value is not None}
