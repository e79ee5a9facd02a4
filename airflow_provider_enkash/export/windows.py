"""Half-open export windows and reading one window from EnKash without losing records.

EnKash documents no pagination for ``/transaction/all`` and may silently cap
a response (REFERENCE.md section 9.17). :class:`WindowReader` reads a window
through the transaction reader's :class:`~airflow_provider_enkash._client.reader.WindowWalk`:
an answer holding ``min(truncation_limit, search_cap)`` records (the connection's
``search_cap`` extra is the server's cap when it is lower), or reporting a larger
``recordsCount``, is not trusted: its sub-window is halved and read again, down to
one millisecond, after which the export fails rather than drop records. When the
API honours ``page``/``size`` (``page_size`` set and confirmed on first use) a
sub-window is paged instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_provider_enkash._client.reader import WindowTooDense, WindowWalk
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.export.arguments import check_read_settings  # noqa: F401  (its old import path)
from airflow_provider_enkash.export.errors import EnKashExportError
from airflow_provider_enkash.export.timestamps import format_utc

if TYPE_CHECKING:
    from airflow_provider_enkash.hooks.enkash import EnKashHook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    """The half-open UTC interval ``[start, end)``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise EnKashValidationError(name, f"must be a timezone-aware datetime, got {value!r}")
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.start >= self.end:
            raise EnKashValidationError("end", f"window end {self.end} is not after its start {self.start}")

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    def label(self) -> str:
        """``20250123T000000Z_20250124T000000Z``: safe in file and object names."""
        return f"{self.start:%Y%m%dT%H%M%SZ}_{self.end:%Y%m%dT%H%M%SZ}"

    def to_xcom(self) -> dict[str, str]:
        return {
            "window_start": format_utc(self.start),
            "window_end": format_utc(self.end),
        }


def export_window(
    interval_start: datetime,
    interval_end: datetime,
    *,
    lookback: timedelta = timedelta(0),
    day_boundaries: str | None = "UTC",
) -> Window:
    """The window an export run covers: the data interval, snapped to whole days, widened by ``lookback``.

    :param interval_start: the run's ``data_interval_start`` (aware).
    :param interval_end: the run's ``data_interval_end`` (aware).
    :param lookback: re-read this much before the interval so late status changes are picked up (default 0).
    :param day_boundaries: IANA zone whose midnights bound the window, ``"UTC"`` (default) or e.g.
        ``"Asia/Kolkata"``; both ends are floored to midnight there. ``None`` keeps the interval as is
        (for sub-daily schedules).
    """
    if not isinstance(lookback, timedelta) or lookback < timedelta(0):
        raise EnKashValidationError("lookback", f"must be a non-negative timedelta, got {lookback!r}")
    start, end = Window(interval_start, interval_end).start, interval_end
    if day_boundaries is not None:
        try:
            zone = ZoneInfo(day_boundaries)
        except (ZoneInfoNotFoundError, ValueError):
            raise EnKashValidationError(
                "day_boundaries", f"{day_boundaries!r} is not an IANA time zone"
            ) from None
        start, end = _midnight(start, zone), _midnight(end, zone)
        if start >= end:
            raise EnKashValidationError(
                "day_boundaries",
                f"the interval {interval_start} - {interval_end} does not span a midnight in {day_boundaries}; "
                "use day_boundaries=None for sub-daily schedules",
            )
    return Window(start - lookback, end)


def _midnight(value: datetime, zone: ZoneInfo) -> datetime:
    local = value.astimezone(zone)
    return datetime(local.year, local.month, local.day, tzinfo=zone).astimezone(UTC)


@dataclass
class ReadStats:
    """What reading a window cost: API requests, complete sub-windows, bisections, pages, records."""

    requests: int = 0
    sub_windows: int = 0
    bisections: int = 0
    pages: int = 0
    records: int = 0
    paging: bool = False

    def to_xcom(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class WindowReader:
    """Reads every transaction of a window, one complete sub-window (or page) at a time.

    :param hook: the EnKash hook used for ``get_all_transactions``.
    :param truncation_limit: the most records one response may hold; a response this full is
        treated as truncated (default 1000, the sandbox's and the safest assumption).
    :param initial_sub_window: span of the first request; later spans adapt between 1 ms and 1 day
        (default 1 hour).
    :param page_size: ask for ``page``/``size`` paging with this page size (at most
        ``truncation_limit``); ``None`` (default) never sends them. If the API turns out to ignore
        them the reader falls back to bisection.
    :param search_filters: extra keyword arguments for ``get_all_transactions`` (e.g.
        ``card_account_id``).
    """

    hook: EnKashHook
    truncation_limit: int = 1000
    initial_sub_window: timedelta = timedelta(hours=1)
    page_size: int | None = None
    search_filters: dict[str, Any] = field(default_factory=dict)
    stats: ReadStats = field(default_factory=ReadStats)

    def __post_init__(self) -> None:
        check_read_settings(
            truncation_limit=self.truncation_limit,
            initial_sub_window=self.initial_sub_window,
            page_size=self.page_size,
        )
        self._paging: bool | None = None if self.page_size else False  # None: not yet confirmed
        self._last_reported: int | None = None  # recordsCount of the latest response, when an int
        self.covered_until: datetime | None = None  # everything before it has been read (progress lines)

    @property
    def cap(self) -> int:
        """Rows per answer taken as possibly truncated: ``truncation_limit`` or the connection's lower ``search_cap``."""
        return min(self.truncation_limit, self.hook.settings.search_cap)

    def batches(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        """Yield the records of ``window`` in time order of sub-windows; every record at least once."""
        walk = WindowWalk(window.start, window.end, cap=self.cap, first_span=self.initial_sub_window)
        while (bounds := walk.next_window()) is not None:
            self.covered_until = walk.covered_until
            sub = Window(*bounds)
            if self._paging is not False:
                yield from self._pages(sub)
                walk.skip()
                continue
            try:
                part = walk.take(self._search(sub))
            except WindowTooDense as exc:
                raise EnKashExportError(
                    f"more than {walk.cap - 1} transactions in the millisecond at {format_utc(exc.start)}: "
                    "cannot split further without dropping records; raise truncation_limit (and the "
                    "connection's search_cap) if the API allows more per response, or enable page_size if it "
                    "honours paging"
                ) from None
            if not part.complete:
                self.stats.bisections += 1
                log.debug("Response for %s - %s looks truncated; bisecting", sub.start, sub.end)
                continue
            self._count(part.records)
            yield part.records

    def _count(self, records: list[dict[str, Any]]) -> None:
        self.stats.sub_windows += 1
        self.stats.records += len(records)

    def _search(self, sub: Window, page: int | None = None) -> dict[str, Any]:
        self.stats.requests += 1
        paged = {} if page is None else {"page": page, "size": self.page_size}
        result = self.hook.get_all_transactions(
            txn_date_from=sub.start, txn_date_to=sub.end, **paged, **self.search_filters
        )
        reported = result.get("recordsCount")
        self._last_reported = (
            reported if isinstance(reported, int) and not isinstance(reported, bool) else None
        )
        return result

    def _pages(self, sub: Window) -> Iterator[list[dict[str, Any]]]:
        """Page through ``sub``. Until paging is confirmed, the first full page is held back and
        compared with the second, so a fallback to bisection never yields a record twice."""
        assert self.page_size is not None
        page, previous_first, held = 0, None, None
        fetched = yielded = 0  # records seen and pages handed out for this sub-window
        while True:
            records = self._search(sub, page)["data"]
            self.stats.pages += 1
            if len(records) > self.page_size or (
                page > 0 and records and _first_id(records) == previous_first
            ):
                if self._paging:
                    raise EnKashExportError(
                        f"EnKash stopped honouring page/size at page {page} of {sub.start} - {sub.end}"
                    )
                log.warning("EnKash ignores page/size; falling back to bisecting sub-windows")
                self._paging = False
                yield from self.batches(sub)
                return
            if self._paging is None and page == 0 and len(records) == self.page_size:
                held, page, previous_first = records, 1, _first_id(records)
                continue
            if held is not None:
                self._paging = self.stats.paging = True
                self._count(held)
                fetched += len(held)
                yielded += 1
                yield held
                held = None
            if len(records) < self.page_size:
                fetched += len(records)
                reported = self._last_reported
                if (reported is not None and reported > fetched) or len(records) >= self.cap:
                    # the last page came back short of what EnKash says it holds: a cap below page_size
                    if yielded == 0 and not self._paging:
                        log.warning(
                            "EnKash caps pages below page_size; falling back to bisecting sub-windows"
                        )
                        self._paging = False
                        yield from self.batches(sub)
                        return
                    raise EnKashExportError(
                        f"paging {sub.start} - {sub.end} returned {fetched} of {reported} records; "
                        "refusing to lose data (lower page_size or unset it to bisect instead)"
                    )
                self._count(records)
                if records:
                    yield records
                return
            fetched += len(records)
            yielded += 1
            self._count(records)
            yield records
            page, previous_first = page + 1, _first_id(records)


def _first_id(records: list[dict[str, Any]]) -> Any:
    first = records[0]
    return first.get("enKashCardTransactionId") or first.get("enkashCardTransactionId")
