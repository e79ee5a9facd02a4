"""The card and account operations of :class:`~airflow_provider_enkash.hooks.enkash.EnKashHook`.

One method per Prepaid Card operation on cards and card accounts. Each takes keyword-only
snake_case arguments, builds its declarative request model (:mod:`airflow_provider_enkash.request_models`),
which names a bad field in ``EnKashValidationError`` before anything is sent, and sends it through
the hook's ``_request``, the only thing this base class needs from the class that uses it.
``company_id``/``card_account_id`` default from the connection.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from airflow_provider_enkash._client.answers import otp_request_id_of, records_of
from airflow_provider_enkash.request_models import cards
from airflow_provider_enkash.request_models.fields import RequestModel
from airflow_provider_enkash.request_models.vocabularies import (
    AccountType,
    BlockCode,
    CardOtpAction,
    OtpMedium,
)


class CardOperations(abc.ABC):
    """Card and card-account operations over one abstract ``_request`` (implemented by ``EnKashHook``)."""

    @abc.abstractmethod
    def _request(self, model: type[RequestModel], **arguments: Any) -> Any:
        """Check ``arguments`` through ``model`` (nothing sent when one is bad), then send; the answer's payload."""

    def create_card_account(
        self,
        *,
        company_name: str,
        plan_master_id: str,
        email: str,
        mobile: str,
        account_title: str,
        account_type: AccountType | str,
        user_id: str | None = None,
        company_id: str | None = None,
    ) -> Any:
        """Create a card account. ``POST /api/v0/partner/enKashCard/cardAccount/create``. Not resent on failure."""
        return self._request(
            cards.CreateCardAccount,
            company_name=company_name,
            plan_master_id=plan_master_id,
            email=email,
            mobile=mobile,
            account_title=account_title,
            account_type=account_type,
            user_id=user_id,
            company_id=company_id,
        )

    def create_prepaid_card(
        self,
        *,
        load_amount: Decimal | str | int | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
        **card_holder: Any,
    ) -> Any:
        """Issue a reloadable prepaid card. ``POST /api/v0/partner/enKashCard``. Not resent on failure.

        :param load_amount: rupees loaded at issue (optional).
        :param card_holder: snake_case card-holder fields (``first_name``, ``mobile``, ``email``,
            ``title``, ``gender``, ``special_date`` dd-MM-yyyy, address and delivery fields, ...).
        """
        return self._request(
            cards.CreatePrepaidCard,
            load_amount=load_amount,
            company_id=company_id,
            card_account_id=card_account_id,
            **card_holder,
        )

    def create_gift_card(
        self,
        *,
        load_amount: Decimal | str | int,
        company_id: str | None = None,
        card_account_id: str | None = None,
        **card_holder: Any,
    ) -> Any:
        """Issue a non-reloadable gift card (its account must be a GIFT account). ``POST /api/v0/partner/enKashCard``.

        :param load_amount: rupees on the card; required, gift cards cannot be loaded later.
        """
        return self._request(
            cards.CreateGiftCard,
            load_amount=load_amount,
            company_id=company_id,
            card_account_id=card_account_id,
            **card_holder,
        )

    def set_card_pin(
        self,
        *,
        enkash_card_id: str,
        pin: str,
        otp_required: bool = False,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Set a card's PIN (sent as ``pinBlock``). ``POST /api/v0/partner/enKashCard/setPin``.

        :param pin: 4 to 6 digits; masked in logs from the moment it arrives.
        """
        return self._request(
            cards.SetCardPin,
            enkash_card_id=enkash_card_id,
            pin=pin,
            otp_required=otp_required,
            company_id=company_id,
            card_account_id=card_account_id,
        )

    def get_card_account_details(
        self, *, company_id: str | None = None, card_account_id: str | None = None
    ) -> Any:
        """Balances of a card account. ``POST /api/v0/partner/enKashCard/cardAccount/get``."""
        return self._request(
            cards.GetCardAccountDetails, company_id=company_id, card_account_id=card_account_id
        )

    def generate_card_otp(
        self,
        *,
        enkash_card_id: str,
        card_otp_action: CardOtpAction | str = CardOtpAction.TRANSACTION_OTP,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Send an OTP to the card holder. ``POST /api/v0/partner/enKashCard/otp``.

        :param card_otp_action: any identifier (default ``TRANSACTION_OTP``, the only value the docs show).
        :return: the answer's payload, ``{"otpRequestId": ...}`` or the id as a string; either way the
            id is checked to be id-shaped (``otp_request_id_of``).
        """
        answer = self._request(
            cards.GenerateCardOtp,
            enkash_card_id=enkash_card_id,
            card_otp_action=card_otp_action,
            company_id=company_id,
            card_account_id=card_account_id,
        )
        otp_request_id_of(answer)
        return answer

    def view_card_details(
        self,
        *,
        enkash_card_id: str,
        otp_request_id: str | None = None,
        otp: str | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Full card data (PAN, CVV, expiry): never log it. Path not published; default placeholder
        ``/api/v0/partner/enKashCard/view-card-details`` (override with the ``paths`` extra)."""
        return self._request(
            cards.ViewCardDetails,
            enkash_card_id=enkash_card_id,
            otp_request_id=otp_request_id,
            otp=otp,
            company_id=company_id,
            card_account_id=card_account_id,
        )

    def set_card_usage_controls(
        self,
        *,
        enkash_card_ids: list[str],
        clear: Iterable[str] = (),
        company_id: str | None = None,
        card_account_id: str | None = None,
        **controls: Any,
    ) -> Any:
        """Switches and limits for 1-100 cards. ``POST /api/v0/partner/enKashCard/velocity/rule``.

        :param controls: ``pos_allowed``, ``online_allowed``, ``contactless_allowed``,
            ``international_allowed``, ``atm_allowed``, ``admin_user`` (bool); amount limits in rupees
            ``per_txn_limit``, ``dtd``, ``mtd``, ``ytd``, ``pos_daily_limit``, ``ecom_daily_limit``,
            ``contact_less_daily_limit``; counts ``dtd_count``, ``mtd_count``, ``ytd_count``,
            ``pos_daily_limit_count``, ``ecom_daily_limit_count``, ``contact_less_daily_limit_count``.
            Limits take 0 and up; a control given as None is not sent.
        :param clear: limits and counts to send as JSON ``null`` (the API's "no limit"), e.g. ``["dtd"]``.
        """
        return self._request(
            cards.SetCardUsageControls,
            enkash_card_ids=enkash_card_ids,
            clear=clear,
            company_id=company_id,
            card_account_id=card_account_id,
            **controls,
        )

    def get_card_usage_limits(
        self, *, enkash_card_id: str, company_id: str | None = None, card_account_id: str | None = None
    ) -> Any:
        """A card's usage controls. ``POST /api/v0/partner/enKashCard/velocity/rule/get``."""
        return self._request(
            cards.GetCardUsageLimits,
            enkash_card_id=enkash_card_id,
            company_id=company_id,
            card_account_id=card_account_id,
        )

    def request_card_replacement(
        self,
        *,
        enkash_card_id: str,
        otp_medium: OtpMedium | str = OtpMedium.MOBILE,
        otp_required: bool = False,
        otp_request_id: str | None = None,
        otp: str | None = None,
        mfa_code: str | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Replace a card. ``POST /api/v0/partner/enKashCard/replaceCard``. Not resent on failure."""
        return self._request(
            cards.RequestCardReplacement,
            enkash_card_id=enkash_card_id,
            otp_medium=otp_medium,
            otp_required=otp_required,
            otp_request_id=otp_request_id,
            otp=otp,
            mfa_code=mfa_code,
            company_id=company_id,
            card_account_id=card_account_id,
        )

    def block_card(
        self,
        *,
        enkash_card_id: str,
        block_code: BlockCode | str,
        reason: str | None = None,
        otp_medium: OtpMedium | str = OtpMedium.MOBILE,
        otp_required: bool = False,
        otp_request_id: str | None = None,
        otp: str | None = None,
        mfa_code: str | None = None,
        created_by: str | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Lock (``L``), unlock (``UL``) or permanently block (``BL``) a card. ``POST /api/v0/partner/enKashCard/block``."""
        return self._request(
            cards.BlockCard,
            enkash_card_id=enkash_card_id,
            block_code=block_code,
            reason=reason,
            otp_medium=otp_medium,
            otp_required=otp_required,
            otp_request_id=otp_request_id,
            otp=otp,
            mfa_code=mfa_code,
            created_by=created_by,
            company_id=company_id,
            card_account_id=card_account_id,
        )

    def order_physical_card(
        self,
        *,
        enkash_card_id: str,
        company_id: str | None = None,
        card_account_id: str | None = None,
        **delivery: Any,
    ) -> Any:
        """Order a physical card for a virtual one. Path not published; default placeholder
        ``/api/v0/partner/enKashCard/order-physical-card`` (override with the ``paths`` extra).

        :param delivery: ``delivery_address``, ``delivery_address2``, ``delivery_city``, ``delivery_state``,
            ``delivery_country``, ``delivery_pincode`` (6 digits), ``physical_delivery_address_flag``.
        """
        return self._request(
            cards.OrderPhysicalCard,
            enkash_card_id=enkash_card_id,
            company_id=company_id,
            card_account_id=card_account_id,
            **delivery,
        )

    def get_card_details(
        self,
        *,
        enkash_card_id: str | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Cards of an account, or one card. ``POST /api/v0/partner/enKashCard/search``.

        :return: ``{"recordsCount": int, "data": [card, ...]}``, also when EnKash answers one card object.
        """
        answer = self._request(
            cards.GetCardDetails,
            enkash_card_id=enkash_card_id,
            company_id=company_id,
            card_account_id=card_account_id,
        )
        return records_of(answer, operation="get_card_details", single_object_key="enKashCardId")
