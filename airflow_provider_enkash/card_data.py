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
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from airflow.sdk._shared.secrets_masker.secrets_masker import SecretsMasker
from airflow.sdk.configuration import conf
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


def mask_value(value: str) -> None:
    """Register ``value`` with Airflow's log masker when Airflow can mask it.

    Airflow masks nothing shorter than ``[logging] min_length_masked_secret`` (default 5
    characters: a CVV, an expiry month, a 4-digit PIN) and logs a warning, "Skipping masking
    for a secret as it's too short", that reads like a leak. The provider never writes such
    values to a log line in the first place, so they are not handed to the masker at all.
    """
    if len(value) >= conf.getint("logging", "min_length_masked_secret", fallback=5):
        mask_secret(value)


@contextmanager
def short_secret_warning_silenced() -> Iterator[None]:
    """Read a card secret without Airflow's "too short" warning, for a value the provider never logs.

    Airflow masks every Variable and connection password as it is read, and warns once per
    process when the value is too short to mask (a 4-digit PIN). Inside this block Airflow
    believes it has warned already; afterwards its own state is restored, so a short secret
    read elsewhere still gets its warning.
    """
    warned = SecretsMasker._has_warned_short_secret
    SecretsMasker._has_warned_short_secret = True
    try:
        yield
    finally:
        SecretsMasker._has_warned_short_secret = warned


def mask_card_data(data: Any) -> None:
    """Register every sensitive value in ``data`` with Airflow's log masker (see :func:`mask_value`).

    The masker is the second guard: the provider never logs these values.
    """
    for value in sensitive_values(data):
        mask_value(value)


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
