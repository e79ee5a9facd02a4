"""The timestamps EnKash responses carry, read into aware UTC datetimes.

Two formats are documented (REFERENCE.md section 6):

* ISO-8601 in UTC with milliseconds, ``2025-01-24T08:47:01.505Z`` (the search
  filters; naive ISO values are read as UTC, the zone the API uses for them);
* ``MMM d, yyyy h:mm:ss a`` without a zone, ``Jan 23, 2025 4:38:36 PM``, which
  EnKash shows in India Standard Time (Asia/Kolkata, UTC+05:30, no DST).

Parsing is hand-rolled for the second format because ``strptime`` is locale
dependent (``%b``/``%p``) and about five times slower on a million rows.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

IST = timezone(timedelta(hours=5, minutes=30), "IST")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}  # fmt: skip
_ENKASH_RE = re.compile(
    r"([A-Za-z]{3})[a-z]*\.? (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))? ?([AaPp][Mm])"
)


def parse_timestamp(value: str | datetime | None, *, local_tz: tzinfo = IST) -> datetime | None:
    """Read an EnKash timestamp as an aware UTC datetime; ``None`` and ``""`` give ``None``.

    :param value: ``2025-01-24T08:47:01.505Z`` (UTC), ``Jan 23, 2025 4:38:36 PM`` (``local_tz``),
        or an aware datetime.
    :param local_tz: zone of the zoneless ``MMM d, yyyy h:mm:ss a`` format (default IST, UTC+05:30).
    :raises ValueError: the text is in neither format (the message quotes it).
    :raises TypeError: neither text nor a datetime.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} has no time zone")
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a timestamp string")
    text = value.strip()
    if text[:1].isdigit():
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 date-time") from None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    if (fast := _enkash_fast(text, local_tz)) is not None:
        return fast
    match = _ENKASH_RE.fullmatch(text)
    month = _MONTHS.get(match.group(1).lower()) if match else None
    if match is None or month is None:
        raise ValueError(f"{value!r} is neither ISO-8601 nor 'MMM d, yyyy h:mm:ss a'")
    _, day, year, hour12, minute, second, millis, half = match.groups()
    hour = int(hour12)
    if not 1 <= hour <= 12:
        raise ValueError(f"{value!r}: hour {hour} is not on a 12-hour clock")
    hour = hour % 12 + (12 if half.upper() == "PM" else 0)
    micro = int(millis.ljust(3, "0")) * 1000 if millis else 0
    try:
        local = datetime(
            int(year),
            month,
            int(day),
            hour,
            int(minute),
            int(second),
            micro,
            tzinfo=local_tz,
        )
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None
    return local.astimezone(UTC)


_HALF_DAY = {"AM": 0, "PM": 12}


@functools.lru_cache(maxsize=64)
def _date_fields(month: str, day: str, year: str) -> tuple[int, int, int] | None:
    """``(year, month, day)`` of ``Jan``, ``23,``, ``2025``; None when not in exactly that plain form."""
    number = _MONTHS.get(month.lower()) if len(month) == 3 else None
    day_digits = day[:-1]
    if (
        number is None
        or day[-1:] != ","
        or not (1 <= len(day_digits) <= 2 and day_digits.isascii() and day_digits.isdigit())
    ):
        return None
    if not (len(year) == 4 and year.isascii() and year.isdigit()):
        return None
    return int(year), number, int(day_digits)


def _enkash_fast(text: str, local_tz: tzinfo) -> datetime | None:
    """``Jan 23, 2025 4:38:36 PM`` read without the regex (the common case); None sends it to the full parser.

    Gives exactly what the full parser gives for the text it accepts, and declines anything unusual
    (milliseconds, long month names, odd spacing, out-of-range fields, dates that do not exist).
    """
    parts = text.split(" ")
    if len(parts) != 5 or parts[4] not in _HALF_DAY:
        return None
    date = _date_fields(parts[0], parts[1], parts[2])
    clock = parts[3]
    if date is None or len(clock) not in (7, 8) or clock[-3] != ":" or clock[-6] != ":":
        return None
    hour, minute, second = clock[:-6], clock[-5:-3], clock[-2:]
    digits = hour + minute + second
    if not (digits.isascii() and digits.isdigit()) or not 1 <= int(hour) <= 12:
        return None
    try:
        local = datetime(
            *date, int(hour) % 12 + _HALF_DAY[parts[4]], int(minute), int(second), tzinfo=local_tz
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError):  # the full parser says what is wrong
        return None


def format_utc(value: datetime) -> str:
    """``yyyy-MM-dd'T'HH:mm:ss.SSS'Z'``: fixed width, so text order is time order (the API's own format)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:23] + "Z"  # drops "+00:00"
