"""Load one card's balance without ever double-spending (DESIGN.md decision 1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_enkash.batch.arguments import check_ledger_choice, check_on_unknown
from airflow_provider_enkash.batch.ledger import (
    DEFAULT_LEDGER_TABLE,
    BatchLedger,
    open_ledger,
)
from airflow_provider_enkash.batch.outcomes import (
    FAILED,
    OUTCOME_UNKNOWN,
    SENDING,
    UNCLEAR,
    RowOutcome,
)
from airflow_provider_enkash.card_data import json_safe
from airflow_provider_enkash.card_load import LoadTerms, send_load
from airflow_provider_enkash.exceptions import (
    EnKashBusinessError,
    EnKashOutcomeUnknown,
    EnKashValidationError,
)
from airflow_provider_enkash.models import check_bool, parse_amount
from airflow_provider_enkash.operators.base import EnKashBaseOperator
from airflow_provider_enkash.references import load_reference
from airflow_provider_enkash.resend_gate import (
    UnclearSend,
    now_s,
    quiet_period_seconds,
    step_unclear,
)
from airflow_provider_enkash.triggers.quiet_period import QuietPeriodTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_enkash.models import LoadResult

HUMAN_NEXT_STEP = (
    "Look the reference up in EnKash (EnKashGetTransactionDetailsOperator, pg_reference_number=<reference>). "
    "If the credit is there, nothing is owed; if it is truly absent, clear the task with on_unknown='wait': it "
    "resends only after the quiet period and two absent look-ups, reported as resent_after_unknown."
)


class EnKashLoadCardBalanceOperator(EnKashBaseOperator):
    """Move ``amount`` rupees from the card account onto a card (Load Card Balance), exactly once.

    * The ``unique_reference_number`` is derived from dag_id, run_id, task_id and map index
      unless given, so every try of this task instance sends the same reference.
    * On a retry (try number > 1) the reference is looked up first, and an existing load is
      returned (``outcome: already_loaded``) instead of loading again. Within one try the hook
      settles timeouts and dropped connections the same way.
    * An outcome that cannot be settled is *unclear*: with ``on_unknown="wait"`` (default) the
      task defers to the triggerer through the quiet period (``resend_quiet_period``), looks the
      reference up again, and resends only after two spaced absent look-ups, the last after the
      quiet period (``outcome: resent_after_unknown``). ``on_unknown="fail"`` fails at once.
    * The send time of an unclear reference survives a task retry on another worker when a ledger
      is given (``ledger_path`` or ``ledger_conn_id``, keyed by reference). Without one, a retry
      cannot know whether an earlier try sent, so it treats the reference as unclear from the
      moment it starts (safe, but a retry after a failure that never sent waits a quiet period).
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
    :param on_unknown: ``wait`` (default) or ``fail`` (``AirflowFailException`` naming the reference).
    :param resend_quiet_period: seconds or ``timedelta`` (default: the connection's, 15 minutes).
    :param ledger_path: a folder (any ``ObjectStoragePath``) remembering unclear sends by reference.
    :param ledger_conn_id: a common.sql connection for that, instead of ``ledger_path``.
    :param ledger_table: the ledger table (default ``enkash_batch_ledger``).

    XCom: ``outcome`` (``loaded``/``already_loaded``/``resent_after_unknown``), ``unique_reference_number``,
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
        on_unknown: str = "wait",
        resend_quiet_period: float | timedelta | None = None,
        ledger_path: Any = None,
        ledger_conn_id: str | None = None,
        ledger_table: str = DEFAULT_LEDGER_TABLE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.on_unknown = check_on_unknown(on_unknown)
        self.resend_quiet_period = resend_quiet_period
        check_ledger_choice(ledger_path=ledger_path, ledger_conn_id=ledger_conn_id, required=False)
        self.ledger_path = ledger_path
        self.ledger_conn_id = ledger_conn_id
        self.ledger_table = ledger_table
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
            raise EnKashValidationError(
                "gift_card_account_ids", "must be a list of card account ids, not one string"
            )
        self.gift_card_account_ids = frozenset(gift_card_account_ids)
        self.company_id = company_id
        self.card_account_id = card_account_id

    def _refuse_known_gift_card(self) -> None:
        if check_bool(self.is_gift_card, field="is_gift_card"):
            raise EnKashValidationError(
                "enKashCardId",
                f"{self.enkash_card_id!r} is a gift card (is_gift_card=True); gift cards cannot be loaded",
            )
        account = (
            self.card_account_id if self.card_account_id is not None else self.hook.settings.card_account_id
        )
        if account in self.gift_card_account_ids:
            raise EnKashValidationError(
                "cardAccountId",
                f"{account!r} is a GIFT card account (gift_card_account_ids); gift cards cannot be loaded",
            )

    def reference(self, context: Context) -> str:
        """The given ``unique_reference_number``, or the one derived from this task instance."""
        if self.unique_reference_number is not None:
            return self.unique_reference_number
        ti = context["ti"]
        map_index = -1 if ti.map_index is None else ti.map_index  # -1: not mapped, as Airflow stores it
        return load_reference(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, map_index=map_index)

    def _ledger(self) -> BatchLedger | None:
        if self.ledger_path is None and self.ledger_conn_id is None:
            return None
        return open_ledger(
            ledger_path=self.ledger_path, ledger_conn_id=self.ledger_conn_id, ledger_table=self.ledger_table
        )

    def _remember(self, ledger: BatchLedger | None, reference: str, outcome: str, **details: Any) -> None:
        """Record this reference's state in the ledger (keyed by reference), when one is given."""
        if ledger is None:
            return
        ledger.write(
            [
                RowOutcome(
                    batch_id=f"load/{reference}",
                    row_key=reference,
                    row_number=0,
                    reference=reference,
                    enkash_card_id=str(self.enkash_card_id),
                    amount=parse_amount(self.amount, field="amount"),
                    outcome=outcome,
                    **details,
                )
            ]
        )

    def _quiet_s(self) -> float:
        return quiet_period_seconds(
            self.resend_quiet_period, default=self.hook.settings.resend_quiet_period_s
        )

    def call_enkash(self, context: Context) -> LoadResult:
        self._refuse_known_gift_card()
        reference = self.reference(context)
        retrying = context["ti"].try_number > 1
        ledger = self._ledger()
        record = ledger.read(f"load/{reference}").get(reference) if ledger is not None else None
        if record is not None and record.outcome in UNCLEAR:
            return self._unclear(
                context,
                UnclearSend(
                    reference, record.sent_at or now_s(), record.absent_checks, record.last_absent_at
                ),
            )
        if record is None and retrying and ledger is None:
            # an earlier try may have sent it, and nothing remembers when: unclear from now on (conservative)
            return self._unclear(context, UnclearSend(reference, sent_at=now_s()))
        lookup_first = retrying or record is not None
        self.log.info(
            "Loading card %s with reference %s%s",
            self.enkash_card_id,
            reference,
            " (looking the reference up first)" if lookup_first else "",
        )
        self._remember(ledger, reference, SENDING, sent_at=now_s())
        try:
            result = self._send(reference, lookup_first=lookup_first, resend_after_unknown=False)
        except EnKashOutcomeUnknown as exc:
            self.log.warning("Load %s: outcome unclear: %s", reference, exc)
            unclear = UnclearSend(reference, sent_at=now_s())
            self._remember(
                ledger, reference, OUTCOME_UNKNOWN, sent_at=unclear.sent_at, error_message=str(exc)
            )
            return self._unclear(context, unclear)
        except EnKashBusinessError as exc:
            self._remember(
                ledger, reference, FAILED, error_code=str(exc.code), error_message=exc.enkash_message
            )
            raise
        self._remember(ledger, reference, result.outcome, enkash_transaction_id=result.enkash_transaction_id)
        return result

    def _send(self, reference: str, *, lookup_first: bool, resend_after_unknown: bool) -> LoadResult:
        return send_load(
            self.hook,
            self,
            LoadTerms(self.type, self.transaction_code, self.description, self.created_by),
            reference=reference,
            lookup_first=lookup_first,
            resend_after_unknown=resend_after_unknown,
            company_id=self.company_id,
            card_account_id=self.card_account_id,
        )

    def _unclear(self, context: Context, unclear: UnclearSend) -> LoadResult:
        """Settle an unclear reference through the quiet period: look up when due, else wait in the triggerer."""
        reference, quiet_s = unclear.reference, self._quiet_s()
        if self.on_unknown == "fail":
            raise AirflowFailException(
                f"load {reference!r} of {self.amount} to {self.enkash_card_id}: the outcome is unclear (sent at "
                f"{unclear.sent_at:.0f}, Unix time); not resent. {HUMAN_NEXT_STEP}"
            )
        ledger = self._ledger()
        if now_s() >= unclear.next_lookup_at(quiet_period_s=quiet_s):
            step = step_unclear(
                self.hook,
                unclear,
                enkash_card_id=self.enkash_card_id,
                amount=parse_amount(self.amount, field="amount"),
                quiet_period_s=quiet_s,
                resend=lambda: self._send(reference, lookup_first=True, resend_after_unknown=True),
            )
            if step.result is not None:
                self._remember(
                    ledger,
                    reference,
                    step.result.outcome,
                    enkash_transaction_id=step.result.enkash_transaction_id,
                )
                return step.result
            unclear = step.unclear
            self._remember(
                ledger, reference, OUTCOME_UNKNOWN, sent_at=unclear.sent_at, absent_checks=unclear.absent_checks,
                last_absent_at=unclear.last_absent_at, error_message=step.reason,
            )  # fmt: skip
        if unclear.gave_up(now=now_s(), quiet_period_s=quiet_s):
            raise AirflowFailException(
                f"load {reference!r}: look-ups proved nothing for three quiet periods; not resent. {HUMAN_NEXT_STEP}"
            )
        wake = unclear.next_lookup_at(quiet_period_s=quiet_s)
        self.log.warning(
            "Load %s unclear; waiting in the triggerer %.0f s before the next look-up",
            reference,
            wake - now_s(),
        )
        self.defer(
            trigger=QuietPeriodTrigger(moment=wake, state=asdict(unclear)),
            method_name="execute_after_quiet_period",
        )
        raise AssertionError("unreachable: defer raises")  # pragma: no cover

    def execute_after_quiet_period(self, context: Context, event: Any = None) -> dict[str, Any]:
        """Resume from the triggerer with what was known (the send time, the absent look-ups)."""
        state = (event or {}).get("state") or {}
        unclear = UnclearSend(**state) if state else UnclearSend(self.reference(context), sent_at=now_s())
        summary: dict[str, Any] = json_safe(self.summarise(self._unclear(context, unclear)))
        return summary

    def summarise(self, response: LoadResult) -> dict[str, Any]:
        return response.to_xcom()
