"""Reconcile a batch's ledger with EnKash: every reference, looked up, compared row by row.

References are read with :mod:`~airflow_provider_enkash.transaction_reader`:
in groups (``pgReferenceNumbers``), and one at a time for every reference a
group's answer could hide (truncated, unfiltered, unknown reference fields).
Status words come from the connection (``success_statuses``, ...). Verdicts:

- ``matched``: the ledger says settled, EnKash holds exactly one credit of the same amount;
- ``missing_at_enkash``: the ledger says settled, EnKash has no credit with the reference;
- ``moved_but_not_settled_in_ledger``: the ledger says failed or unknown, yet EnKash holds the credit;
- ``not_loaded``: the ledger says failed or unknown and EnKash has nothing (consistent; retry the batch);
- ``duplicate``: the reference was credited more than once;
- ``amount_mismatch``: the credit's amount differs from the ledger's;
- ``pending_at_enkash``: the ledger says settled, EnKash holds the credit in a pending status
  (e.g. ``CREATED``): accepted, not settled, it may still fail. Not consistent: reconcile after
  settlement (:func:`reconcile_when_settled` waits for it);
- ``failed_at_enkash``: the credit settled in a failure status (e.g. ``FAILED``, ``REVERSED``);
- ``unknown_status``: the credit's status word is neither a success, failure nor pending word;
- ``unknown_at_enkash``: EnKash's answers could hide the credit even one reference at a time.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.batch.outcomes import RowOutcome
from airflow_provider_enkash.statuses import FAILURE, PENDING, UNKNOWN_STATUS, StatusSets
from airflow_provider_enkash.transaction_reader import (
    ReferenceLookup,
    look_up_reference,
    look_up_references,
)

if TYPE_CHECKING:
    from airflow_provider_enkash.hooks.enkash import EnKashHook

log = logging.getLogger(__name__)

DEFAULT_GROUP_SIZE = 200
REPORT_ROWS = 50
CONSISTENT = frozenset({"matched", "not_loaded"})
PENDING_AT_ENKASH = "pending_at_enkash"
DEFAULT_SETTLE_POLL_S = 30.0


def _credits_by_reference(
    hook: EnKashHook, entries: list[RowOutcome], *, group_size: int
) -> dict[str, ReferenceLookup]:
    """What EnKash proves about each entry's reference: grouped look-ups, then one by one where unknown."""
    lookups = look_up_references(hook, [e.reference for e in entries], group_size=group_size)
    for entry in entries:
        if lookups[entry.reference].unknown:
            lookups[entry.reference] = look_up_reference(
                hook, reference=entry.reference, enkash_card_id=entry.enkash_card_id
            )
    return lookups


def _verdict(entry: RowOutcome, lookup: ReferenceLookup, statuses: StatusSets) -> str:
    if lookup.unknown:
        return "unknown_at_enkash"
    credits = lookup.credits
    if not credits:
        return "missing_at_enkash" if entry.settled else "not_loaded"
    if len(credits) > 1:
        return "duplicate"
    credit = credits[0]
    if Decimal(str(credit.get("principalAmount"))) != entry.amount:
        return "amount_mismatch"
    kind = statuses.classify(credit.get("status"))
    if kind == FAILURE:
        return "failed_at_enkash"
    if kind == UNKNOWN_STATUS:
        return "unknown_status"
    if not entry.settled:
        return "moved_but_not_settled_in_ledger"
    return PENDING_AT_ENKASH if kind == PENDING else "matched"


def reconcile_ledger(
    hook: EnKashHook,
    entries: Iterable[RowOutcome],
    *,
    statuses: StatusSets | None = None,
    group_size: int = DEFAULT_GROUP_SIZE,
) -> dict[str, Any]:
    """Compare ledger rows with EnKash's credits by reference (read calls only).

    :param entries: the ledger rows of a batch (e.g. ``ledger.read(batch_id).values()``).
    :param statuses: which transaction statuses count as success, failure and pending (default: the
        connection's ``success_statuses``/``failure_statuses``/``pending_statuses`` extras).
    :param group_size: references per search call (default 200).
    :return: ``{"rows", "verdicts": {verdict: count}, "consistent": bool, "pending": int,
        "settled_amount_at_enkash", "problems": [...]}``.
    """
    statuses = statuses or hook.settings.statuses
    entries = sorted(entries, key=lambda e: e.row_number)
    lookups = _credits_by_reference(hook, entries, group_size=group_size)
    verdicts: Counter[str] = Counter()
    problems = []
    pending = 0
    at_enkash = Decimal(0)
    for entry in entries:
        found = list(lookups[entry.reference].credits)
        verdict = _verdict(entry, lookups[entry.reference], statuses)
        verdicts[verdict] += 1
        if found and not statuses.is_failure(found[0].get("status")):
            at_enkash += sum((Decimal(str(r.get("principalAmount"))) for r in found), Decimal(0))
            pending += not statuses.is_terminal(found[0].get("status"))
        if verdict not in CONSISTENT:
            problems.append(
                {
                    "row_number": entry.row_number,
                    "row_key": entry.row_key,
                    "reference": entry.reference,
                    "ledger_outcome": entry.outcome,
                    "verdict": verdict,
                    "ledger_amount": str(entry.amount),
                    "enkash_amounts": [str(r.get("principalAmount")) for r in found],
                    "enkash_transaction_ids": [r.get("enKashCardTransactionId") for r in found],
                }
            )
    return {
        "rows": len(entries),
        "verdicts": dict(verdicts),
        "consistent": not problems,
        "pending": pending,
        "settled_amount_at_enkash": str(at_enkash),
        "problems": problems[:REPORT_ROWS],
    }


def reconcile_when_settled(
    hook: EnKashHook,
    entries: Iterable[RowOutcome],
    *,
    settle_timeout_s: float,
    poll_interval_s: float = DEFAULT_SETTLE_POLL_S,
    statuses: StatusSets | None = None,
    group_size: int = DEFAULT_GROUP_SIZE,
) -> dict[str, Any]:
    """:func:`reconcile_ledger`, repeated every ``poll_interval_s`` seconds (default 30) while credits are
    still pending at EnKash, for at most ``settle_timeout_s`` seconds; credits still pending then stay
    ``pending_at_enkash`` problems. A credit accepted a moment ago is not yet money paid."""
    entries = list(entries)
    deadline = time.monotonic() + settle_timeout_s
    while True:
        result = reconcile_ledger(hook, entries, statuses=statuses, group_size=group_size)
        waiting = result["verdicts"].get(PENDING_AT_ENKASH, 0)
        left = deadline - time.monotonic()
        if not waiting or left <= 0:
            return result
        log.info(
            "%d credit(s) still pending at EnKash; reconciling again in %.0f s", waiting, poll_interval_s
        )
        time.sleep(min(poll_interval_s, left))
