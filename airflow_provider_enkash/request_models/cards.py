"""Request models of the card and card-account operations (REFERENCE.md sections 9.1 to 9.14)."""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.request_models.fields import (
    AccountTypeValue,
    Amount,
    BlockCodeValue,
    CardAccountId,
    CardOtpActionName,
    CompanyId,
    Documents,
    Email,
    Flag,
    GenderValue,
    GivenCompanyId,
    Id,
    IdList,
    Limit,
    Mobile,
    OtpMediumValue,
    Pin,
    Pincode,
    RequestModel,
    SecretCode,
    SpecialDate,
    Text,
    TitleValue,
    WholeCount,
    clear_names,
)


class AccountRequest(RequestModel):
    """``companyId`` and ``cardAccountId``: the arguments, else the connection's; both required."""

    companyId: CompanyId = Field(None, alias="company_id", validate_default=True)
    cardAccountId: CardAccountId = Field(None, alias="card_account_id", validate_default=True)


class CardRequest(AccountRequest):
    enKashCardId: Id = Field(alias="enkash_card_id")


class CardAccountRequest(RequestModel):
    """``cardAccountId`` (argument or connection) for operations whose docs list no ``companyId``;
    ``companyId`` only when passed explicitly."""

    companyId: GivenCompanyId | None = Field(None, alias="company_id")
    cardAccountId: CardAccountId = Field(None, alias="card_account_id", validate_default=True)
    enKashCardId: Id = Field(alias="enkash_card_id")


class CreateCardAccount(RequestModel):
    operation = "create_card_account"
    companyId: CompanyId = Field(None, alias="company_id", validate_default=True)
    companyName: Text = Field(alias="company_name")
    userId: Id | None = Field(None, alias="user_id")
    planMasterId: Id = Field(alias="plan_master_id")
    email: Email = Field(alias="email")
    mobile: Mobile = Field(alias="mobile")
    accountTitle: Text = Field(alias="account_title")
    accountType: AccountTypeValue = Field(alias="account_type")


class DeliveryAddress(AccountRequest):
    """The delivery fields of Create Prepaid/Gift Card and Order Physical Card."""

    physicalDeliveryAddressFlag: Flag | None = Field(None, alias="physical_delivery_address_flag")
    deliveryAddress: Text | None = Field(None, alias="delivery_address")
    deliveryAddress2: Text | None = Field(None, alias="delivery_address2")
    deliveryCity: Text | None = Field(None, alias="delivery_city")
    deliveryState: Text | None = Field(None, alias="delivery_state")
    deliveryCountry: Text | None = Field(None, alias="delivery_country")
    deliveryPincode: Pincode | None = Field(None, alias="delivery_pincode")


class CreatePrepaidCard(DeliveryAddress):
    """A card holder (every field optional) and, for a prepaid card, an optional ``loadAmount``."""

    operation = "create_prepaid_card"
    userId: Id | None = Field(None, alias="user_id")
    email: Email | None = Field(None, alias="email")
    mobile: Mobile | None = Field(None, alias="mobile")
    title: TitleValue | None = Field(None, alias="title")
    firstName: Text | None = Field(None, alias="first_name")
    middleName: Text | None = Field(None, alias="middle_name")
    lastName: Text | None = Field(None, alias="last_name")
    gender: GenderValue | None = Field(None, alias="gender")
    address: Text | None = Field(None, alias="address")
    address2: Text | None = Field(None, alias="address2")
    city: Text | None = Field(None, alias="city")
    state: Text | None = Field(None, alias="state")
    country: Text | None = Field(None, alias="country")
    pincode: Pincode | None = Field(None, alias="pincode")
    primaryEnKashCard: Flag | None = Field(None, alias="primary_enkash_card")
    physicalCard: Flag | None = Field(None, alias="physical_card")
    remarks: Text | None = Field(None, alias="remarks")
    documents: Documents | None = Field(None, alias="documents")
    specialDate: SpecialDate | None = Field(None, alias="special_date")
    loadAmount: Amount | None = Field(None, alias="load_amount")


class CreateGiftCard(CreatePrepaidCard):
    """A gift card's ``loadAmount`` is required: it cannot be loaded later."""

    operation = "create_gift_card"
    loadAmount: Amount = Field(alias="load_amount")


class OrderPhysicalCard(DeliveryAddress):
    operation = "order_physical_card"
    enKashCardId: Id = Field(alias="enkash_card_id")


class SetCardPin(CardRequest):
    operation = "set_card_pin"
    pinBlock: Pin = Field(alias="pin", repr=False)
    otpRequired: Flag = Field(False, alias="otp_required")


class GetCardAccountDetails(AccountRequest):
    operation = "get_card_account_details"


class GetCardDetails(AccountRequest):
    operation = "get_card_details"
    enKashCardId: Id | None = Field(None, alias="enkash_card_id")


class GetCardUsageLimits(CardRequest):
    operation = "get_card_usage_limits"


class ViewCardDetails(CardRequest):
    operation = "view_card_details"
    otpRequestId: Id | None = Field(None, alias="otp_request_id")
    otp: SecretCode | None = Field(None, alias="otp", repr=False)


class GenerateCardOtp(CardAccountRequest):
    operation = "generate_card_otp"
    cardOtpAction: CardOtpActionName = Field("TRANSACTION_OTP", alias="card_otp_action")


class _OtpConfirmed(RequestModel):
    """``otpMedium``, ``otpRequired`` and, when given, ``otpRequestId``/``otp``/``mfaCode``."""

    otpMedium: OtpMediumValue = Field("MOBILE", alias="otp_medium")
    otpRequired: Flag = Field(False, alias="otp_required")
    otpRequestId: Id | None = Field(None, alias="otp_request_id")
    otp: SecretCode | None = Field(None, alias="otp", repr=False)
    mfaCode: SecretCode | None = Field(None, alias="mfa_code", repr=False)

    @model_validator(mode="after")
    def _otp_given_when_required(self) -> Self:
        if self.otpRequired and (self.otpRequestId is None or self.otp is None):
            raise EnKashValidationError(
                "otp", "otp_request_id and otp are required when otp_required is true"
            )
        return self


class RequestCardReplacement(_OtpConfirmed, CardAccountRequest):
    operation = "request_card_replacement"


class BlockCard(_OtpConfirmed, CardRequest):
    """Lock (``L``), unlock (``UL``) or permanently block (``BL``) a card."""

    operation = "block_card"
    blockCode: BlockCodeValue = Field(alias="block_code")
    reason: Text | None = Field(None, alias="reason")
    createdBy: Text | None = Field(None, alias="created_by")


_LIMITS = {
    "per_txn_limit": "perTxnLimit",
    "dtd": "dtd",
    "mtd": "mtd",
    "ytd": "ytd",
    "pos_daily_limit": "posDailyLimit",
    "ecom_daily_limit": "ecomDailyLimit",
    "contact_less_daily_limit": "contactLessDailyLimit",
    "dtd_count": "dtdCount",
    "mtd_count": "mtdCount",
    "ytd_count": "ytdCount",
    "pos_daily_limit_count": "posDailyLimitCount",
    "ecom_daily_limit_count": "ecomDailyLimitCount",
    "contact_less_daily_limit_count": "contactLessDailyLimitCount",
}


class SetCardUsageControls(AccountRequest):
    """Switches, amount limits (rupees, 0 and up) and counts for 1-100 cards; ``clear`` lists the
    limits and counts sent as JSON ``null`` (the API's "no limit")."""

    operation = "card_usage_controls"
    enKashCardIds: IdList = Field(alias="enkash_card_ids")
    posAllowed: Flag | None = Field(None, alias="pos_allowed")
    onlineAllowed: Flag | None = Field(None, alias="online_allowed")
    contactlessAllowed: Flag | None = Field(None, alias="contactless_allowed")
    internationalAllowed: Flag | None = Field(None, alias="international_allowed")
    atmAllowed: Flag | None = Field(None, alias="atm_allowed")
    adminUser: Flag | None = Field(None, alias="admin_user")
    perTxnLimit: Limit | None = Field(None, alias="per_txn_limit")
    dtd: Limit | None = Field(None, alias="dtd")
    mtd: Limit | None = Field(None, alias="mtd")
    ytd: Limit | None = Field(None, alias="ytd")
    posDailyLimit: Limit | None = Field(None, alias="pos_daily_limit")
    ecomDailyLimit: Limit | None = Field(None, alias="ecom_daily_limit")
    contactLessDailyLimit: Limit | None = Field(None, alias="contact_less_daily_limit")
    dtdCount: WholeCount | None = Field(None, alias="dtd_count")
    mtdCount: WholeCount | None = Field(None, alias="mtd_count")
    ytdCount: WholeCount | None = Field(None, alias="ytd_count")
    posDailyLimitCount: WholeCount | None = Field(None, alias="pos_daily_limit_count")
    ecomDailyLimitCount: WholeCount | None = Field(None, alias="ecom_daily_limit_count")
    contactLessDailyLimitCount: WholeCount | None = Field(None, alias="contact_less_daily_limit_count")
    clear: tuple[str, ...] = Field((), alias="clear", exclude=True)

    @field_validator("clear", mode="plain")
    @classmethod
    def _clearable(cls, value: Any) -> tuple[str, ...]:
        return clear_names(value, _LIMITS)

    @model_validator(mode="after")
    def _not_both_set_and_cleared(self) -> Self:
        for name in self.clear:
            if getattr(self, _LIMITS[name]) is not None:
                raise EnKashValidationError(_LIMITS[name], "is both given a value and listed in clear")
        return self

    def payload(self) -> dict[str, Any]:
        """The set controls, then each cleared one as ``None`` (sent as JSON ``null``)."""
        fields = super().payload()
        del fields["clear"]
        return {**fields, **{_LIMITS[name]: None for name in self.clear}}
