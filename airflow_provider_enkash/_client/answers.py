"""Reading the shapes of EnKash's answers: record lists, the OTP request id, a reference search."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash._client.reader import read_answer, records_of, reference_of
from airflow_provider_enkash.exceptions import EnKashOutcomeUnknown, EnKashUnexpectedResponse

__all__ = ["matching_reference", "otp_request_id_of", "records_of"]

if TYPE_CHECKING:
    from airflow_provider_enkash._client.settings import EnKashSettings

_OTP_ID_RE = re.compile(r"[A-Za-z0-9_-]{4,64}")
_NOT_AN_OTP_ID = frozenset({"success", "ok", "sent", "true", "false", "null"})


def otp_request_id_of(payload: Any) -> str:
    """The OTP request id in Generate Card OTP's answer: ``{"otpRequestId": ...}`` or the bare string.

    :raises EnKashUnexpectedResponse: neither shape, or a string that is not id-shaped (4-64 ASCII
        letters, digits, ``-``, ``_``; not a status word such as ``Success``).
    """
    value = payload.get("otpRequestId") if isinstance(payload, dict) else payload
    if not isinstance(value, str) or not _OTP_ID_RE.fullmatch(value) or value.lower() in _NOT_AN_OTP_ID:
        shape = (
            type(value).__name__
            if not isinstance(value, str)
            else f"a {len(value)}-character string that is not id-shaped"
        )
        raise EnKashUnexpectedResponse(
            f"expected an OTP request id, got {shape}", operation="generate_card_otp"
        )
    return value


def matching_reference(
    answer: Any, payload: dict[str, Any], *, settings: EnKashSettings
) -> list[dict[str, Any]]:
    """The records of a reference search carrying the reference asked for, read as
    :func:`~airflow_provider_enkash._client.reader.read_answer` reads it (``reference_fields``,
    ``search_cap``).

    :raises EnKashOutcomeUnknown: the answer could hide the reference's records (truncated, filter
        ignored, rows without a reference field): an empty list would wrongly mean "not there".
    """
    result = records_of(answer, operation="get_transaction_details")
    reference = payload["pgReferenceNumber"]
    fields = settings.reference_fields
    lookup = read_answer(result, [reference], fields=fields, cap=settings.search_cap)[reference]
    if lookup.unknown:
        raise EnKashOutcomeUnknown(
            f"get_transaction_details: cannot tell whether reference {reference!r} is at EnKash: {lookup.reason}",
            reference=reference,
            operation="get_transaction_details",
        )
    return [r for r in result["data"] if reference_of(r, fields) == reference]
