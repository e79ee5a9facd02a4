"""Parsing an Airflow ``enkash`` connection into :class:`~airflow_provider_enkash._client.settings.EnKashSettings`.

Every problem raises ``EnKashConfigError`` naming the field, before any network call.
"""

from __future__ import annotations

import json
import re
import warnings
from decimal import Decimal, InvalidOperation
from typing import Any

from airflow.exceptions import AirflowProviderDeprecationWarning

from airflow_provider_enkash._client.crypto import KEY_DERIVATIONS
from airflow_provider_enkash._client.operations import OPERATIONS
from airflow_provider_enkash._client.settings import (
    BASIC_AUTH_MODES,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_LOAD_AMOUNT,
    DEFAULT_READ_TIMEOUT_S,
    DEFAULT_REFERENCE_FIELDS,
    DEFAULT_REFERENCE_MAX_LENGTH,
    DEFAULT_RESEND_QUIET_PERIOD_S,
    DEFAULT_RESPONSE_TIMEZONE,
    DEFAULT_SEARCH_CAP,
    DEFAULT_TOKEN_LEEWAY_S,
    REQUEST_DATE_FORMATS,
    EnKashSettings,
)
from airflow_provider_enkash._client.urls import as_verify, bool_or_none, check_url, token_url
from airflow_provider_enkash.exceptions import EnKashConfigError
from airflow_provider_enkash.statuses import StatusSets

_FORM_PREFIX = "extra__enkash__"  # how older connection forms prefix extra fields
# Old extra name -> new one. Airflow's UI hides (shows and saves as ``***``) every extra whose
# name contains "token", so the old names broke connections created in the form.
DEPRECATED_EXTRAS = {"token_url": "auth_url", "token_leeway": "refresh_leeway"}
KNOWN_EXTRAS = frozenset(
    {
        "client_id",
        "client_secret",
        "partner_id",
        "company_id",
        "card_account_id",
        "auth_url",
        "encrypt_requests",
        "key_derivation",
        "timeout",
        "connect_timeout",
        "verify",
        "allow_insecure_http",
        "paths",
        "refresh_leeway",
        "max_retries",
        "max_retry_wait",
        "load_lookup_delay",
        "basic_auth",
        "max_load_amount",
        "reference_max_length",
        "request_date_format",
        "response_timezone",
        "reference_fields",
        "search_cap",
        "success_statuses",
        "failure_statuses",
        "pending_statuses",
        "resend_quiet_period",
    }
)


def _extra_dict(extra: Any) -> dict[str, Any]:
    if extra in (None, ""):
        return {}
    if isinstance(extra, dict):
        return extra
    try:
        parsed = json.loads(extra)
    except ValueError:
        raise EnKashConfigError("connection extra is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise EnKashConfigError("connection extra must be a JSON object")
    return parsed


def _as_bool(extras: dict[str, Any], name: str, default: bool) -> bool:
    value = bool_or_none(extras.get(name, default))
    if value is None:
        raise EnKashConfigError(f"extra {name!r} must be true or false, got {extras[name]!r}")
    return value


def _as_positive_float(extras: dict[str, Any], name: str, default: float) -> float:
    value = extras.get(name, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise EnKashConfigError(f"extra {name!r} must be a number of seconds, got {value!r}") from None
    if not number >= 0 or number == float("inf"):
        raise EnKashConfigError(f"extra {name!r} must be a finite number >= 0, got {value!r}")
    return number


def _as_words(extras: dict[str, Any], name: str) -> tuple[str, ...] | None:
    """A list extra given as a JSON list or a comma-separated string; None when absent."""
    value = extras.get(name)
    if value is None:
        return None
    words = value.split(",") if isinstance(value, str) else value
    if (
        not isinstance(words, (list, tuple))
        or not all(isinstance(w, str) and w.strip() for w in words)
        or not words
    ):
        raise EnKashConfigError(
            f"extra {name!r} must be a non-empty list of words (or a comma-separated string)"
        )
    return tuple(w.strip() for w in words)


def _statuses(extras: dict[str, Any]) -> StatusSets:
    try:
        return StatusSets(
            success=_as_words(extras, "success_statuses"),
            failure=_as_words(extras, "failure_statuses"),
            pending=_as_words(extras, "pending_statuses"),
        )
    except ValueError as exc:
        raise EnKashConfigError(f"extras success_statuses/failure_statuses: {exc}") from None


def _renamed_extras(extras: dict[str, Any]) -> dict[str, Any]:
    """Read the deprecated extra names under their new ones, with a warning; refuse conflicting pairs."""
    extras = dict(extras)
    for old, new in DEPRECATED_EXTRAS.items():
        if old not in extras:
            continue
        value = extras.pop(old)
        if new in extras and extras[new] != value:
            raise EnKashConfigError(f"extras {old!r} (deprecated) and {new!r} disagree; keep only {new!r}")
        extras[new] = value
        warnings.warn(
            f"EnKash connection extra {old!r} is deprecated (Airflow's UI hides any extra named like a token); "
            f"rename it to {new!r}",
            AirflowProviderDeprecationWarning,
            stacklevel=3,
        )
    return extras


def _one_of(extras: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = extras.get(name, default)
    if value not in allowed:
        raise EnKashConfigError(f"extra {name!r} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _max_load_amount(extras: dict[str, Any]) -> Decimal:
    value = extras.get("max_load_amount", DEFAULT_MAX_LOAD_AMOUNT)
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, (bool, float)) else None
    except InvalidOperation:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount < Decimal("0.01")
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise EnKashConfigError(
            f"extra 'max_load_amount' must be rupees >= 0.01 with at most 2 decimals, got {value!r}"
        )
    return amount.quantize(Decimal("0.01"))


def _whole_in(extras: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = extras.get(name, default)
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise EnKashConfigError(f"extra {name!r} must be a whole number from {low} to {high}, got {value!r}")
    return value


def _time_zone(extras: dict[str, Any]) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = extras.get("response_timezone", DEFAULT_RESPONSE_TIMEZONE)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise EnKashConfigError(
            f"extra 'response_timezone' must be an IANA time zone like Asia/Kolkata, got {name!r}"
        ) from None
    return str(name)


def _required(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EnKashConfigError(f"connection field {name!r} is required")
    return value.strip()


def settings_from_connection(conn: Any) -> EnKashSettings:
    """Build :class:`EnKashSettings` from an Airflow ``Connection``; raise ``EnKashConfigError`` naming the field."""
    raw_extras = _extra_dict(conn.extra_dejson if hasattr(conn, "extra_dejson") else conn.extra)
    extras = {
        key.removeprefix(_FORM_PREFIX): value for key, value in raw_extras.items() if value not in (None, "")
    }
    extras = _renamed_extras(extras)
    unknown = sorted(set(extras) - KNOWN_EXTRAS)
    if unknown:
        raise EnKashConfigError(f"unknown connection extra(s) {unknown}; known: {sorted(KNOWN_EXTRAS)}")
    insecure = _as_bool(extras, "allow_insecure_http", False)
    host = _required(conn.host, "host (API base URL)")
    if "://" not in host:
        host = f"https://{host}"
    key_derivation = extras.get("key_derivation", "sha256")
    if key_derivation not in KEY_DERIVATIONS:
        raise EnKashConfigError(
            f"extra 'key_derivation' must be one of {KEY_DERIVATIONS}, got {key_derivation!r}"
        )
    paths = extras.get("paths", {})
    if not isinstance(paths, dict) or not all(
        op in OPERATIONS and isinstance(p, str) and p.startswith("/") for op, p in paths.items()
    ):
        raise EnKashConfigError("extra 'paths' must map operation names to paths starting with '/'")
    max_retries = extras.get("max_retries", 4)
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or not 0 <= max_retries <= 20:
        raise EnKashConfigError(f"extra 'max_retries' must be an integer from 0 to 20, got {max_retries!r}")
    base_url = check_url(host, name="host (API base URL)", allow_insecure_http=insecure)
    for operation, path in paths.items():
        check_url(base_url + path, name=f"extra 'paths' entry {operation!r}", allow_insecure_http=insecure)
    return EnKashSettings(
        base_url=base_url,
        token_url=token_url(extras, base_url=base_url, allow_insecure_http=insecure),
        username=_required(conn.login, "login (partner username)"),
        password=_required(conn.password, "password (partner password)"),
        client_id=_required(extras.get("client_id"), "extra 'client_id'"),
        client_secret=_required(extras.get("client_secret"), "extra 'client_secret'"),
        partner_id=_required(extras.get("partner_id"), "extra 'partner_id'"),
        company_id=extras.get("company_id") or None,
        card_account_id=extras.get("card_account_id") or None,
        encrypt_requests=_as_bool(extras, "encrypt_requests", True),
        key_derivation=key_derivation,
        connect_timeout_s=_as_positive_float(extras, "connect_timeout", DEFAULT_CONNECT_TIMEOUT_S),
        read_timeout_s=_as_positive_float(extras, "timeout", DEFAULT_READ_TIMEOUT_S),
        verify=as_verify(extras, base_url=base_url),
        allow_insecure_http=insecure,
        paths=dict(paths),
        token_leeway_s=_as_positive_float(extras, "refresh_leeway", DEFAULT_TOKEN_LEEWAY_S),
        max_retries=max_retries,
        max_retry_wait_s=_as_positive_float(extras, "max_retry_wait", 30.0),
        load_lookup_delay_s=_as_positive_float(extras, "load_lookup_delay", 2.0),
        basic_auth=_one_of(extras, "basic_auth", BASIC_AUTH_MODES, "client"),
        max_load_amount=_max_load_amount(extras),
        reference_max_length=_whole_in(extras, "reference_max_length", DEFAULT_REFERENCE_MAX_LENGTH, 1, 1000),
        request_date_format=_one_of(extras, "request_date_format", REQUEST_DATE_FORMATS, "millis"),
        response_timezone=_time_zone(extras),
        reference_fields=_as_words(extras, "reference_fields") or DEFAULT_REFERENCE_FIELDS,
        search_cap=_whole_in(extras, "search_cap", DEFAULT_SEARCH_CAP, 1, 1_000_000),
        statuses=_statuses(extras),
        resend_quiet_period_s=_as_positive_float(
            extras, "resend_quiet_period", DEFAULT_RESEND_QUIET_PERIOD_S
        ),
    )
