"""Request timestamps: the UTC form EnKash's transaction search takes (``txnDateFrom``/``txnDateTo``)."""

from __future__ import annotations

from datetime import UTC, datetime

from airflow_provider_enkash.exceptions import EnKashValidationError


def format_txn_date(value: datetime | str, *, field: str, date_format: str = "millis") -> str:
    """``yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`` in UTC (``seconds``: without ``.SSS``) from an aware datetime or ISO string.

    :param date_format: ``millis`` (documented, default) or ``seconds``: the connection's ``request_date_format``.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise EnKashValidationError(field, f"{value!r} is not an ISO-8601 date-time") from None
    if not isinstance(value, datetime):
        raise EnKashValidationError(
            field, f"must be a datetime or ISO-8601 string, got {type(value).__name__}"
        )
    if value.tzinfo is None:
        raise EnKashValidationError(field, "must be timezone-aware (naive datetimes are ambiguous)")
    utc = value.astimezone(UTC)
    if date_format == "seconds":
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
