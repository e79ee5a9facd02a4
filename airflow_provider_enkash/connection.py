"""EnKash connection settings, parsed and checked once from an Airflow connection.

A whole connection fits in one ``AIRFLOW_CONN_ENKASH_DEFAULT`` JSON value::

    {"conn_type": "enkash", "host": "https://pay-uat.enkash.in",
     "login": "<partner mobile>", "password": "<partner password>",
     "extra": {"client_id": "CEK...", "client_secret": "...", "partner_id": "CR...",
               "company_id": "CEK...", "card_account_id": "CA..."}}
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from airflow.exceptions import AirflowProviderDeprecationWarning
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from airflow_provider_enkash.crypto import KEY_DERIVATIONS
from airflow_provider_enkash.exceptions import EnKashConfigError
from airflow_provider_enkash.operations import DEFAULT_TOKEN_URL, OPERATIONS, TOKEN_PATH
from airflow_provider_enkash.statuses import StatusSets

DEFAULT_CONN_ID = "enkash_default"  # the connection hooks, operators and sensors use unless told
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 60.0
DEFAULT_TOKEN_LEEWAY_S = 60.0
BASIC_AUTH_MODES = ("client", "empty", "none")
REQUEST_DATE_FORMATS = ("millis", "seconds")
DEFAULT_MAX_LOAD_AMOUNT = Decimal("10000000.00")  # 1 crore rupees per call: our guess, EnKash documents none
DEFAULT_REFERENCE_MAX_LENGTH = 64  # our guess for uniqueReferenceNumber: EnKash documents no limit
DEFAULT_RESPONSE_TIMEZONE = "Asia/Kolkata"  # zone of the zoneless 'Jan 23, 2025 4:38:36 PM' timestamps

log = logging.getLogger(__name__)

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
DEFAULT_REFERENCE_FIELDS = ("pgReferenceNumber", "uniqueReferenceNumber")
DEFAULT_SEARCH_CAP = 1000
# Why 15 minutes: EnKash documents neither de-duplication nor how long a queued or lagging credit
# can take to show in the search; a gateway timeout plus a retrying backend queue is commonly
# minutes, and an extra quarter hour on an already-failed payroll row costs far less than paying twice.
DEFAULT_RESEND_QUIET_PERIOD_S = 900.0


@dataclass(frozen=True)
class EnKashSettings:
    """Everything the hook needs from the connection; secrets stay out of ``repr``.

    :param read_timeout_s: seconds to wait for a response (default 60).
    :param connect_timeout_s: seconds to open a connection (default 10).
    :param token_url: the OAuth token URL, from the extra ``auth_url``.
    :param token_leeway_s: from the extra ``refresh_leeway``: refresh the token this many seconds before it expires (default 60).
    :param max_retries: extra attempts for read calls after the first (default 4).
    :param max_retry_wait_s: cap on one backoff or Retry-After wait, seconds (default 30).
    :param load_lookup_delay_s: pause before looking a load up after an unclear outcome (default 2).
    :param basic_auth: Basic credentials of the token call: ``client`` (``client_id:client_secret``,
        default), ``empty`` (``Og==``, the portal's example) or ``none`` (no Authorization header).
    :param max_load_amount: largest load per call, rupees (default 1 crore, 10000000.00).
    :param reference_max_length: longest ``uniqueReferenceNumber`` accepted, characters (default 64).
    :param request_date_format: ``millis`` (``2025-01-24T08:47:01.505Z``, documented, default) or
        ``seconds`` (``2025-01-24T08:47:01Z``) for ``txnDateFrom``/``txnDateTo``.
    :param response_timezone: IANA zone of zoneless response timestamps (default ``Asia/Kolkata``).
    :param reference_fields: record fields that may carry a load's reference, in order
        (default ``pgReferenceNumber``, ``uniqueReferenceNumber``).
    :param search_cap: records per search response at which an answer is taken as possibly
        truncated (default 1000).
    :param statuses: the success, failure and pending status words (extras ``success_statuses``,
        ``failure_statuses``, ``pending_statuses``; defaults in ``statuses.py``).
    :param resend_quiet_period_s: seconds after an unclear send before the reference may be
        resent (default 900; see docs/money-safety.md).
    """

    base_url: str
    token_url: str
    username: str
    password: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    partner_id: str
    company_id: str | None
    card_account_id: str | None
    encrypt_requests: bool = True
    key_derivation: str = "sha256"
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    verify: bool | str = True
    allow_insecure_http: bool = False
    paths: dict[str, str] = field(default_factory=dict)
    token_leeway_s: float = DEFAULT_TOKEN_LEEWAY_S
    max_retries: int = 4
    max_retry_wait_s: float = 30.0
    load_lookup_delay_s: float = 2.0
    basic_auth: str = "client"
    max_load_amount: Decimal = DEFAULT_MAX_LOAD_AMOUNT
    reference_max_length: int = DEFAULT_REFERENCE_MAX_LENGTH
    request_date_format: str = "millis"
    response_timezone: str = DEFAULT_RESPONSE_TIMEZONE
    reference_fields: tuple[str, ...] = DEFAULT_REFERENCE_FIELDS
    search_cap: int = DEFAULT_SEARCH_CAP
    statuses: StatusSets = field(default_factory=StatusSets)
    resend_quiet_period_s: float = DEFAULT_RESEND_QUIET_PERIOD_S

    def token_auth_headers(self) -> dict[str, str]:
        """The ``Authorization`` header of the token call for the ``basic_auth`` mode (empty for ``none``)."""
        if self.basic_auth == "none":
            return {}
        pair = ":" if self.basic_auth == "empty" else f"{self.client_id}:{self.client_secret}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")}

    def url_for(self, operation: str) -> str:
        """Absolute URL of ``operation`` (a key of ``OPERATIONS``), honouring the ``paths`` extra."""
        return self.base_url + self.paths.get(operation, OPERATIONS[operation].path)


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


_TRUE_WORDS, _FALSE_WORDS = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})


def _bool_or_none(value: Any) -> bool | None:
    """``value`` as a bool when it is one or a true/false word (forms save text), else None."""
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    return True if word in _TRUE_WORDS else False if word in _FALSE_WORDS else None


def _as_bool(extras: dict[str, Any], name: str, default: bool) -> bool:
    value = _bool_or_none(extras.get(name, default))
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


def _is_loopback(host: str | None) -> bool:
    if host in (None, ""):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_USERINFO_RE = re.compile(r"(?<=//)[^/?#]*@")


def _shown_url(url: str) -> str:
    """``url`` safe for a message or log: anything before an ``@`` in the authority (a credential) replaced."""
    return _USERINFO_RE.sub("***@", url)


def _check_url(url: Any, *, name: str, allow_insecure_http: bool) -> str:
    """Return ``url`` without a trailing ``/`` once it is unambiguous to every parser; else raise naming ``name``.

    Parsed with urllib3's ``parse_url``, the parser requests connects with, so the host checked here is
    the host the request goes to. Refused: backslashes, whitespace and control characters (parsers
    disagree about them), embedded credentials (``user:pass@``), query strings and fragments.
    """
    if not isinstance(url, str):
        raise EnKashConfigError(f"{name} must be a URL string, got {type(url).__name__}")
    for char, why in (
        ("\\", "a backslash"),
        ("@", "embedded credentials (user:password@); put them in login/password"),
    ):
        if char in url:
            raise EnKashConfigError(f"{name} must not contain {why}: {_shown_url(url)!r}")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise EnKashConfigError(
            f"{name} must not contain whitespace or control characters: {_shown_url(url)!r}"
        )
    try:
        parts = parse_url(url)
    except LocationParseError:
        raise EnKashConfigError(f"{name} is not a valid URL: {url!r}") from None
    if parts.scheme not in ("https", "http") or not parts.host:
        raise EnKashConfigError(f"{name} must be an absolute https:// URL, got {url!r}")
    if parts.query is not None or parts.fragment is not None:
        raise EnKashConfigError(f"{name} must not have a query string or fragment (? or #), got {url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.host):
        raise EnKashConfigError(
            f"{name} uses http:// for non-loopback host {parts.host!r}; use https:// "
            "or set the extra allow_insecure_http=true"
        )
    return url.rstrip("/")


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


_unverified_warned: set[str] = set()
_warn_lock = threading.Lock()


def _as_verify(extras: dict[str, Any], *, base_url: str) -> bool | str:
    """``verify``: true, false (also as text, as the form saves it) or the path of a CA bundle file or directory.

    With verification off, a warning is logged once per process and API host.
    """
    verify = extras.get("verify", True)
    as_bool = _bool_or_none(verify)
    if as_bool is not None:
        verify = as_bool
    elif isinstance(verify, str):
        verify = verify.strip()
        if not os.path.exists(verify):
            raise EnKashConfigError(
                f"extra 'verify' names no existing CA bundle file or directory: {verify!r}"
            )
    if not isinstance(verify, (bool, str)):
        raise EnKashConfigError(f"extra 'verify' must be true, false or a CA bundle path, got {verify!r}")
    if verify is True:  # the CA bundle requests would take from the environment
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    if verify is False:
        with _warn_lock:
            first = base_url not in _unverified_warned
            _unverified_warned.add(base_url)
        if first:
            log.warning(
                "TLS certificate verification is OFF for %s (extra verify=false): use only for testing",
                base_url,
            )
    return verify


def _token_url(extras: dict[str, Any], *, base_url: str, allow_insecure_http: bool) -> str:
    """The OAuth token URL: the ``auth_url`` extra; unset, the sandbox's on a loopback host, else the UAT one.

    A loopback API host (the sandbox) with a non-loopback token URL is refused: the partner
    password and client secret would leave the machine for a host nobody meant to call.
    """
    api_is_loopback = _is_loopback(parse_url(base_url).host)
    default = base_url + TOKEN_PATH if api_is_loopback else DEFAULT_TOKEN_URL
    url = _check_url(
        extras.get("auth_url") or default, name="extra 'auth_url'", allow_insecure_http=allow_insecure_http
    )
    if api_is_loopback and not _is_loopback(parse_url(url).host):
        raise EnKashConfigError(
            f"extra 'auth_url' points at {parse_url(url).host!r} while the API host is loopback (a sandbox): "
            "the credentials would go to an external host; set auth_url to the sandbox's "
            f"{base_url + TOKEN_PATH} or leave it empty"
        )
    return url


def _one_of(extras: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = extras.get(name, default)
    if value not in allowed:
        raise EnKashConfigError(f"extra {name!r} must be one of {', '.join(allowed)}, got {value!r}")
    return value


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
    return name


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
    base_url = _check_url(host, name="host (API base URL)", allow_insecure_http=insecure)
    for operation, path in paths.items():
        _check_url(base_url + path, name=f"extra 'paths' entry {operation!r}", allow_insecure_http=insecure)
    return EnKashSettings(
        base_url=base_url,
        token_url=_token_url(extras, base_url=base_url, allow_insecure_http=insecure),
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
        verify=_as_verify(extras, base_url=base_url),
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
