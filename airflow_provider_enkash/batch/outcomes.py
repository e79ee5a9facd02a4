"""What happened to each row of a batch, and the summary that goes to XCom.

Outcomes:

- ``loaded``: this batch's call moved the money;
- ``already_loaded``: the row's reference was found at EnKash, nothing was sent again;
- ``resent_after_unknown``: an earlier send was unclear; after the quiet period and repeated absent
  look-ups it was sent again and accepted (settled, but a human may want to check the card);
- ``failed``: EnKash refused the load or it was never sent; nothing moved, safe to retry;
- ``outcome_unknown``: the load may or may not have happened (``sent_at`` says when it was sent);
  it is not resent before the quiet period (:mod:`~airflow_provider_enkash.resend_gate`);
- ``amount_mismatch``: the reference is at EnKash (or in the ledger) with another amount
  (``enkash_amount``); never settled or resent automatically;
- ``sending``: written for every row just before it is sent; a row still in this state was being
  sent when its task died, so it is unclear to the next attempt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from airflow_provider_enkash.exceptions import EnKashError

LOADED = "loaded"
ALREADY_LOADED = "already_loaded"
FAILED = "failed"
OUTCOME_UNKNOWN = "outcome_unknown"
RESENT_AFTER_UNKNOWN = "resent_after_unknown"
AMOUNT_MISMATCH = "amount_mismatch"
SENDING = "sending"
OUTCOMES = (LOADED, ALREADY_LOADED, RESENT_AFTER_UNKNOWN, FAILED, OUTCOME_UNKNOWN, AMOUNT_MISMATCH)
SETTLED = frozenset({LOADED, ALREADY_LOADED, RESENT_AFTER_UNKNOWN})
UNCLEAR = frozenset({OUTCOME_UNKNOWN, SENDING})
SUMMARY_PROBLEM_ROWS = 20


@dataclass(frozen=True)
class RowOutcome:
    """The ledger record of one row.

    :param reference: the ``uniqueReferenceNumber`` sent (``batch_row_reference(batch_id, row_key)``).
    :param amount: rupees the row requests (never overwritten with what EnKash holds).
    :param error_code: EnKash's ``code`` for a refused load, or the error kind (e.g. ``EnKashAuthError``).
    :param error_message: what went wrong, without secrets or card data.
    :param recorded_at: ISO-8601 UTC time the outcome was recorded.
    :param sent_at: Unix time (s) of the latest send that may have reached EnKash (``sending``,
        ``outcome_unknown``): the start of the quiet period.
    :param absent_checks: look-ups since ``sent_at`` that proved the reference absent, spaced apart.
    :param last_absent_at: Unix time (s) of the latest of those.
    :param enkash_amount: rupees EnKash (or an earlier ledger record) holds, for ``amount_mismatch``.
    """

    batch_id: str
    row_key: str
    row_number: int
    reference: str
    enkash_card_id: str
    amount: Decimal
    outcome: str
    enkash_transaction_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    recorded_at: str | None = None
    sent_at: float | None = None
    absent_checks: int = 0
    last_absent_at: float | None = None
    enkash_amount: Decimal | None = None

    @property
    def settled(self) -> bool:
        """True when the money is known to be on the card (``loaded`` or ``already_loaded``)."""
        return self.outcome in SETTLED

    def to_record(self) -> dict[str, Any]:
        """A JSON-serialisable dict (amount as a string); every field is a scalar, so no deep copy."""
        record = {name: getattr(self, name) for name in self.__dataclass_fields__}
        record["amount"] = str(self.amount)
        record["enkash_amount"] = None if self.enkash_amount is None else str(self.enkash_amount)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RowOutcome:
        fields: dict[str, Any] = {name: record.get(name) for name in cls.__dataclass_fields__}
        fields["amount"] = Decimal(str(record["amount"]))
        fields["row_number"] = int(record["row_number"])
        fields["enkash_amount"] = (
            None if fields["enkash_amount"] is None else Decimal(str(fields["enkash_amount"]))
        )
        fields["absent_checks"] = int(fields["absent_checks"] or 0)
        for name in ("sent_at", "last_absent_at"):
            fields[name] = None if fields[name] is None else float(fields[name])
        for name in (
            "enkash_transaction_id",
            "error_code",
            "error_message",
            "recorded_at",
        ):
            fields[name] = None if fields[name] is None else str(fields[name])
        return cls(**fields)


def summarize(
    outcomes: Iterable[RowOutcome],
    *,
    batch_id: str,
    carried_over: int = 0,
    ledger: str | None = None,
) -> dict[str, Any]:
    """A small JSON-serialisable summary: counts per outcome, rupee totals, and the first problem rows.

    :param carried_over: rows settled by an earlier attempt (read from the ledger, not sent again).
    """
    outcomes = list(outcomes)
    counts = Counter(o.outcome for o in outcomes)
    settled_amount = sum((o.amount for o in outcomes if o.settled), Decimal(0))
    problems = [o for o in outcomes if not o.settled]
    return {
        "batch_id": batch_id,
        "rows": len(outcomes),
        "counts": {name: counts.get(name, 0) for name in OUTCOMES},
        "settled_amount": str(settled_amount),
        "unsettled_amount": str(sum((o.amount for o in problems), Decimal(0))),
        "carried_over_from_ledger": carried_over,
        "resent_after_unknown": [o.reference for o in outcomes if o.outcome == RESENT_AFTER_UNKNOWN],
        "ledger": ledger,
        "problem_rows": [
            {
                "row_number": o.row_number,
                "row_key": o.row_key,
                "reference": o.reference,
                "outcome": o.outcome,
                "error_code": o.error_code,
                "error_message": o.error_message,
                "amount": str(o.amount),
                "enkash_amount": None if o.enkash_amount is None else str(o.enkash_amount),
            }
            for o in sorted(problems, key=lambda o: o.row_number)[:SUMMARY_PROBLEM_ROWS]
        ],
    }


class BatchIncompleteError(EnKashError):
    """Some rows of a batch are not settled (``failed``, ``outcome_unknown``, ``amount_mismatch``).

    :param summary: the batch summary (also pushed to XCom under the key ``batch_summary``).
    """

    def __init__(self, message: str, *, summary: dict[str, Any]) -> None:
        self.summary = summary
        super().__init__(message)
