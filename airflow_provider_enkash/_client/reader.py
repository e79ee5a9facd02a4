"""Reading EnKash's transaction search without trusting what it may leave out.

The search is undocumented in the ways that matter for money: it may cap its
answer silently, ignore a filter, or name the reference field differently.
So one answer is read here, once, for every caller (loads, batches,
reconcile, exports): whether an answer may be truncated is
:func:`may_be_truncated`; a time window is read complete with :class:`WindowWalk`
(the one window-halving algorithm); a reference look-up answers :data:`FOUND`, :data:`ABSENT` or
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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash._client.settings import MAX_SPAN as MAX_SPAN  # re-exported: the reader's bounds
from airflow_provider_enkash._client.settings import MIN_SPAN as MIN_SPAN
from airflow_provider_enkash.exceptions import EnKashError, EnKashLoginRefused, EnKashUnexpectedResponse
from airflow_provider_enkash.request_models.transactions import GetTransactionDetails

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


def records_of(payload: Any, *, operation: str, single_object_key: str | None = None) -> dict[str, Any]:
    """A list answer as ``{"recordsCount": int, "data": [dict, ...]}``.

    Accepted: ``{recordsCount, data: [...]}``, a bare list, ``null`` (no records) and, when
    ``single_object_key`` is given, one object carrying that key (Get Card Details' shape B).

    :raises EnKashUnexpectedResponse: any other shape (a string, a number, records that are not objects).
    """
    if payload is None:
        return {"recordsCount": 0, "data": []}
    if (
        isinstance(payload, dict)
        and "data" not in payload
        and single_object_key
        and single_object_key in payload
    ):
        return {"recordsCount": 1, "data": [payload]}
    data = payload.get("data") if isinstance(payload, dict) else payload
    if data is None and isinstance(payload, dict) and "recordsCount" in payload:
        data = []  # {"recordsCount": 0} without data: nothing matched
    if not isinstance(data, list) or not all(isinstance(record, dict) for record in data):
        raise EnKashUnexpectedResponse(
            f"expected a list of records or {{recordsCount, data: [...]}}, got {type(payload).__name__}"
            + (f" with data of type {type(data).__name__}" if isinstance(payload, dict) else ""),
            operation=operation,
        )
    count = payload.get("recordsCount") if isinstance(payload, dict) else None
    return {
        "recordsCount": count if isinstance(count, int) and not isinstance(count, bool) else len(data),
        "data": data,
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
            lambda: records_of(
                hook.call(
                    "get_transaction_details",
                    GetTransactionDetails.build(
                        settings, enkash_card_id=enkash_card_id, pg_reference_number=reference, **account
                    ).payload(),
                ),
                operation="get_transaction_details",
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


# -- windows: the one window-halving algorithm ----------------------------------------------------

_TARGET_FILL = 0.75  # aim each sub-window at 3/4 of the cap: room for bursts


class WindowTooDense(EnKashError):
    """A one-millisecond window still answers a possibly truncated search: it cannot be split further.

    :param start: the window's start (UTC).
    :param returned: rows the last answer held.
    """

    def __init__(self, message: str, *, start: datetime, returned: int) -> None:
        super().__init__(message)
        self.start = start
        self.returned = returned


def window_middle(start: datetime, end: datetime) -> datetime | None:
    """The millisecond-aligned middle of ``[start, end)``; None when the window cannot be split."""
    middle = start + (end - start) / 2
    middle -= timedelta(microseconds=middle.microsecond % 1000)
    return middle if middle > start else None


@dataclass(frozen=True)
class WindowPart:
    """One sub-window's answer as :class:`WindowWalk` read it.

    :param start: sub-window start (UTC); :param end: its end.
    :param records: the rows returned.
    :param complete: False when the answer may be truncated: the sub-window is split and read again,
        so ``records`` are not all of it.
    """

    start: datetime
    end: datetime
    records: list[dict[str, Any]]
    complete: bool


class WindowWalk:
    """Walks ``[start, end)`` in sub-windows until every one has been read complete; no I/O.

    Ask :meth:`next_window` for the sub-window to search (``txn_date_from``/``txn_date_to``), give
    its answer (``{recordsCount, data}``) to :meth:`take`. An answer that may be truncated
    (:func:`may_be_truncated`: ``recordsCount`` larger than the rows, or ``cap`` rows) is not
    trusted: its sub-window is halved and read again, down to one millisecond, after which
    :class:`WindowTooDense` is raised rather than rows dropped. After a complete sub-window the next
    span aims at 3/4 of ``cap``, changing at most 2x per step, between 1 ms and 1 day. Adjacent
    sub-windows share their boundary millisecond, so nothing is missed whether EnKash reads
    ``txnDateTo`` as inclusive or exclusive (a row on the boundary may come twice).

    :param start: window start, aware. :param end: window end, after ``start``.
    :param cap: rows per answer at which an answer is taken as possibly truncated: the smaller of
        the caller's limit and the connection's ``search_cap``.
    :param first_span: span of the first sub-window (default: the whole window, at most 1 day).
    """

    def __init__(
        self, start: datetime, end: datetime, *, cap: int, first_span: timedelta | None = None
    ) -> None:
        self.end = end
        self.cap = cap
        self.covered_until = start  # every row before it has been read
        self._span = min(first_span or MAX_SPAN, end - start)
        self._current: tuple[datetime, datetime] | None = None

    def next_window(self) -> tuple[datetime, datetime] | None:
        """The sub-window to search next, or None when the whole window has been read."""
        if self.covered_until >= self.end:
            return None
        self._current = (self.covered_until, min(self.covered_until + self._span, self.end))
        return self._current

    def skip(self) -> None:
        """The sub-window :meth:`next_window` gave was read another way (paged): move past it, same span."""
        if self._current is None:
            raise RuntimeError("skip() without next_window()")
        self.covered_until, self._current = self._current[1], None

    def take(self, answer: Mapping[str, Any]) -> WindowPart:
        """Read the answer of the sub-window :meth:`next_window` gave.

        :raises WindowTooDense: a one-millisecond sub-window answered a possibly truncated search.
        """
        if self._current is None:
            raise RuntimeError("take() without next_window()")
        (start, end), self._current = self._current, None
        records = list(answer.get("data") or [])
        if may_be_truncated(answer.get("recordsCount"), len(records), cap=self.cap):
            middle = window_middle(start, end)
            if middle is None:
                raise WindowTooDense(
                    f"the search still answers {len(records)} row(s) (cap {self.cap}, recordsCount="
                    f"{answer.get('recordsCount')!r}) for the millisecond at {start.isoformat()}: it cannot be "
                    "split further without dropping rows",
                    start=start,
                    returned=len(records),
                )
            self._span = middle - start
            return WindowPart(start, end, records, complete=False)
        self.covered_until = end
        self._span = _next_span(end - start, len(records), self.cap)
        return WindowPart(start, end, records, complete=True)


def _next_span(span: timedelta, count: int, cap: int) -> timedelta:
    """Span for the next sub-window: aim at 3/4 of the cap, change at most 2x per step."""
    target = cap * _TARGET_FILL
    factor = 2.0 if count == 0 else min(2.0, max(0.5, target / count))
    return min(MAX_SPAN, max(MIN_SPAN, span * factor))
