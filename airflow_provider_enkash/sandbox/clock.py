"""Time in the sandbox: UTC milliseconds inside, two renderings outside.

``enkash``: ``MMM d, yyyy h:mm:ss a`` in Asia/Kolkata (fixed UTC+05:30, no DST),
the format EnKash's responses show (e.g. ``Jan 23, 2025 4:38:36 PM``).
``iso``: UTC ``yyyy-MM-dd'T'HH:mm:ss.SSS'Z'``, the format of the search filters.
``enkash_utc``: the ``enkash`` format in UTC, for a server whose zoneless timestamps are not IST.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

IST = timezone(timedelta(hours=5, minutes=30), "IST")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_IST_OFFSET_S = 5 * 3600 + 30 * 60


def now_ms() -> int:
    """Wall-clock UTC time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def to_datetime(ms: int) -> datetime:
    """Aware UTC datetime of ``ms``."""
    return _EPOCH + timedelta(milliseconds=ms)


def from_datetime(value: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    return (value - _EPOCH) // timedelta(milliseconds=1)


def render(ms: int, style: str) -> str:
    """Render ``ms`` as ``enkash`` (IST, seconds), ``enkash_utc`` (UTC, seconds) or ``iso`` (UTC, milliseconds)."""
    if style == "iso":
        return to_datetime(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    t = time.gmtime(ms // 1000 + (0 if style == "enkash_utc" else _IST_OFFSET_S))
    hour12 = t.tm_hour % 12 or 12
    half = "AM" if t.tm_hour < 12 else "PM"
    return f"{_MONTHS[t.tm_mon - 1]} {t.tm_mday}, {t.tm_year} {hour12}:{t.tm_min:02d}:{t.tm_sec:02d} {half}"


def ist_month(ms: int) -> tuple[int, int]:
    """(year, month) of ``ms`` in IST."""
    t = time.gmtime(ms // 1000 + _IST_OFFSET_S)
    return t.tm_year, t.tm_mon


def parse_iso(text: str) -> int:
    """Milliseconds of an ISO-8601 date-time such as ``2025-01-24T08:47:01.505Z``; naive means UTC.

    :raises ValueError: not an ISO-8601 date-time.
    """
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return from_datetime(value)
