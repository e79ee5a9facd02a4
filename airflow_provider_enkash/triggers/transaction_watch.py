"""What a transaction sensor or trigger watches, and how one poll reads it.

Two things can be watched:

* :class:`TransactionWatch` - one transaction, by ``enkash_transaction_id`` or by
  ``pg_reference_number`` (the load's ``uniqueReferenceNumber``) plus ``enkash_card_id``;
* :class:`WindowWatch` - every transaction in a ``[txn_date_from, txn_date_to)`` window,
  settled when none of them is still pending.

``poll(hook, statuses)`` makes blocking hook calls; ``arun_poll(watch.steps(statuses), client)``
makes the same calls with the async client (the trigger). Both return a
:class:`~airflow_provider_enkash.triggers.poll_outcome.PollResult`. A watch travels to the
triggerer as one value (:func:`watch_to_dict` / :func:`watch_from_dict`).
Transport errors (429, 5xx, connection) propagate, so the caller decides whether to poll again;
every record handed back is passed through :func:`redact_transaction`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash._client.reader import WindowTooDense, WindowWalk
from airflow_provider_enkash._client.settings import DEFAULT_SEARCH_CAP
from airflow_provider_enkash.exceptions import EnKashError, EnKashValidationError
from airflow_provider_enkash.hooks.card_api import format_txn_date
from airflow_provider_enkash.models import require_id, require_text
from airflow_provider_enkash.request_models.validators import positive_int
from airflow_provider_enkash.statuses import FAILURE, PENDING, SUCCESS
from airflow_provider_enkash.triggers.poll_outcome import (
    PollResult,
    PollState,
    PollSteps,
    redact_transaction,
    run_poll,
)

if TYPE_CHECKING:
    from airflow_provider_enkash.hooks.enkash import EnKashHook
    from airflow_provider_enkash.statuses import StatusSets

SAMPLE_SIZE = 5  # pending transaction ids a window's summary names
DEFAULT_MAX_RECORDS_PER_RESPONSE = DEFAULT_SEARCH_CAP  # a response this long may be truncated


@dataclass(frozen=True)
class TransactionWatch:
    """One transaction, by EnKash id or by load reference plus card.

    :param enkash_transaction_id: the EnKash transaction id (``enKashCardTransactionId``).
    :param pg_reference_number: the reference sent with the load (echoed as ``pgReferenceNumber``);
        needs ``enkash_card_id``.
    :param enkash_card_id: the card; required with ``pg_reference_number``, optional filter otherwise.
    :param company_id: defaults from the connection.
    :param card_account_id: defaults from the connection.
    """

    enkash_transaction_id: str | None = None
    pg_reference_number: str | None = None
    enkash_card_id: str | None = None
    company_id: str | None = None
    card_account_id: str | None = None

    def validated(self) -> TransactionWatch:
        """A copy with checked, stripped values; raise ``EnKashValidationError`` naming the field."""
        if self.enkash_transaction_id is None and self.pg_reference_number is None:
            raise EnKashValidationError(
                "enkash_transaction_id",
                "is required (or pass pg_reference_number together with enkash_card_id)",
            )
        if self.enkash_transaction_id is None and self.enkash_card_id is None:
            raise EnKashValidationError("enkash_card_id", "is required when waiting on pg_reference_number")
        return TransactionWatch(
            enkash_transaction_id=_optional_id(self.enkash_transaction_id, "enkash_transaction_id"),
            pg_reference_number=None
            if self.pg_reference_number is None
            else require_text(self.pg_reference_number, field="pg_reference_number"),
            enkash_card_id=_optional_id(self.enkash_card_id, "enkash_card_id"),
            company_id=_optional_id(self.company_id, "company_id"),
            card_account_id=_optional_id(self.card_account_id, "card_account_id"),
        )

    def describe(self) -> str:
        if self.enkash_transaction_id is not None:
            return f"transaction {self.enkash_transaction_id}"
        return f"transaction with reference {self.pg_reference_number!r} on card {self.enkash_card_id}"

    def poll(self, hook: EnKashHook, statuses: StatusSets) -> PollResult:
        """Search once (blocking) and classify the transaction's status."""
        return run_poll(self.steps(statuses), hook)

    def steps(self, statuses: StatusSets) -> PollSteps:
        """The poll as searches to run (see :func:`run_poll`): one search, then :meth:`classify`."""
        if self.enkash_transaction_id is not None:
            result = yield "get_all_transactions", self.search_filters()
            mine = self.matching(result["data"])
            if result["data"] and not mine:
                return self.ignored_filter()
            return self.classify(mine, statuses)
        assert self.enkash_card_id is not None and self.pg_reference_number is not None  # validated()
        records = yield (
            "get_transaction_details",
            {
                "enkash_card_id": self.enkash_card_id,
                "pg_reference_number": self.pg_reference_number,
                "company_id": self.company_id,
                "card_account_id": self.card_account_id,
            },
        )
        return self.classify(records, statuses)

    def search_filters(self) -> dict[str, Any]:
        """``get_all_transactions`` arguments finding this transaction by its EnKash id."""
        return {
            "enkash_transaction_ids": [self.enkash_transaction_id],
            "enkash_card_id": self.enkash_card_id,
            "company_id": self.company_id,
            "card_account_id": self.card_account_id,
        }

    def matching(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records of a search that are this transaction (a search may return others)."""
        return [r for r in records if r.get("enKashCardTransactionId") == self.enkash_transaction_id]

    def ignored_filter(self) -> PollResult:
        """The search answered records, none of them this transaction: it cannot say "not found"."""
        return PollResult(
            PollState.UNKNOWN,
            f"the search for {self.describe()} answered other transactions only (the id filter was "
            "not applied): its status is unknown; still waiting",
        )

    def classify(self, records: list[dict[str, Any]], statuses: StatusSets) -> PollResult:
        """What the records found for this transaction mean: not found, pending, success or failure."""
        if not records:
            return PollResult(PollState.NOT_FOUND, f"{self.describe()} not found at EnKash yet")
        credits = [r for r in records if r.get("cardTransactionType") == "CR"]
        candidates = credits or records
        if len(candidates) > 1:
            ids = sorted(str(r.get("enKashCardTransactionId")) for r in candidates)
            raise EnKashError(
                f"{self.describe()} is ambiguous: {len(candidates)} transactions match ({', '.join(ids)}); "
                "wait on enkash_transaction_id instead"
            )
        record = redact_transaction(candidates[0])
        status = record.get("status")
        name = f"transaction {record.get('enKashCardTransactionId')}"
        if self.pg_reference_number is not None:
            name += f" (reference {self.pg_reference_number!r})"
        kind = statuses.classify(status)
        if kind == SUCCESS:
            return PollResult(PollState.SUCCESS, f"{name} settled with status {status}", transaction=record)
        if kind == FAILURE:
            return PollResult(
                PollState.FAILURE, f"{name} settled with failure status {status}", transaction=record
            )
        if kind == PENDING:
            return PollResult(PollState.PENDING, f"{name} is still {status}", transaction=record)
        return PollResult(
            PollState.UNKNOWN,
            f"{name} has status {status!r}, which is none of the success, failure or pending words "
            "(connection extras success_statuses, failure_statuses, pending_statuses); still waiting",
            transaction=record,
        )


@dataclass(frozen=True)
class WindowWatch:
    """Every transaction in ``[txn_date_from, txn_date_to)``, optionally for one card, account or user.

    A response holding ``max_records_per_response`` records or fewer than ``recordsCount`` is
    taken as truncated: the window is read with the one window-halving algorithm,
    :class:`~airflow_provider_enkash._client.reader.WindowWalk` (first the whole window, then
    halves of a truncated one, adjacent sub-windows sharing their boundary millisecond), until
    every response is complete; a millisecond still truncated raises ``WindowTooDense``. A poll
    stops at the first pending transaction it sees.

    :param txn_date_from: window start, timezone-aware ISO-8601 (sent in UTC with milliseconds).
    :param txn_date_to: window end, after the start.
    :param max_records_per_response: records per response at which a response is assumed cut
        (default 1000).
    """

    txn_date_from: str
    txn_date_to: str
    enkash_card_id: str | None = None
    user_id: str | None = None
    company_id: str | None = None
    card_account_id: str | None = None
    max_records_per_response: int = DEFAULT_MAX_RECORDS_PER_RESPONSE

    def validated(self) -> WindowWatch:
        """A copy with the window in canonical UTC form; raise ``EnKashValidationError`` naming the field."""
        start = format_txn_date(self.txn_date_from, field="txn_date_from")
        end = format_txn_date(self.txn_date_to, field="txn_date_to")
        if _parse(end) <= _parse(start):
            raise EnKashValidationError("txn_date_to", f"{end} must be after txn_date_from {start}")
        limit = positive_int(self.max_records_per_response, field="max_records_per_response")
        return WindowWatch(
            txn_date_from=start,
            txn_date_to=end,
            enkash_card_id=_optional_id(self.enkash_card_id, "enkash_card_id"),
            user_id=_optional_id(self.user_id, "user_id"),
            company_id=_optional_id(self.company_id, "company_id"),
            card_account_id=_optional_id(self.card_account_id, "card_account_id"),
            max_records_per_response=limit,
        )

    def describe(self) -> str:
        filters = [f"{k}={v}" for k, v in (("card", self.enkash_card_id), ("user", self.user_id)) if v]
        suffix = f" ({', '.join(filters)})" if filters else ""
        return f"window [{self.txn_date_from}, {self.txn_date_to}){suffix}"

    def poll(self, hook: EnKashHook, statuses: StatusSets) -> PollResult:
        """Read the window (blocking); see :meth:`steps`."""
        return run_poll(self.steps(statuses), hook)

    def steps(self, statuses: StatusSets) -> PollSteps:
        """Read the window with :class:`~airflow_provider_enkash._client.reader.WindowWalk` (halving a
        sub-window while its answer may be truncated); pending if any record is not terminal.

        A possibly truncated answer that already holds a pending record is not re-read: the window is
        pending whatever the rest holds.
        """
        tally = _Tally()
        start, end = _parse(self.txn_date_from), _parse(self.txn_date_to)
        walk = WindowWalk(start, end, cap=self.max_records_per_response, first_span=end - start)
        while (window := walk.next_window()) is not None:
            result = yield (
                "get_all_transactions",
                {
                    "txn_date_from": window[0],
                    "txn_date_to": window[1],
                    "enkash_card_id": self.enkash_card_id,
                    "user_id": self.user_id,
                    "company_id": self.company_id,
                    "card_account_id": self.card_account_id,
                },
            )
            records = result["data"]
            try:
                complete = walk.take(result).complete
            except WindowTooDense:
                if not _any_pending(records, statuses):
                    raise
                complete = False
            if complete or _any_pending(records, statuses):
                tally.add(records, statuses)
            if tally.pending_ids:
                break
        summary = tally.summary(self)
        if tally.pending_ids:
            return PollResult(
                PollState.PENDING,
                f"{self.describe()}: still waiting for {tally.pending} of the {tally.total} transaction(s) read "
                f"so far ({', '.join(tally.pending_ids)}{', ...' if tally.pending > len(tally.pending_ids) else ''}); "
                f"by status {summary['by_status']}",
                summary=summary,
            )
        return PollResult(
            PollState.SUCCESS, f"{self.describe()}: all {tally.total} transaction(s) settled", summary=summary
        )


Watch = TransactionWatch | WindowWatch


def watch_to_dict(watch: Watch) -> dict[str, Any]:
    """The watch as one JSON-safe value: ``{"kind": "transaction" | "window", <its fields>}``."""
    kind = "window" if isinstance(watch, WindowWatch) else "transaction"
    return {"kind": kind, **asdict(watch)}


def watch_from_dict(value: Mapping[str, Any]) -> Watch:
    """The validated watch :func:`watch_to_dict` describes."""
    fields = dict(value)
    kind = fields.pop("kind", None)
    if kind == "window":
        return WindowWatch(**fields).validated()
    if kind == "transaction":
        return TransactionWatch(**fields).validated()
    raise EnKashValidationError("watch", f"kind must be 'transaction' or 'window', got {kind!r}")


@dataclass
class _Tally:
    """Counts by status of the records read; keeps only a few pending ids (memory stays flat)."""

    by_status: dict[str, int] = field(default_factory=dict)
    pending_ids: list[str] = field(default_factory=list)
    pending: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def add(self, records: list[dict[str, Any]], statuses: StatusSets) -> None:
        for record in records:
            status = str(record.get("status"))
            self.by_status[status] = self.by_status.get(status, 0) + 1
            if not statuses.is_terminal(status):
                self.pending += 1
                if len(self.pending_ids) < SAMPLE_SIZE:
                    self.pending_ids.append(f"{record.get('enKashCardTransactionId')} ({status})")

    def summary(self, watch: WindowWatch) -> dict[str, Any]:
        return {
            "txn_date_from": watch.txn_date_from,
            "txn_date_to": watch.txn_date_to,
            "transactions": self.total,
            "by_status": dict(sorted(self.by_status.items())),
            "pending_sample": list(self.pending_ids),
        }


def _any_pending(records: list[dict[str, Any]], statuses: StatusSets) -> bool:
    return any(not statuses.is_terminal(record.get("status")) for record in records)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _optional_id(value: Any, field: str) -> str | None:
    return None if value is None else require_id(value, field=field)


def make_watch(
    *,
    enkash_transaction_id: str | None = None,
    pg_reference_number: str | None = None,
    enkash_card_id: str | None = None,
    txn_date_from: str | None = None,
    txn_date_to: str | None = None,
    user_id: str | None = None,
    company_id: str | None = None,
    card_account_id: str | None = None,
    max_records_per_response: int = DEFAULT_MAX_RECORDS_PER_RESPONSE,
) -> TransactionWatch | WindowWatch:
    """A validated window watch when ``txn_date_from``/``txn_date_to`` are given, else a transaction watch."""
    if txn_date_from is not None or txn_date_to is not None:
        if enkash_transaction_id is not None or pg_reference_number is not None:
            raise EnKashValidationError(
                "txn_date_from", "cannot be combined with enkash_transaction_id or pg_reference_number"
            )
        if txn_date_from is None or txn_date_to is None:
            raise EnKashValidationError(
                "txn_date_from" if txn_date_from is None else "txn_date_to", "is required"
            )
        return WindowWatch(
            txn_date_from=txn_date_from,
            txn_date_to=txn_date_to,
            enkash_card_id=enkash_card_id,
            user_id=user_id,
            company_id=company_id,
            card_account_id=card_account_id,
            max_records_per_response=max_records_per_response,
        ).validated()
    if user_id is not None:
        raise EnKashValidationError("user_id", "filters windows only; pass txn_date_from and txn_date_to")
    return TransactionWatch(
        enkash_transaction_id=enkash_transaction_id,
        pg_reference_number=pg_reference_number,
        enkash_card_id=enkash_card_id,
        company_id=company_id,
        card_account_id=card_account_id,
    ).validated()
