"""Load Card Balance without double-spending (DESIGN.md decision 1): the settlement ``EnKashHook`` holds.

A load is never resent blindly. Attempts that EnKash refused before processing (429, connection
refused, a failed token call) are retried with backoff. After an attempt that may have reached
EnKash (timeout, dropped connection, 5xx, unreadable answer) the reference is looked up once
(:mod:`~airflow_provider_enkash._client.reader`): found settles it; absent or unknown raises
``EnKashOutcomeUnknown`` carrying the reference, and the load is never resent in the same call,
because a queued request may still be committed after the look-up. Deciding when an unclear
reference may be resent (the quiet period) is the caller's job:
:mod:`~airflow_provider_enkash.resend_gate`.

A found credit settles the load only when its status word is a success or pending word and its
amount is the requested one: a failure word raises ``EnKashTransactionFailed`` (the reference is
spent), another amount ``EnKashAmountMismatch``, an unknown word ``EnKashOutcomeUnknown``.
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash._client.reader import ReferenceLookup
from airflow_provider_enkash._client.retry import backoff_seconds
from airflow_provider_enkash.exceptions import (
    EnKashAmountMismatch,
    EnKashBusinessError,
    EnKashConnectionError,
    EnKashCryptoError,
    EnKashError,
    EnKashHTTPError,
    EnKashLoginRefused,
    EnKashOutcomeUnknown,
    EnKashRateLimitError,
    EnKashServerError,
    EnKashTransactionFailed,
    may_have_taken_effect,
)
from airflow_provider_enkash.models import LoadResult
from airflow_provider_enkash.statuses import FAILURE, UNKNOWN_STATUS

if TYPE_CHECKING:
    from airflow_provider_enkash.hooks.enkash import EnKashHook

DEFAULT_LOAD_ATTEMPTS = 3
LOADED = "loaded"
ALREADY_LOADED = "already_loaded"
RESENT_AFTER_UNKNOWN = "resent_after_unknown"


def _decimal_or_none(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _refused(exc: EnKashError) -> bool:
    """True for a 4xx other than 429: EnKash rejected the request, nothing moved, resending cannot help."""
    return (
        isinstance(exc, EnKashHTTPError)
        and not isinstance(exc, (EnKashRateLimitError, EnKashServerError))
        and 400 <= exc.status < 500
    )


def _not_sent(exc: EnKashError) -> bool:
    """True when the load request itself never left: the token call before it failed."""
    return getattr(exc, "operation", None) == "auth_token"


class LoadSettlement:
    """Sends a checked load and settles its outcome: the part of ``load_card_balance`` past validation.

    :param hook: the hook whose ``call``, ``settings`` and log it uses.
    """

    def __init__(self, hook: EnKashHook) -> None:
        self._hook = hook

    def send(
        self,
        payload: dict[str, Any],
        *,
        lookup_first: bool,
        resend_after_unknown: bool,
        max_attempts: int,
    ) -> LoadResult:
        """Send the checked Load Card Balance ``payload`` (see ``EnKashHook.load_card_balance``) and settle it."""
        hook, settings = self._hook, self._hook.settings
        card_id, value, reference = (
            payload["enKashCardId"],
            payload["amount"],
            payload["uniqueReferenceNumber"],
        )
        lookup_args = {
            "enkash_card_id": card_id,
            "unique_reference_number": reference,
            "company_id": payload["companyId"],
            "card_account_id": payload["cardAccountId"],
        }
        if lookup_first:
            lookup = self._hook.look_up_load(**lookup_args)
            if lookup.found:
                return self.settle_found(lookup, card_id=card_id, amount=value)
            if lookup.unknown:
                raise EnKashOutcomeUnknown(
                    f"load {reference!r}: the look-up before sending is unclear ({lookup.reason}); nothing sent",
                    reference=reference,
                    operation="load_card_balance",
                )
        for attempt in range(1, max_attempts + 1):
            try:
                result = hook.call("load_card_balance", payload)
            except EnKashBusinessError:
                raise
            except (EnKashConnectionError, EnKashHTTPError, EnKashCryptoError) as exc:
                if _refused(exc):
                    raise
                hook.log.warning("Load %s attempt %d/%d failed: %s", reference, attempt, max_attempts, exc)
                if may_have_taken_effect(exc) and not _not_sent(exc):
                    return self._settle_after_unclear_send(exc, lookup_args, card_id=card_id, amount=value)
                if attempt == max_attempts:
                    raise  # no attempt reached EnKash (429, connection refused, token call failed)
                time.sleep(
                    backoff_seconds(
                        attempt,
                        max_wait_s=settings.max_retry_wait_s,
                        retry_after=getattr(exc, "retry_after", None),
                    )
                )
                continue
            payload_dict = result if isinstance(result, dict) else {}
            _check_echoed_reference(payload_dict, reference, card_id, value)
            if resend_after_unknown:
                hook.log.warning(
                    "Load %s of %s to %s RESENT after an unclear earlier send (quiet period passed, look-ups absent)",
                    reference,
                    value,
                    card_id,
                )
            return LoadResult(
                outcome=RESENT_AFTER_UNKNOWN if resend_after_unknown else LOADED,
                unique_reference_number=reference,
                enkash_card_id=card_id,
                amount=value,
                enkash_transaction_id=payload_dict.get("enkashCardTxnId")
                or payload_dict.get("enKashCardTransactionId"),
                otb_balance=_decimal_or_none(payload_dict.get("otbBalance")),
                masked_number=payload_dict.get("maskedNumber"),
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _settle_after_unclear_send(
        self, exc: EnKashError, lookup_args: dict[str, Any], *, card_id: str, amount: Decimal
    ) -> LoadResult:
        """One look-up after a send that may have reached EnKash: found settles, anything else is unknown."""
        reference = lookup_args["unique_reference_number"]
        time.sleep(self._hook.settings.load_lookup_delay_s)
        try:
            lookup = self._hook.look_up_load(**lookup_args)
        except EnKashLoginRefused as refused:
            # money may have moved: the outcome is unknown, not "refused"
            raise EnKashOutcomeUnknown(
                f"load {reference!r}: sent, then the settling look-up could not log in ({refused})",
                reference=reference,
                operation="load_card_balance",
            ) from exc
        if lookup.found:
            return self.settle_found(lookup, card_id=card_id, amount=amount)
        raise EnKashOutcomeUnknown(
            f"load {reference!r} of {amount} to {card_id}: the request may have reached EnKash "
            f"({exc.__class__.__name__}) and the look-up is {lookup.state}"
            f"{f' ({lookup.reason})' if lookup.reason else ''}; not resent until the quiet period has passed "
            "and repeated look-ups prove it absent",
            reference=reference,
            operation="load_card_balance",
        ) from exc

    def settle_found(self, lookup: ReferenceLookup, *, card_id: str, amount: Decimal) -> LoadResult:
        """The found credit as ``already_loaded``; raises when it is not a settled load of ``amount``."""
        reference = lookup.reference
        statuses = self._hook.settings.statuses
        credits = lookup.credits
        found = next((r for r in credits if statuses.classify(r.get("status")) != FAILURE), credits[0])
        status, transaction_id = found.get("status"), found.get("enKashCardTransactionId")
        kind = statuses.classify(status)
        if kind == FAILURE:
            raise EnKashTransactionFailed(
                f"load {reference!r} to {card_id} exists at EnKash as transaction {transaction_id} with status "
                f"{status}; not resent under the same reference. Load again under a new reference if the money "
                "is still owed",
                transaction_id=transaction_id,
                status=status,
            )
        found_amount = _decimal_or_none(found.get("principalAmount"))
        if found_amount != amount:
            raise EnKashAmountMismatch(
                f"load {reference!r} to {card_id}: EnKash holds transaction {transaction_id} of {found_amount} "
                f"under this reference, the request is {amount}; not settled, nothing sent. A human decides "
                "(e.g. load the difference under a new reference)",
                reference=reference,
                requested=amount,
                found=found_amount,
                transaction_id=transaction_id,
            )
        if kind == UNKNOWN_STATUS:
            raise EnKashOutcomeUnknown(
                f"load {reference!r} to {card_id} exists at EnKash as transaction {transaction_id} in status "
                f"{status!r}, which is neither a success, failure nor pending word (connection extras "
                "success_statuses/failure_statuses/pending_statuses); not resent, not taken as loaded",
                reference=reference,
                operation="load_card_balance",
            )
        self._hook.log.info(
            "Load %s already at EnKash as transaction %s; not sent again", reference, transaction_id
        )
        return LoadResult(
            outcome=ALREADY_LOADED,
            unique_reference_number=reference,
            enkash_card_id=card_id,
            amount=amount,
            enkash_transaction_id=transaction_id,
            transaction_status=status,
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
