"""One card load as the load operator and the batch runner both send it: the hook call in one place."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from airflow_provider_enkash.hooks.enkash import EnKashHook
    from airflow_provider_enkash.models import LoadResult


class LoadTarget(Protocol):
    """What is loaded: a card, rupees and the card holder's remarks (a batch row, or the load operator)."""

    @property
    def enkash_card_id(self) -> str: ...

    @property
    def amount(self) -> Decimal | str: ...

    @property
    def remarks(self) -> str | None: ...


@dataclass(frozen=True)
class LoadTerms:
    """The load fields every load of one task shares (API ``type``, ``transactionCode``, ...).

    :param load_type: the load ``type`` (default ``LOAD_MONEY``).
    :param transaction_code, description, created_by: sent only when given.
    """

    load_type: str = "LOAD_MONEY"
    transaction_code: str | None = None
    description: str | None = None
    created_by: str | None = None


def send_load(
    hook: EnKashHook,
    target: LoadTarget,
    terms: LoadTerms,
    *,
    reference: str,
    lookup_first: bool,
    resend_after_unknown: bool,
    company_id: str | None = None,
    card_account_id: str | None = None,
) -> LoadResult:
    """One ``hook.load_card_balance`` of ``target`` with ``reference``; raises what the hook raises."""
    return hook.load_card_balance(
        enkash_card_id=target.enkash_card_id,
        amount=target.amount,
        unique_reference_number=reference,
        type=terms.load_type,
        transaction_code=terms.transaction_code,
        description=terms.description,
        remarks=target.remarks,
        created_by=terms.created_by,
        lookup_first=lookup_first,
        resend_after_unknown=resend_after_unknown,
        company_id=company_id,
        card_account_id=card_account_id,
    )
