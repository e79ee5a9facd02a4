"""Operators that read cards and card accounts (no state changes; retried by the hook)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.operators.base import (
    ACCOUNT_FIELDS,
    CARD_FIELDS,
    EnKashBaseOperator,
    EnKashCardOperator,
    optional_secret_source,
    pick,
    read_secret,
)

if TYPE_CHECKING:
    from airflow.sdk import Context


class EnKashGetCardAccountDetailsOperator(EnKashBaseOperator):
    """Read a card account's balances (Get Card Account Details).

    :param company_id: default: the connection's ``company_id``.
    :param card_account_id: default: the connection's ``card_account_id``.
    """

    operation = "get_card_account_details"
    template_fields: Sequence[str] = ACCOUNT_FIELDS

    def __init__(
        self, *, company_id: str | None = None, card_account_id: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.company_id = company_id
        self.card_account_id = card_account_id

    def call_enkash(self, context: Context) -> Any:
        return self.hook.get_card_account_details(
            company_id=self.company_id, card_account_id=self.card_account_id
        )

    def summarise(self, response: Any) -> dict[str, Any]:
        primary = response.get("primaryEnKashCard") if isinstance(response, dict) else None
        return {
            **pick(
                response,
                card_account_id="cardAccountId",
                company_id="companyId",
                available_balance="availableBalance",
                available_card_balance="availableCardBalance",
                total_cards="totalCards",
                active_cards="activeCards",
            ),
            "primary_enkash_card_id": primary.get("enKashCardId") if isinstance(primary, dict) else None,
        }


class EnKashViewCardDetailsOperator(EnKashCardOperator):
    """Read a card's full data (View Card Details). The path is not published: set the ``paths`` extra.

    The full number, CVV and expiry are dropped from the XCom value unless
    ``include_sensitive=True``; they are masked in logs either way.

    :param otp_request_id: from :class:`EnKashGenerateCardOtpOperator`, when EnKash asks for an OTP.
    :param otp_source: where the OTP is read (see :mod:`airflow_provider_enkash.secret_source`).
    """

    operation = "view_card_details"
    template_fields: Sequence[str] = (*CARD_FIELDS, "otp_request_id")

    def __init__(
        self, *, otp_request_id: str | None = None, otp_source: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.otp_request_id = otp_request_id
        self.otp_source = optional_secret_source(otp_source, field="otp_source")

    def call_enkash(self, context: Context) -> Any:
        return self.hook.view_card_details(
            otp_request_id=self.otp_request_id, otp=read_secret(self.otp_source), **self._card()
        )

    def summarise(self, response: Any) -> dict[str, Any]:
        return {"enkash_card_id": self.enkash_card_id, "card": response}


class EnKashGetCardUsageLimitsOperator(EnKashCardOperator):
    """Read a card's usage controls (Get Card Usage Limits). XCom: ``limits`` with the API's field names."""

    operation = "get_card_usage_limits"
    template_fields: Sequence[str] = CARD_FIELDS

    def call_enkash(self, context: Context) -> Any:
        return self.hook.get_card_usage_limits(**self._card())

    def summarise(self, response: Any) -> dict[str, Any]:
        return {"enkash_card_id": self.enkash_card_id, "limits": response}


class EnKashGetCardDetailsOperator(EnKashBaseOperator):
    """Read one card, or every card of the account (Get Card Details).

    :param enkash_card_id: the card; None lists every card of the account.

    XCom: ``records_count`` and ``cards`` (the API's card objects without card secrets).
    """

    operation = "get_card_details"
    template_fields: Sequence[str] = CARD_FIELDS

    def __init__(
        self,
        *,
        enkash_card_id: str | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.enkash_card_id = enkash_card_id
        self.company_id = company_id
        self.card_account_id = card_account_id

    def call_enkash(self, context: Context) -> Any:
        return self.hook.get_card_details(
            enkash_card_id=self.enkash_card_id,
            company_id=self.company_id,
            card_account_id=self.card_account_id,
        )

    def summarise(self, response: Any) -> dict[str, Any]:
        cards = (response.get("data") if isinstance(response, dict) else response) or []
        return {"records_count": pick(response, n="recordsCount")["n"] or len(cards), "cards": cards}
