"""Which fields of an EnKash response are card secrets, and how to keep them out of XCom and logs.

The secrets are the full card number, CVV, expiry, OTP, PIN and the card
token (REFERENCE.md 9.7, 9.9, 9.15). Keys are matched case-insensitively and
ignoring ``_``/``-``, so ``cardNumber``, ``card_number`` and ``CARD-NUMBER``
are the same field. As a second line of defence any string that looks like a
full card number (13 to 19 digits, spaces allowed, no ``X``) is treated as
one whatever its key. The masked number (``XXXX XXXX XXXX 1234``) is not a
secret and is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from airflow.sdk.log import mask_secret

SENSITIVE_FIELDS: frozenset[str] = frozenset(
    {
        # full card number
        "cardnumber", "fullcardnumber", "pan", "cardpan", "cardno", "fullpan",
        # card verification value
        "cvv", "cvv2", "cvc", "cvc2",
        # expiry
        "expiry", "expirydate", "expirymonth", "expiryyear", "cardexpiry", "expiration", "expdate",
        # one-time passwords and PINs
        "otp", "pin", "pinblock", "mfacode",
        # card and access tokens
        "token", "cardtoken", "accesstoken", "refreshtoken",
        # credentials
        "password", "secret", "clientsecret",
    }
)  # fmt: skip
"""Normalised (lower-case, no ``_``/``-``) names of the fields that never reach XCom unless asked for."""

_FULL_CARD_NUMBER_RE = re.compile(r"^\d(?:[ ]?\d){12,18}$")


def _normalised(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def is_sensitive(key: str, value: Any) -> bool:
    """True when ``key`` names a card secret, or ``value`` looks like a full card number."""
    if _normalised(key) in SENSITIVE_FIELDS:
        return True
    return isinstance(value, str) and bool(_FULL_CARD_NUMBER_RE.fullmatch(value.strip()))


def sensitive_values(data: Any) -> Iterator[str]:
    """Every non-empty sensitive value inside ``data`` (nested dicts and lists), as strings."""
    if isinstance(data, dict):
        for key, value in data.items():
            if is_sensitive(str(key), value) and not isinstance(value, (dict, list)):
                if value not in (None, ""):
                    yield str(value)
            else:
                yield from sensitive_values(value)
    elif isinstance(data, list):
        for item in data:
            yield from sensitive_values(item)


def mask_card_data(data: Any) -> None:
    """Register every sensitive value in ``data`` with Airflow's log masker.

    Airflow does not mask values shorter than ``[logging] min_length_masked_secret``
    (default 5 characters: a CVV, an expiry month or a 4-digit PIN), so the provider
    never writes these values to a log line in the first place; this is the second guard.
    """
    for value in sensitive_values(data):
        mask_secret(value)


def scrub(data: Any) -> Any:
    """A copy of ``data`` without its sensitive fields; the masked card number stays."""
    if isinstance(data, dict):
        return {key: scrub(value) for key, value in data.items() if not is_sensitive(str(key), value)}
    if isinstance(data, list):
        return [scrub(item) for item in data]
    return data


def json_safe(data: Any) -> Any:
    """``data`` with every ``Decimal`` as its exact string (``"250.75"``), ready for XCom."""
    if isinstance(data, Decimal):
        return str(data)
    if isinstance(data, dict):
        return {str(key): json_safe(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [json_safe(item) for item in data]
    return data
