"""Reconcile a batch's ledger with EnKash: every reference, looked up, compared row by row.

References are searched in groups (``pgReferenceNumbers`` on the transaction
search); a group whose answer looks truncated (``recordsCount`` above the
records returned) is looked up one reference at a time instead. Verdicts:

- ``matched``: the ledger says settled, EnKash holds exactly one credit of the same amount;
- ``missing_at_enkash``: the ledger says settled, EnKash has no credit with the reference;
- ``moved_but_not_settled_in_ledger``: the ledger says failed or unknown, yet EnKash holds the credit;
- ``not_loaded``: the ledger says failed or unknown and EnKash has nothing (consistent; retry the batch);
- ``duplicate``: the reference was credited more than once;
- ``amount_mismatch``: the credit's amount differs from the ledger's;
- ``failed_at_enkash``: the credit settled in a failure status (e.g. ``FAILED``, ``REVERSED``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.batch.outcomes import RowOutcome
from airflow_provider_enkash.statuses import StatusSets

if TYPE_CHECKING:
    from airflow_provider_enkash.hooks.enkash import EnKashHook

DEFAULT_GROUP_SIZE = 200
DEFAULT_TRUNCATION_LIMIT = 1000  # records per search response at which EnKash is assumed to have cut it
REPORT_ROWS = 50
CONSISTENT = frozenset({"matched", "not_loaded"})


def _credits_by_reference(
    hook: EnKashHook, references: list[str], *, group_size: int, truncation_limit: int = DEFAULT_TRUNCATION_LIMIT
) -> dict[str, list[dict[str, Any]]] | None:
    """Credits found per reference, or None when an answer was (or may have been) truncated."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(references), group_size):
        group = references[start : start + group_size]
        answer = hook.get_all_transactions(pg_reference_numbers=group, card_transaction_type="CR")
        wanted = set(group)
        records = [r for r in answer["data"] if r.get("pgReferenceNumber") in wanted]
        if int(answer.get("recordsCount") or 0) > len(answer["data"]) or len(answer["data"]) >= truncation_limit:
            return None
        for record in records:
            found[record["pgReferenceNumber"]].append(record)
    return found


def _verdict(entry: RowOutcome, credits: list[dict[str, Any]], statuses: StatusSets) -> str:
    if not credits:
        return "missing_at_enkash" if entry.settled else "not_loaded"
    if len(credits) > 1:
        return "duplicate"
    credit = credits[0]
    if Decimal(str(credit.get("principalAmount"))) != entry.amount:
        return "amount_mismatch"
    if statuses.is_failure(credit.get("status")):
        return "failed_at_enkash"
    return "matched" if entry.settled else "moved_but_not_settled_in_ledger"


def reconcile_ledger(
    hook: EnKashHook,
    entries: Iterable[RowOutcome],
    *,
    statuses: StatusSets | None = None,
    group_size: int = DEFAULT_GROUP_SIZE,
) -> dict[str, Any]:
    """Compare ledger rows with EnKash's credits by reference (read calls only).

    :param entries: the ledger rows of a batch (e.g. ``ledger.read(batch_id).values()``).
    :param statuses: which transaction statuses count as success and failure (default ``StatusSets()``).
    :param group_size: references per search call (default 200).
    :return: ``{"rows", "verdicts": {verdict: count}, "consistent": bool, "pending": int,
        "settled_amount_at_enkash", "problems": [...]}``.
    """
    statuses = statuses or StatusSets()
    entries = sorted(entries, key=lambda e: e.row_number)
    credits = _credits_by_reference(hook, [e.reference for e in entries], group_size=group_size)
    if credits is None:  # a truncated search: one look-up per reference instead
        credits = {}
        for e in entries:
            match = hook.get_transaction_details(enkash_card_id=e.enkash_card_id, pg_reference_number=e.reference)
            credits[e.reference] = [r for r in match if r.get("cardTransactionType", "CR") == "CR"]
    verdicts: Counter[str] = Counter()
    problems = []
    pending = 0
    at_enkash = Decimal(0)
    for entry in entries:
        found = credits.get(entry.reference, [])
        verdict = _verdict(entry, found, statuses)
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
