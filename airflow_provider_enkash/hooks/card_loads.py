"""Load Card Balance without double-spending (DESIGN.md decision 1), mixed into ``EnKashHook``.

A load is never resent blindly. Attempts that EnKash refused before processing (429,
connection refused) are retried with backoff. After an attempt that may have reached EnKash
(timeout, dropped connection, 5xx, unreadable answer) the reference is looked up: found means
``already_loaded``; not found raises ``EnKashOutcomeUnknown`` carrying the reference, and is
never resent in the same call, because a timed-out request may still be processed after the
look-up. The next task retry looks the reference up first (``lookup_first``) and only then
loads. A credit found in a failure status raises ``EnKashTransactionFailed``: the reference
is spent and is not sent again.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.exceptions import (
    EnKashBusinessError,
    EnKashConnectionError,
    EnKashCryptoError,
    EnKashError,
    EnKashHTTPError,
    EnKashAuthError,
    EnKashOutcomeUnknown,
    EnKashRateLimitError,
    EnKashTransactionFailed,
    EnKashServerError,
    EnKashValidationError,
    may_have_taken_effect,
)
from airflow_provider_enkash.models import (
    CardTransactionType,
    LoadResult,
    drop_none,
    optional_text,
    parse_amount,
    require_id,
    require_text,
)
from airflow_provider_enkash.retry import backoff_seconds
from airflow_provider_enkash.statuses import StatusSets

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from airflow_provider_enkash.connection import EnKashSettings

_FAILED = StatusSets()  # the default failure statuses: FAILED, REVERSED, REJECTED
DEFAULT_LOAD_ATTEMPTS = 3


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _refused(exc: EnKashError) -> bool:
    """True for a 4xx other than 429: EnKash rejected the request, nothing moved, resending cannot help."""
    return (
        isinstance(exc, EnKashHTTPError)
        and not isinstance(exc, (EnKashRateLimitError, EnKashServerError))
        and 400 <= exc.status < 500
    )


class CardLoadMixin:
    """``load_card_balance`` and the reference look-up it settles outcomes with."""

    settings: EnKashSettings
    call: Callable[[str, dict[str, Any]], Any]
    log: logging.Logger
    _account: Callable[[str | None, str | None], dict[str, str]]
    get_transaction_details: Callable[..., list[dict[str, Any]]]

    def find_load(
        self,
        *,
        enkash_card_id: str,
        unique_reference_number: str,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> dict[str, Any] | None:
        """The credit transaction carrying ``unique_reference_number`` on the card, or None."""
        records = self.get_transaction_details(
            enkash_card_id=enkash_card_id,
            pg_reference_number=unique_reference_number,
            company_id=company_id,
            card_account_id=card_account_id,
        )
        credits = [r for r in records if r.get("cardTransactionType", "CR") == "CR"]
        if len(credits) > 1:
            self.log.warning(
                "Reference %s was applied %d times on card %s at EnKash", unique_reference_number, len(credits), enkash_card_id
            )
        # a credit that did not fail wins; a failed one is still returned, so the caller never resends the reference
        return next((r for r in credits if not _FAILED.is_failure(r.get("status"))), credits[0] if credits else None)

    def load_card_balance(
        self,
        *,
        enkash_card_id: str,
        amount: Decimal | str | int,
        unique_reference_number: str,
        type: str = "LOAD_MONEY",  # noqa: A002 - the API's field name
        transaction_code: str | None = None,
        description: str | None = None,
        remarks: str | None = None,
        created_by: str | None = None,
        lookup_first: bool = False,
        max_attempts: int = DEFAULT_LOAD_ATTEMPTS,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> LoadResult:
        """Move ``amount`` rupees from the card account onto a card. ``POST /api/v0/partner/enKashCard/balance``.

        :param unique_reference_number: your reference for this business item (at most 64 characters);
            reuse it on every retry, it is how an unclear outcome is settled.
        :param type: the load ``type`` (default ``LOAD_MONEY``; EnKash's examples also use ``ALLOCATE_FUND``).
        :param lookup_first: look the reference up before sending (set on task retries).
        :param max_attempts: sends at most (default 3); a resend happens only after attempts EnKash
            refused before processing (429, connection refused), never after one that may have reached it.
        :raises EnKashBusinessError: EnKash refused the load (nothing moved).
        :raises EnKashOutcomeUnknown: the load may or may not have happened; look up ``exc.reference``.
        """
        account = self._account(company_id, card_account_id)
        card_id = require_id(enkash_card_id, field="enKashCardId")
        reference = require_text(
            unique_reference_number, field="uniqueReferenceNumber", max_length=self.settings.reference_max_length
        )
        value = parse_amount(amount, field="amount", maximum=self.settings.max_load_amount)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise EnKashValidationError("max_attempts", f"must be a whole number >= 1, got {max_attempts!r}")
        payload = drop_none(
            {
                **account,
                "enKashCardId": card_id,
                "amount": value,
                "transactionType": CardTransactionType.CREDIT.value,
                "type": require_id(type, field="type"),
                "transactionCode": None if transaction_code is None else require_id(transaction_code, field="transactionCode"),
                "uniqueReferenceNumber": reference,
                "description": optional_text(description, field="description"),
                "remarks": optional_text(remarks, field="remarks"),
                "createdBy": optional_text(created_by, field="createdBy"),
            }
        )
        lookup = {"enkash_card_id": card_id, "unique_reference_number": reference, **_account_args(account)}
        if lookup_first and (found := self._settle(lookup)) is not None:
            return self._already_loaded(found, reference, card_id, value)
        for attempt in range(1, max_attempts + 1):
            try:
                result = self.call("load_card_balance", payload)
            except EnKashBusinessError:
                raise
            except (EnKashConnectionError, EnKashHTTPError, EnKashCryptoError) as exc:
                if _refused(exc):
                    raise
                self.log.warning("Load %s attempt %d/%d failed: %s", reference, attempt, max_attempts, exc)
                if may_have_taken_effect(exc):
                    # Never sent again in this call: a request that timed out may still be processed
                    # after any look-up. Found: settled. Not found: unknown, for a later retry to settle.
                    time.sleep(self.settings.load_lookup_delay_s)
                    if (found := self._settle(lookup)) is not None:
                        return self._already_loaded(found, reference, card_id, value)
                    raise EnKashOutcomeUnknown(
                        f"load {reference!r} of {value} to {card_id}: the request may have reached EnKash "
                        f"({exc.__class__.__name__}) and the reference is not found yet; look up "
                        f"pgReferenceNumber={reference!r} before loading again (a task retry does)",
                        reference=reference,
                        operation="load_card_balance",
                    ) from exc
                if attempt == max_attempts:
                    raise  # every attempt was refused before processing (429, connection refused)
                time.sleep(
                    backoff_seconds(attempt, max_wait_s=self.settings.max_retry_wait_s, retry_after=getattr(exc, "retry_after", None))
                )
                continue
            payload_dict = result if isinstance(result, dict) else {}
            _check_echoed_reference(payload_dict, reference, card_id, value)
            return LoadResult(
                outcome="loaded",
                unique_reference_number=reference,
                enkash_card_id=card_id,
                amount=value,
                enkash_transaction_id=payload_dict.get("enkashCardTxnId") or payload_dict.get("enKashCardTransactionId"),
                otb_balance=_decimal_or_none(payload_dict.get("otbBalance")),
                masked_number=payload_dict.get("maskedNumber"),
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _settle(self, lookup: dict[str, Any]) -> dict[str, Any] | None:
        """Look the reference up; a failing look-up leaves the outcome unknown."""
        try:
            return self.find_load(**lookup)
        except EnKashAuthError:
            raise  # a refused login is not an unknown outcome: stop before more logins lock the account
        except EnKashError as exc:
            raise EnKashOutcomeUnknown(
                f"could not look up load reference {lookup['unique_reference_number']!r}: {exc}",
                reference=lookup["unique_reference_number"],
                operation="load_card_balance",
            ) from exc

    def _already_loaded(self, found: dict[str, Any], reference: str, card_id: str, amount: Decimal) -> LoadResult:
        """The found credit as a result; a credit in a failure status raises instead (the reference is spent)."""
        status = found.get("status")
        if _FAILED.is_failure(status):
            raise EnKashTransactionFailed(
                f"load {reference!r} to {card_id} exists at EnKash as transaction "
                f"{found.get('enKashCardTransactionId')} with status {status}; not resent under the same "
                "reference. Load again under a new reference if the money is still owed",
                transaction_id=found.get("enKashCardTransactionId"),
                status=status,
            )
        self.log.info("Load %s already at EnKash as transaction %s; not sent again", reference, found.get("enKashCardTransactionId"))
        return LoadResult(
            outcome="already_loaded",
            unique_reference_number=reference,
            enkash_card_id=card_id,
            amount=_decimal_or_none(found.get("principalAmount")) or amount,
            enkash_transaction_id=found.get("enKashCardTransactionId"),
            transaction_status=found.get("status"),
            otb_balance=_decimal_or_none(found.get("balance")),
            masked_number=found.get("maskedCard"),
        )


def _check_echoed_reference(answer: dict[str, Any], reference: str, card_id: str, amount: Decimal) -> None:
    """A load answer echoing another ``pgReferenceNumber`` than the one sent is an unclear outcome."""
    echoed = answer.get("pgReferenceNumber")
    if echoed is not None and echoed != reference:
        raise EnKashOutcomeUnknown(
            f"load {reference!r} of {amount} to {card_id}: EnKash answered success but echoed another "
            f"pgReferenceNumber ({len(str(echoed))} characters, not the one sent); look up "
            f"pgReferenceNumber={reference!r} before loading again",
            reference=reference,
            operation="load_card_balance",
        )


def _account_args(account: dict[str, str]) -> dict[str, str]:
    return {"company_id": account["companyId"], "card_account_id": account["cardAccountId"]}
