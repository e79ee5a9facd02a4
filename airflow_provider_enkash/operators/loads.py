"""Load one card's balance without ever double-spending (DESIGN.md decision 1)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.models import check_bool
from airflow_provider_enkash.operators.base import EnKashBaseOperator
from airflow_provider_enkash.references import load_reference

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_enkash.models import LoadResult


class EnKashLoadCardBalanceOperator(EnKashBaseOperator):
    """Move ``amount`` rupees from the card account onto a card (Load Card Balance), exactly once.

    * The ``unique_reference_number`` is derived from dag_id, run_id, task_id and map index
      unless given, so every try of this task instance sends the same reference.
    * On a retry (try number > 1) the reference is looked up first, and an existing load is
      returned (``outcome: already_loaded``) instead of loading again. Within one try the hook
      settles timeouts and dropped connections the same way.
    * An outcome that cannot be settled raises ``EnKashOutcomeUnknown`` carrying the reference;
      the Airflow retry then looks it up before sending anything.
    * Gift cards cannot be loaded (EnKash refuses them). The load is refused before any call
      when the card is *known* to be a gift card: ``is_gift_card=True`` (e.g. the XCom of
      :class:`~airflow_provider_enkash.operators.cards.EnKashCreateGiftCardOperator`), or the
      card account it draws on is listed in ``gift_card_account_ids``. No call is spent to
      discover a card's type, because EnKash documents no card-type field.

    :param enkash_card_id: the card to credit.
    :param amount: rupees, ``Decimal`` or string (``"1500.00"``), >= 0.01 with at most 2 decimals.
    :param unique_reference_number: your reference for this load (at most 64 characters); default derived.
    :param type: the load ``type`` (default ``LOAD_MONEY``).
    :param transaction_code: optional ``transactionCode`` (e.g. ``ALLOCATION``).
    :param description: optional description. :param remarks: optional remarks.
    :param created_by: optional name of who loads.
    :param is_gift_card: the card is known to be a gift card: refuse (default False).
    :param gift_card_account_ids: card accounts known to be GIFT accounts (default none).
    :param company_id: default: the connection's ``company_id``.
    :param card_account_id: the account the money comes from; default: the connection's.

    XCom: ``outcome`` (``loaded``/``already_loaded``), ``unique_reference_number``,
    ``enkash_transaction_id``, ``enkash_card_id``, ``amount`` (string), ``transaction_status``,
    ``otb_balance`` and ``masked_number``: what a transaction sensor needs to wait on it.
    """

    operation = "load_card_balance"
    template_fields: Sequence[str] = (
        "enkash_card_id", "amount", "unique_reference_number", "type", "transaction_code",
        "description", "remarks", "created_by", "is_gift_card", "company_id", "card_account_id",
    )  # fmt: skip

    def __init__(
        self,
        *,
        enkash_card_id: str,
        amount: Decimal | str,
        unique_reference_number: str | None = None,
        type: str = "LOAD_MONEY",  # noqa: A002 - the API's field name
        transaction_code: str | None = None,
        description: str | None = None,
        remarks: str | None = None,
        created_by: str | None = None,
        is_gift_card: bool = False,
        gift_card_account_ids: Sequence[str] = (),
        company_id: str | None = None,
        card_account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.enkash_card_id = enkash_card_id
        self.amount = amount
        self.unique_reference_number = unique_reference_number
        self.type = type
        self.transaction_code = transaction_code
        self.description = description
        self.remarks = remarks
        self.created_by = created_by
        self.is_gift_card = is_gift_card
        if isinstance(gift_card_account_ids, str):
            raise EnKashValidationError("gift_card_account_ids", "must be a list of card account ids, not one string")
        self.gift_card_account_ids = frozenset(gift_card_account_ids)
        self.company_id = company_id
        self.card_account_id = card_account_id

    def _refuse_known_gift_card(self) -> None:
        if check_bool(self.is_gift_card, field="is_gift_card"):
            raise EnKashValidationError(
                "enKashCardId", f"{self.enkash_card_id!r} is a gift card (is_gift_card=True); gift cards cannot be loaded"
            )
        account = self.card_account_id if self.card_account_id is not None else self.hook.settings.card_account_id
        if account in self.gift_card_account_ids:
            raise EnKashValidationError(
                "cardAccountId", f"{account!r} is a GIFT card account (gift_card_account_ids); gift cards cannot be loaded"
            )

    def reference(self, context: Context) -> str:
        """The given ``unique_reference_number``, or the one derived from this task instance."""
        if self.unique_reference_number is not None:
            return self.unique_reference_number
        ti = context["ti"]
        return load_reference(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, map_index=ti.map_index)

    def call_enkash(self, context: Context) -> LoadResult:
        self._refuse_known_gift_card()
        reference = self.reference(context)
        retrying = context["ti"].try_number > 1
        self.log.info(
            "Loading card %s with reference %s%s",
            self.enkash_card_id,
            reference,
            " (retry: looking the reference up first)" if retrying else "",
        )
        return self.hook.load_card_balance(
            enkash_card_id=self.enkash_card_id,
            amount=self.amount,
            unique_reference_number=reference,
            type=self.type,
            transaction_code=self.transaction_code,
            description=self.description,
            remarks=self.remarks,
            created_by=self.created_by,
            lookup_first=retrying,
            company_id=self.company_id,
            card_account_id=self.card_account_id,
        )

    def summarise(self, response: LoadResult) -> dict[str, Any]:
        return response.to_xcom()
