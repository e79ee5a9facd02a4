"""The closed value sets of EnKash request fields (``blockCode``, ``accountType``, ``otpMedium``, ...).

Each ``parse`` returns the API value or raises ``EnKashValidationError`` naming the field and the allowed values.
"""

from __future__ import annotations

import enum
from typing import Any

from airflow_provider_enkash.exceptions import EnKashValidationError


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
