"""Typed values shared by the hook and the operators: vocabularies, amounts in answers, ``LoadResult``.

The request-value checks and vocabularies live in :mod:`airflow_provider_enkash.request_models`;
they are re-exported here so the old import paths (``models.BlockCode``, ``models.parse_amount``, ...)
keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from airflow_provider_enkash._client.crypto import AMOUNT_FIELDS
from airflow_provider_enkash.request_models.validators import (
    COMPANY_ID_RE,
    EMAIL_RE,
    ID_MAX_LENGTH,
    MAX_AMOUNT,
    MIN_AMOUNT,
    MOBILE_RE,
    PAISA,
    PIN_RE,
    PINCODE_RE,
    SPECIAL_DATE_FORMAT,
    TEXT_MAX_LENGTH,
    check_bool,
    check_company_id,
    check_email,
    check_id_list,
    check_mobile,
    check_pattern,
    check_pincode,
    check_secret_code,
    check_special_date,
    drop_none,
    optional_text,
    parse_amount,
    positive_int,
    require_id,
    require_text,
    whole_count,
    whole_number,
)
from airflow_provider_enkash.request_models.vocabularies import (
    AccountType,
    BlockCode,
    CardOtpAction,
    CardTransactionType,
    Gender,
    OtpMedium,
    Title,
)

__all__ = [
    "AMOUNT_FIELDS",
    "COMPANY_ID_RE",
    "EMAIL_RE",
    "ID_MAX_LENGTH",
    "MAX_AMOUNT",
    "MIN_AMOUNT",
    "MOBILE_RE",
    "PAISA",
    "PINCODE_RE",
    "PIN_RE",
    "SPECIAL_DATE_FORMAT",
    "TEXT_MAX_LENGTH",
    "AccountType",
    "BlockCode",
    "CardOtpAction",
    "CardTransactionType",
    "Gender",
    "LoadResult",
    "OtpMedium",
    "Title",
    "amounts_as_decimal",
    "check_bool",
    "check_company_id",
    "check_email",
    "check_id_list",
    "check_mobile",
    "check_pattern",
    "check_pincode",
    "check_secret_code",
    "check_special_date",
    "drop_none",
    "optional_text",
    "parse_amount",
    "positive_int",
    "require_id",
    "require_text",
    "whole_count",
    "whole_number",
]


def amounts_as_decimal(data: Any) -> Any:
    """``data`` with every whole-number amount (JSON ``898138``) as ``Decimal``, like the fractional ones (in place).

    The hook's answers need no such pass: they are parsed so (``_client.crypto.loads_payload``); this is
    for data read some other way.
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
