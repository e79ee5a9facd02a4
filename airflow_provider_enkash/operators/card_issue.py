"""Operators that issue: create a card account, a prepaid card or a gift card.

Actions on an existing card are in ``operators/cards.py``, reads in ``operators/card_reads.py``.
Each operator is a thin layer over one :class:`~airflow_provider_enkash.hooks.enkash.EnKashHook`
method (see ``operators/cards.py`` for the shared conventions). Never resent on failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.operators.base import (
    ACCOUNT_FIELDS,
    EnKashBaseOperator,
    card_status_label,
    pick,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

_CARD_SUMMARY = {
    "enkash_card_id": "enKashCardId",
    "user_id": "userId",
    "card_account_id": "cardAccountId",
    "masked_number": "maskedNumber",
    "otb_balance": "otbBalance",
}


class EnKashCreateCardAccountOperator(EnKashBaseOperator):
    """Create a card account (Create Card Account). Not resent on failure.

    :param company_name: legal name of the company.
    :param plan_master_id: plan id given at onboarding (e.g. ``PMGAZ7L5A``).
    :param admin_email: the account admin's e-mail (API field ``email``; named so because
        ``email`` is every Airflow operator's alert address).
    :param mobile: the account admin's mobile, 10 digits.
    :param account_title: display title.
    :param account_type: an :class:`~airflow_provider_enkash.models.AccountType` (e.g. ``GIFT``).
    :param user_id: EnKash user id of the admin (optional).
    :param company_id: default: the connection's ``company_id``.
    """

    operation = "create_card_account"
    template_fields: Sequence[str] = (
        "company_name", "plan_master_id", "admin_email", "mobile", "account_title", "account_type", "user_id", "company_id",
    )  # fmt: skip

    def __init__(
        self,
        *,
        company_name: str,
        plan_master_id: str,
        admin_email: str,
        mobile: str,
        account_title: str,
        account_type: str,
        user_id: str | None = None,
        company_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.company_name = company_name
        self.plan_master_id = plan_master_id
        self.admin_email = admin_email
        self.mobile = mobile
        self.account_title = account_title
        self.account_type = account_type
        self.user_id = user_id
        self.company_id = company_id

    def unsettled_reference(self) -> str | None:
        return f"card accounts titled {self.account_title!r}"

    def call_enkash(self, context: Context) -> Any:
        return self.hook.create_card_account(
            company_name=self.company_name,
            plan_master_id=self.plan_master_id,
            email=self.admin_email,
            mobile=self.mobile,
            account_title=self.account_title,
            account_type=self.account_type,
            user_id=self.user_id,
            company_id=self.company_id,
        )

    def summarise(self, response: Any) -> dict[str, Any]:
        return pick(
            response, card_account_id="cardAccountId", company_id="companyId", account_type="accountType"
        )


class EnKashCreatePrepaidCardOperator(EnKashBaseOperator):
    """Issue a reloadable prepaid card (Create Prepaid Card). Not resent on failure.

    :param card_holder: the card holder, keys in snake_case after the API fields: ``first_name``,
        ``middle_name``, ``last_name``, ``title`` (Mr/Mrs/Ms), ``gender`` (M/F/O), ``email``,
        ``mobile`` (10 digits), ``special_date`` (dd-MM-yyyy), ``user_id``, ``address``,
        ``address2``, ``city``, ``state``, ``country``, ``pincode`` (6 digits), ``documents``,
        ``remarks``, ``primary_enkash_card``, ``physical_card`` and the ``delivery_*`` fields.
        One dict per card, so ``.expand(card_holder=[...])`` issues one card per employee.
    :param load_amount: rupees loaded at issue (Decimal or string; optional).
    :param company_id: default: the connection's ``company_id``.
    :param card_account_id: default: the connection's ``card_account_id``.
    """

    operation = "create_prepaid_card"
    template_fields: Sequence[str] = ("card_holder", "load_amount", *ACCOUNT_FIELDS)
    is_gift_card = False

    def __init__(
        self,
        *,
        card_holder: dict[str, Any],
        load_amount: Decimal | str | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.card_holder = card_holder
        self.load_amount = load_amount
        self.company_id = company_id
        self.card_account_id = card_account_id

    def unsettled_reference(self) -> str | None:
        holder = self.card_holder if isinstance(self.card_holder, dict) else {}
        return f"cards of mobile {holder.get('mobile')}" if holder.get("mobile") else None

    def _holder(self) -> dict[str, Any]:
        if not isinstance(self.card_holder, dict):
            raise EnKashValidationError(
                "card_holder", "must be a dict of card-holder fields, e.g. {'first_name': ...}"
            )
        return self.card_holder

    def call_enkash(self, context: Context) -> Any:
        return self.hook.create_prepaid_card(
            load_amount=self.load_amount,
            company_id=self.company_id,
            card_account_id=self.card_account_id,
            **self._holder(),
        )

    def summarise(self, response: Any) -> dict[str, Any]:
        return {
            **pick(response, **_CARD_SUMMARY),
            "card_status": card_status_label(response),
            "is_gift_card": self.is_gift_card,
        }


class EnKashCreateGiftCardOperator(EnKashCreatePrepaidCardOperator):
    """Issue a non-reloadable gift card (Create Gift Card) under a GIFT card account. Not resent on failure.

    Same arguments as :class:`EnKashCreatePrepaidCardOperator`, but ``load_amount`` is required
    (a gift card cannot be loaded later) and ``card_account_id`` must be a GIFT account.
    The XCom value says ``is_gift_card: true``; pass it to the load operator's ``is_gift_card``.
    """

    operation = "create_gift_card"
    is_gift_card = True

    def __init__(self, *, load_amount: Decimal | str, **kwargs: Any) -> None:
        super().__init__(load_amount=load_amount, **kwargs)

    def call_enkash(self, context: Context) -> Any:
        if self.load_amount is None:  # a template may render to nothing
            raise EnKashValidationError("load_amount", "is required: a gift card cannot be loaded later")
        return self.hook.create_gift_card(
            load_amount=self.load_amount,
            company_id=self.company_id,
            card_account_id=self.card_account_id,
            **self._holder(),
        )
