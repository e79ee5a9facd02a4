"""Reading EnKash's transaction search without trusting what it may leave out.

The search is undocumented in the ways that matter for money: it may cap its
answer silently, ignore a filter, or name the reference field differently.
So one answer is read here, once, for every caller (loads, batches,
reconcile): a reference look-up answers :data:`FOUND`, :data:`ABSENT` or
:data:`UNKNOWN`, and it is *unknown* whenever the answer could hide the credit:

- ``recordsCount`` is larger than the rows returned, or the rows reach the cap
  (``search_cap`` extra): the answer may be truncated;
- a returned row carries another reference (the filter was ignored) or no
  reference field at all (``reference_fields`` extra: the fields tried, in order);
- the look-up itself failed.

A card-scoped look-up (``pgReferenceNumber`` + ``enKashCardId``) that is unknown
is retried once as the documented multi-reference search (``pgReferenceNumbers``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.exceptions import EnKashError, EnKashLoginRefused

if TYPE_CHECKING:
    from airflow_provider_enkash.hooks.enkash import EnKashHook

FOUND, ABSENT, UNKNOWN = "found", "absent", "unknown"


def reference_of(record: Mapping[str, Any], fields: Sequence[str]) -> str | None:
    """The load reference a record carries: the first of ``fields`` it has a value for."""
    for name in fields:
        value = record.get(name)
        if value not in (None, ""):
            return str(value)
    return None


def may_be_truncated(records_count: Any, returned: int, *, cap: int) -> bool:
    """True when an answer of ``returned`` rows may have left rows out (``recordsCount`` larger, or the cap reached)."""
    try:
        reported = int(records_count)
    except (TypeError, ValueError):
        reported = returned
    return reported > returned or returned >= cap


def is_credit(record: Mapping[str, Any]) -> bool:
    """A CR record (a record without ``cardTransactionType`` is taken as one: never miss a credit)."""
    return bool(record.get("cardTransactionType", "CR") == "CR")


@dataclass(frozen=True)
class ReferenceLookup:
    """What one look-up of a load reference proved.

    :param state: :data:`FOUND` (credits listed), :data:`ABSENT` (the answer proves there is none)
        or :data:`UNKNOWN` (the answer could hide it; ``reason`` says why).
    :param credits: the CR records carrying the reference (several = applied more than once).
    """

    reference: str
    state: str
    credits: tuple[dict[str, Any], ...] = field(default=())
    reason: str | None = None

    @property
    def found(self) -> bool:
        return self.state == FOUND

    @property
    def absent(self) -> bool:
        return self.state == ABSENT

    @property
    def unknown(self) -> bool:
        return self.state == UNKNOWN


def read_answer(
    answer: Mapping[str, Any], references: Iterable[str], *, fields: Sequence[str], cap: int
) -> dict[str, ReferenceLookup]:
    """Read one search answer (``{recordsCount, data}``) for ``references``; every one is unknown when
    the answer could hide rows."""
    wanted = list(dict.fromkeys(references))
    rows = list(answer.get("data") or [])

    def all_unknown(reason: str) -> dict[str, ReferenceLookup]:
        return {r: ReferenceLookup(r, UNKNOWN, reason=reason) for r in wanted}

    if may_be_truncated(answer.get("recordsCount"), len(rows), cap=cap):
        return all_unknown(
            f"the search answered {len(rows)} row(s) of recordsCount={answer.get('recordsCount')!r} "
            f"(cap {cap}): it may be truncated"
        )
    by_reference: dict[str, list[dict[str, Any]]] = {r: [] for r in wanted}
    for row in rows:
        reference = reference_of(row, fields)
        if reference is None:
            return all_unknown(f"a returned record carries none of the reference fields {list(fields)}")
        if reference not in by_reference:
            return all_unknown(
                "the search returned records of other references: it ignored the reference filter"
            )
        if is_credit(row):
            by_reference[reference].append(row)
    return {
        r: ReferenceLookup(r, FOUND, tuple(credits)) if credits else ReferenceLookup(r, ABSENT)
        for r, credits in by_reference.items()
    }


def look_up_reference(
    hook: EnKashHook,
    *,
    reference: str,
    enkash_card_id: str | None = None,
    company_id: str | None = None,
    card_account_id: str | None = None,
) -> ReferenceLookup:
    """Look ``reference`` up: card-scoped first (when a card is given), then the multi-reference search.

    Never raises for an EnKash failure (the answer is :data:`UNKNOWN`), except a refused login,
    which must stop the caller before more logins lock the account.
    """
    settings = hook.settings
    reasons: list[str] = []
    account = {"company_id": company_id, "card_account_id": card_account_id}
    searches: list[Any] = []
    if enkash_card_id is not None:
        searches.append(
            lambda: hook.get_transaction_details_answer(
                enkash_card_id=enkash_card_id, pg_reference_number=reference, **account
            )
        )
    searches.append(lambda: hook.get_all_transactions(pg_reference_numbers=[reference], **account))
    for search in searches:
        try:
            answer = search()
        except EnKashLoginRefused:
            raise
        except EnKashError as exc:
            reasons.append(f"the look-up failed: {type(exc).__name__}: {exc}")
            continue
        result = read_answer(answer, [reference], fields=settings.reference_fields, cap=settings.search_cap)[
            reference
        ]
        if not result.unknown:
            return result
        reasons.append(result.reason or "unknown")
    return ReferenceLookup(reference, UNKNOWN, reason="; ".join(reasons))


def look_up_references(
    hook: EnKashHook, references: Sequence[str], *, group_size: int
) -> dict[str, ReferenceLookup]:
    """Look many references up with the multi-reference search, ``group_size`` per call.

    A group whose answer is unknown is not guessed at: its references stay :data:`UNKNOWN` here and
    the caller may look them up one by one (:func:`look_up_reference`).
    """
    settings = hook.settings
    results: dict[str, ReferenceLookup] = {}
    for start in range(0, len(references), group_size):
        group = list(references[start : start + group_size])
        try:
            answer = hook.get_all_transactions(pg_reference_numbers=group)
        except EnKashLoginRefused:
            raise
        except EnKashError as exc:
            reason = f"the look-up failed: {type(exc).__name__}: {exc}"
            results.update({r: ReferenceLookup(r, UNKNOWN, reason=reason) for r in group})
            continue
        results.update(read_answer(answer, group, fields=settings.reference_fields, cap=settings.search_cap))
    return results
