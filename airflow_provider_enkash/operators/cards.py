"""One operator per EnKash action that changes an existing card (PIN, OTP, controls, block...).

Issuing card accounts and cards is in ``operators/card_issue.py`` (its operators are importable
from here too), reads are in ``operators/card_reads.py``, transaction look-ups in
``operators/transaction_lookups.py`` and the load in ``operators/loads.py``.

Each operator is a thin layer over one :class:`~airflow_provider_enkash.hooks.enkash.EnKashHook`
method: its keyword arguments are the method's (snake_case after the API fields), the hook
validates them before any network call, and the return value (XCom) is a small dict of the
ids and statuses the next task needs. ``company_id``/``card_account_id`` default from the
connection. PINs, OTPs and MFA codes are read from a secret source (``pin_source`` etc., see
:mod:`airflow_provider_enkash.secret_source`), never passed or templated as values.
State-changing operators are never resent; see :class:`~airflow_provider_enkash.exceptions.EnKashWriteOutcomeUnknown`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.models import drop_none
from airflow_provider_enkash.operators.base import (
    ACCOUNT_FIELDS,
    CARD_FIELDS,
    EnKashBaseOperator,
    EnKashCardOperator,
    api_result,
    card_status_label,
    optional_secret_source,
    pick,
    read_secret,
)
from airflow_provider_enkash.operators.card_issue import (
    EnKashCreateCardAccountOperator,
    EnKashCreateGiftCardOperator,
    EnKashCreatePrepaidCardOperator,
)
from airflow_provider_enkash.secret_source import SecretSource

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = [
    "EnKashBlockCardOperator",
    "EnKashCreateCardAccountOperator",
    "EnKashCreateGiftCardOperator",
    "EnKashCreatePrepaidCardOperator",
    "EnKashGenerateCardOtpOperator",
    "EnKashOrderPhysicalCardOperator",
    "EnKashRequestCardReplacementOperator",
    "EnKashSetCardPinOperator",
    "EnKashSetCardUsageControlsOperator",
]


class EnKashSetCardPinOperator(EnKashCardOperator):
    """Set a card's PIN (Set Card PIN), read from a secret source. Not resent on failure.

    :param pin_source: where the PIN (4 to 6 digits) is read: ``variable:<key>``,
        ``connection:<conn_id>`` (its password) or ``connection:<conn_id>#<extra_field>``.
        Not templated; the PIN is never logged or returned. Keep it in a secrets backend, or
        name the Variable so Airflow hides it in the UI (``variable:card_pin_secret``: a key
        containing ``secret``; ``payroll_pin`` would be shown in clear under Admin > Variables).
    :param otp_required: whether EnKash should ask for an OTP (default False).
    """

    operation = "set_card_pin"
    template_fields: Sequence[str] = CARD_FIELDS

    def __init__(self, *, pin_source: str, otp_required: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pin_source = SecretSource.parse(pin_source, field="pin_source")
        self.otp_required = otp_required

    def call_enkash(self, context: Context) -> Any:
        return self.hook.set_card_pin(
            pin=self.pin_source.read(), otp_required=self.otp_required, **self._card()
        )

    def summarise(self, response: Any) -> dict[str, Any]:
        return {"enkash_card_id": self.enkash_card_id, "pin_set": True, "result": api_result(response)}


class EnKashGenerateCardOtpOperator(EnKashCardOperator):
    """Send an OTP to the card holder (Generate Card OTP). Not resent on failure.

    :param card_otp_action: purpose of the OTP (default ``TRANSACTION_OTP``).

    XCom: ``otp_request_id``, to pair with the OTP (read from a secret source) in
    View Card Details, Block Card or Request Card Replacement.
    """

    operation = "generate_card_otp"
    template_fields: Sequence[str] = CARD_FIELDS

    def __init__(self, *, card_otp_action: str = "TRANSACTION_OTP", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.card_otp_action = card_otp_action

    def call_enkash(self, context: Context) -> Any:
        return self.hook.generate_card_otp(card_otp_action=self.card_otp_action, **self._card())

    def summarise(self, response: Any) -> dict[str, Any]:
        otp_request_id = response if isinstance(response, str) else pick(response, id="otpRequestId")["id"]
        return {"enkash_card_id": self.enkash_card_id, "otp_request_id": otp_request_id}


class EnKashSetCardUsageControlsOperator(EnKashBaseOperator):
    """Set switches and limits on 1 to 100 cards (Card Usage Controls). Not resent on failure.

    Only the controls given (not None) are sent. Amounts are rupees (Decimal or string,
    at most 2 decimals, 0 allowed); counts are whole numbers. ``clear`` names limits or counts
    sent as JSON null (no limit).

    :param enkash_card_ids: the cards (1 to 100).
    :param pos_allowed: card-present use. :param online_allowed: e-commerce use.
    :param contactless_allowed: contactless use. :param international_allowed: use abroad.
    :param atm_allowed: ATM use. :param admin_user: the change is made by an admin user.
    :param per_txn_limit: cap per transaction. :param dtd: day-to-date cap. :param mtd: month-to-date cap.
    :param ytd: year-to-date cap. :param pos_daily_limit, ecom_daily_limit, contact_less_daily_limit: daily caps.
    :param dtd_count, mtd_count, ytd_count, pos_daily_limit_count, ecom_daily_limit_count,
        contact_less_daily_limit_count: transaction-count caps.
    """

    operation = "card_usage_controls"
    template_fields: Sequence[str] = ("enkash_card_ids", "controls", *ACCOUNT_FIELDS)

    def __init__(
        self,
        *,
        enkash_card_ids: list[str],
        pos_allowed: bool | None = None,
        online_allowed: bool | None = None,
        contactless_allowed: bool | None = None,
        international_allowed: bool | None = None,
        atm_allowed: bool | None = None,
        admin_user: bool | None = None,
        per_txn_limit: Decimal | str | None = None,
        dtd: Decimal | str | None = None,
        mtd: Decimal | str | None = None,
        ytd: Decimal | str | None = None,
        pos_daily_limit: Decimal | str | None = None,
        ecom_daily_limit: Decimal | str | None = None,
        contact_less_daily_limit: Decimal | str | None = None,
        dtd_count: int | None = None,
        mtd_count: int | None = None,
        ytd_count: int | None = None,
        pos_daily_limit_count: int | None = None,
        ecom_daily_limit_count: int | None = None,
        contact_less_daily_limit_count: int | None = None,
        clear: list[str] | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.enkash_card_ids = enkash_card_ids
        self.controls = drop_none(
            {
                "pos_allowed": pos_allowed,
                "online_allowed": online_allowed,
                "contactless_allowed": contactless_allowed,
                "international_allowed": international_allowed,
                "atm_allowed": atm_allowed,
                "admin_user": admin_user,
                "per_txn_limit": per_txn_limit,
                "dtd": dtd,
                "mtd": mtd,
                "ytd": ytd,
                "pos_daily_limit": pos_daily_limit,
                "ecom_daily_limit": ecom_daily_limit,
                "contact_less_daily_limit": contact_less_daily_limit,
                "dtd_count": dtd_count,
                "mtd_count": mtd_count,
                "ytd_count": ytd_count,
                "pos_daily_limit_count": pos_daily_limit_count,
                "ecom_daily_limit_count": ecom_daily_limit_count,
                "contact_less_daily_limit_count": contact_less_daily_limit_count,
            }
        )
        self.clear = list(clear or [])
        self.company_id = company_id
        self.card_account_id = card_account_id

    def unsettled_reference(self) -> str | None:
        return f"usage limits of {self.enkash_card_ids}"

    def call_enkash(self, context: Context) -> Any:
        return self.hook.set_card_usage_controls(
            enkash_card_ids=self.enkash_card_ids,
            clear=self.clear,
            company_id=self.company_id,
            card_account_id=self.card_account_id,
            **self.controls,
        )

    def summarise(self, response: Any) -> dict[str, Any]:
        return {
            "enkash_card_ids": list(self.enkash_card_ids),
            "controls_set": sorted(self.controls),
            "controls_cleared": sorted(self.clear),
            "result": api_result(response),
        }


class _OtpConfirmedCardOperator(EnKashCardOperator):
    """A card action EnKash may confirm with an OTP or MFA code (block, replacement)."""

    def __init__(
        self,
        *,
        otp_medium: str = "MOBILE",
        otp_required: bool = False,
        otp_request_id: str | None = None,
        otp_source: str | None = None,
        mfa_code_source: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.otp_medium = otp_medium
        self.otp_required = otp_required
        self.otp_request_id = otp_request_id
        self.otp_source = optional_secret_source(otp_source, field="otp_source")
        self.mfa_code_source = optional_secret_source(mfa_code_source, field="mfa_code_source")

    def _confirmation(self) -> dict[str, Any]:
        return {
            "otp_medium": self.otp_medium,
            "otp_required": self.otp_required,
            "otp_request_id": self.otp_request_id,
            "otp": read_secret(self.otp_source),
            "mfa_code": read_secret(self.mfa_code_source),
        }


class EnKashRequestCardReplacementOperator(_OtpConfirmedCardOperator):
    """Replace a card (Request Card Replacement). Not resent on failure.

    :param otp_medium: ``MOBILE`` (default) or ``MFA``.
    :param otp_required: whether the action is confirmed with an OTP (default False); then
        ``otp_request_id`` (from :class:`EnKashGenerateCardOtpOperator`) and ``otp_source`` are required.
    :param otp_source: where the OTP is read (see :mod:`airflow_provider_enkash.secret_source`).
    :param mfa_code_source: where the MFA code is read, for ``otp_medium="MFA"``.
    """

    operation = "request_card_replacement"
    template_fields: Sequence[str] = (*CARD_FIELDS, "otp_medium", "otp_request_id")

    def call_enkash(self, context: Context) -> Any:
        return self.hook.request_card_replacement(**self._card(), **self._confirmation())

    def summarise(self, response: Any) -> dict[str, Any]:
        new_card = pick(response, id="newEnKashCardId")["id"] or pick(response, id="enKashCardId")["id"]
        return {
            "enkash_card_id": self.enkash_card_id,
            "new_enkash_card_id": new_card,
            "card_status": card_status_label(response),
        }


class EnKashBlockCardOperator(_OtpConfirmedCardOperator):
    """Lock (``L``), unlock (``UL``) or permanently block (``BL``) a card (Block Card). Not resent on failure.

    :param block_code: ``L``, ``UL``, ``BL`` or ``AP`` (a :class:`~airflow_provider_enkash.models.BlockCode`).
    :param reason: free text (optional).
    :param created_by: who asks (optional).
    :param otp_medium: ``MOBILE`` (default) or ``MFA``.
    :param otp_required: whether the action is confirmed with an OTP (default False); then
        ``otp_request_id`` (from :class:`EnKashGenerateCardOtpOperator`) and ``otp_source`` are required.
    :param otp_source: where the OTP is read (see :mod:`airflow_provider_enkash.secret_source`).
    :param mfa_code_source: where the MFA code is read, for ``otp_medium="MFA"``.
    """

    operation = "block_card"
    template_fields: Sequence[str] = (
        *CARD_FIELDS,
        "block_code",
        "reason",
        "created_by",
        "otp_medium",
        "otp_request_id",
    )

    def __init__(
        self, *, block_code: str, reason: str | None = None, created_by: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.block_code = block_code
        self.reason = reason
        self.created_by = created_by

    def call_enkash(self, context: Context) -> Any:
        return self.hook.block_card(
            block_code=self.block_code,
            reason=self.reason,
            created_by=self.created_by,
            **self._card(),
            **self._confirmation(),
        )

    def summarise(self, response: Any) -> dict[str, Any]:
        return {
            "enkash_card_id": self.enkash_card_id,
            "block_code": str(self.block_code),
            "result": api_result(response),
        }


class EnKashOrderPhysicalCardOperator(EnKashCardOperator):
    """Order a physical card for a virtual one (Order Physical Card). Not resent on failure.

    The path is not published: set the ``paths`` extra of the connection for a real account.

    :param delivery_address: first address line. :param delivery_address2: second line.
    :param delivery_city, delivery_state, delivery_country: place. :param delivery_pincode: 6 digits.
    :param physical_delivery_address_flag: True when a delivery address is given.
    """

    operation = "order_physical_card"
    template_fields: Sequence[str] = (*CARD_FIELDS, "delivery")

    def __init__(
        self,
        *,
        delivery_address: str | None = None,
        delivery_address2: str | None = None,
        delivery_city: str | None = None,
        delivery_state: str | None = None,
        delivery_country: str | None = None,
        delivery_pincode: str | None = None,
        physical_delivery_address_flag: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.delivery = drop_none(
            {
                "physical_delivery_address_flag": physical_delivery_address_flag,
                "delivery_address": delivery_address,
                "delivery_address2": delivery_address2,
                "delivery_city": delivery_city,
                "delivery_state": delivery_state,
                "delivery_country": delivery_country,
                "delivery_pincode": delivery_pincode,
            }
        )

    def call_enkash(self, context: Context) -> Any:
        return self.hook.order_physical_card(**self._card(), **self.delivery)

    def summarise(self, response: Any) -> dict[str, Any]:
        return {
            "enkash_card_id": self.enkash_card_id,
            "physical_card_ordered": True,
            "result": api_result(response),
        }
