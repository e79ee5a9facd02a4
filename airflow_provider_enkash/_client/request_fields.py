"""Checked request fields that several operations share: the account, OTP fields, usage controls.

Each helper validates before any network call and names the field in its ``EnKashValidationError``.
``company_id``/``card_account_id`` default from the connection's settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.card_data import mask_value
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.request_models.validators import (
    check_bool,
    check_company_id,
    check_secret_code,
    drop_none,
    parse_amount,
    require_id,
    whole_count,
)
from airflow_provider_enkash.request_models.vocabularies import OtpMedium

if TYPE_CHECKING:
    from airflow_provider_enkash._client.settings import EnKashSettings

_LIMIT_FIELDS = {
    "per_txn_limit": "perTxnLimit",
    "dtd": "dtd",
    "mtd": "mtd",
    "ytd": "ytd",
    "pos_daily_limit": "posDailyLimit",
    "ecom_daily_limit": "ecomDailyLimit",
    "contact_less_daily_limit": "contactLessDailyLimit",
}
_COUNT_FIELDS = {
    "dtd_count": "dtdCount",
    "mtd_count": "mtdCount",
    "ytd_count": "ytdCount",
    "pos_daily_limit_count": "posDailyLimitCount",
    "ecom_daily_limit_count": "ecomDailyLimitCount",
    "contact_less_daily_limit_count": "contactLessDailyLimitCount",
}
_SWITCH_FIELDS = {
    "pos_allowed": "posAllowed",
    "online_allowed": "onlineAllowed",
    "contactless_allowed": "contactlessAllowed",
    "international_allowed": "internationalAllowed",
    "atm_allowed": "atmAllowed",
    "admin_user": "adminUser",
}


def _card_account_id(settings: EnKashSettings, card_account_id: str | None) -> str:
    """The argument or the connection's card account id, unchecked; ``EnKashValidationError`` when neither."""
    account = card_account_id if card_account_id is not None else settings.card_account_id
    if account is None:
        raise EnKashValidationError(
            "cardAccountId", "is required: pass card_account_id or set the connection extra"
        )
    return account


def account_fields(
    settings: EnKashSettings, company_id: str | None, card_account_id: str | None
) -> dict[str, str]:
    """``companyId`` and ``cardAccountId``, from the arguments or the connection; both required."""
    company = company_id if company_id is not None else settings.company_id
    if company is None:
        raise EnKashValidationError("companyId", "is required: pass company_id or set the connection extra")
    account = _card_account_id(settings, card_account_id)
    return {
        "companyId": check_company_id(company),
        "cardAccountId": require_id(account, field="cardAccountId"),
    }


def card_account_fields(
    settings: EnKashSettings, company_id: str | None, card_account_id: str | None
) -> dict[str, str]:
    """``cardAccountId`` (argument or connection) for operations whose docs list no ``companyId``;
    ``companyId`` only when passed explicitly."""
    fields = {"cardAccountId": require_id(_card_account_id(settings, card_account_id), field="cardAccountId")}
    return fields if company_id is None else {"companyId": check_company_id(company_id), **fields}


def otp_fields(
    *, otp_medium: Any, otp_required: Any, otp_request_id: Any, otp: Any, mfa_code: Any
) -> dict[str, Any]:
    """``otpMedium``, ``otpRequired`` and, when given, ``otpRequestId``/``otp``/``mfaCode`` (masked in logs)."""
    if otp is not None:
        mask_value(str(otp))
    if mfa_code is not None:
        mask_value(str(mfa_code))
    fields = {
        "otpMedium": OtpMedium.parse(otp_medium, field="otpMedium"),
        "otpRequired": check_bool(otp_required, field="otpRequired"),
        "otpRequestId": None if otp_request_id is None else require_id(otp_request_id, field="otpRequestId"),
        "otp": None if otp is None else check_secret_code(otp, field="otp"),
        "mfaCode": None if mfa_code is None else check_secret_code(mfa_code, field="mfaCode"),
    }
    if fields["otpRequired"] and (fields["otpRequestId"] is None or fields["otp"] is None):
        raise EnKashValidationError("otp", "otp_request_id and otp are required when otp_required is true")
    return drop_none(fields)


def usage_control_fields(controls: Mapping[str, Any], clear: Iterable[str] | str) -> dict[str, Any]:
    """The switches, limits and counts of Set Card Usage Controls, by API name (see the hook's method)."""
    fields: dict[str, Any] = {}
    for name, value in controls.items():
        if value is None:
            continue
        if name in _SWITCH_FIELDS:
            fields[_SWITCH_FIELDS[name]] = check_bool(value, field=_SWITCH_FIELDS[name])
        elif name in _LIMIT_FIELDS:
            fields[_LIMIT_FIELDS[name]] = parse_amount(value, field=_LIMIT_FIELDS[name], minimum=Decimal(0))
        elif name in _COUNT_FIELDS:
            fields[_COUNT_FIELDS[name]] = whole_count(value, field=_COUNT_FIELDS[name])
        else:
            known = sorted({**_SWITCH_FIELDS, **_LIMIT_FIELDS, **_COUNT_FIELDS})
            raise EnKashValidationError(name, f"is not a usage control; known: {', '.join(known)}")
    clearable = {**_LIMIT_FIELDS, **_COUNT_FIELDS}
    for name in [clear] if isinstance(clear, str) else clear:
        if name not in clearable:
            raise EnKashValidationError(
                "clear", f"{name!r} is not a limit; clearable: {', '.join(sorted(clearable))}"
            )
        if controls.get(name) is not None:
            raise EnKashValidationError(clearable[name], "is both given a value and listed in clear")
        fields[clearable[name]] = None
    return fields
