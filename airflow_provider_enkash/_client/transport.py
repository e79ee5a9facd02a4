"""One HTTP exchange with EnKash: build the request, send it, classify the answer, open the envelope.

Everything but the sending is shared by the sync hook (``urllib3``, :mod:`airflow_provider_enkash._client.sync_http`) and the
async client (``httpx``, :mod:`airflow_provider_enkash.async_client`): only the I/O differs.
Knows nothing about tokens or operations' meaning; the hook composes it. Every
failure becomes a typed error that says whether the request may have reached
EnKash, which is what the retry policy (``retry.py``) and the load
settlement logic decide on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from urllib3.exceptions import ConnectTimeoutError, HTTPError, LocationParseError, ProxyError
from urllib3.util import parse_url

from airflow_provider_enkash._client.crypto import dumps_payload, loads_payload, open_body, sealed_body
from airflow_provider_enkash._client.sync_http import USER_AGENT as USER_AGENT  # the async client's too
from airflow_provider_enkash._client.sync_http import Answer, SyncHTTP
from airflow_provider_enkash.exceptions import (
    EnKashBusinessError,
    EnKashConnectionError,
    EnKashCryptoError,
    EnKashHTTPError,
    EnKashRateLimitError,
    EnKashRedirectError,
    EnKashServerError,
    redact,
)

if TYPE_CHECKING:
    from airflow_provider_enkash._client.settings import EnKashSettings

_MAX_ERROR_TEXT = 300


class HTTPResponse(Protocol):
    """What the protocol code reads of a response; the sync :class:`Answer` and ``httpx`` responses both fit."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


class TokenRejected(Exception):
    """Internal: a card call answered 401; the hook drops the token and retries once."""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def may_have_been_sent(exc: HTTPError) -> bool:
    """False only when the request certainly never left: no connection to EnKash or its proxy was made
    (connect timeout, refused, DNS failure); True for everything after (read timeout, reset, bad answer).

    A proxy that refuses the CONNECT tunnel (407, 502) counts as maybe sent: its error does not tell
    it apart by type from a failure after sending, and "maybe" is the side that never double-pays.
    """
    if isinstance(exc, ProxyError):  # the connection to the proxy failed; the cause says how
        return not isinstance(exc.original_error, ConnectTimeoutError)
    return not isinstance(exc, ConnectTimeoutError)  # NewConnectionError, NameResolutionError included


Secrets = Callable[[], Iterable[str | None]]
"""Returns the secret values of one exchange (password, token, PIN, OTP...); called only on an error."""


def _no_secrets() -> tuple[str, ...]:
    return ()


def _error_text(response: HTTPResponse, secrets: Secrets = _no_secrets) -> str:
    """A short description of an error body (server validation messages name the field), redacted.

    :param secrets: the exchange's secret values, cut out of the text.
    """
    try:
        body = loads_payload(response.content)
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        for key in ("message", "response_message", "error_description", "error"):
            if isinstance(body.get(key), str):
                return f"HTTP {response.status_code}: {redact(body[key], known=secrets())[:_MAX_ERROR_TEXT]}"
    return f"HTTP {response.status_code}"


def redirect_error(response: HTTPResponse, *, operation: str) -> EnKashRedirectError:
    """The error for a 3xx answer: it names where the redirect pointed (host and port only), never follows it."""
    location = response.headers.get("Location") or ""
    try:
        target = parse_url(location)
        host = target.host and (f"{target.host}:{target.port}" if target.port else target.host)
    except LocationParseError:
        host = None
    if not host and location:  # a relative redirect: same host, other path
        url = str(getattr(response, "url", "") or "")
        host = parse_url(url).netloc if url else None
    where = f"to host {host}" if host else "without a usable Location"
    return EnKashRedirectError(
        f"{operation}: EnKash answered HTTP {response.status_code}, a redirect {where}; redirects are never "
        "followed (they would resend credentials and the request elsewhere). Check the connection's host "
        "and auth URL",
        status=response.status_code,
        location_host=host,
        operation=operation,
    )


def encode_body(payload: dict[str, Any], *, secret: str, key_derivation: str, encrypt: bool) -> bytes:
    """The request body: the encrypted ``{"request": ...}`` wrapper, or plaintext JSON."""
    if encrypt:
        return sealed_body(payload, secret, key_derivation=key_derivation)
    return dumps_payload(payload).encode("utf-8")


def card_request(
    settings: EnKashSettings, operation: str, body: dict[str, Any], token: str
) -> tuple[str, bytes, dict[str, str]]:
    """URL, body bytes and headers of one card call: the part of an exchange both clients share."""
    s = settings
    content = encode_body(
        body, secret=s.client_secret, key_derivation=s.key_derivation, encrypt=s.encrypt_requests
    )
    headers = {
        "Authorization": f"Bearer {token}",
        "partnerId": s.partner_id,
        "Content-Type": "application/json",
    }
    return s.url_for(operation), content, headers


def connection_error(operation: str, exc: Exception, *, sent: bool) -> EnKashConnectionError:
    """The typed error for a transport failure (``sent``: the request may have reached EnKash)."""
    return EnKashConnectionError(
        f"{operation}: {type(exc).__name__} talking to EnKash"
        + (" after the request may have been sent" if sent else " before the request was sent"),
        may_have_reached_enkash=sent,
        operation=operation,
    )


def check_status(response: HTTPResponse, *, operation: str, secrets: Secrets = _no_secrets) -> None:
    """Classify a non-2xx answer: 401 -> ``TokenRejected``; 429, 5xx, 3xx (never followed), other -> typed errors.

    :param secrets: the exchange's secret values, cut out of any error text EnKash sends back.
    :raises EnKashRedirectError: a 3xx answer (the request may have been processed).
    """
    if response.status_code == 401:
        raise TokenRejected(_error_text(response, secrets))
    if response.status_code == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise EnKashRateLimitError(
            f"{operation}: rate limited ({_error_text(response, secrets)}), retry after {retry_after}s",
            status=429,
            retry_after=retry_after,
            operation=operation,
        )
    if response.status_code >= 500:
        raise EnKashServerError(
            f"{operation}: EnKash server error ({_error_text(response, secrets)})",
            status=response.status_code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            operation=operation,
        )
    if 300 <= response.status_code < 400:
        raise redirect_error(response, operation=operation)
    if response.status_code == 407:  # a forwarding proxy's answer, not EnKash's
        raise EnKashHTTPError(
            f"{operation}: the proxy to EnKash asks for authentication (HTTP 407); check the proxy "
            "credentials in HTTPS_PROXY / HTTP_PROXY",
            status=407,
            operation=operation,
        )
    if response.status_code >= 300:
        raise EnKashHTTPError(
            f"{operation}: EnKash rejected the request ({_error_text(response, secrets)})",
            status=response.status_code,
            operation=operation,
        )


def post(
    http: SyncHTTP,
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    operation: str,
    secrets: Secrets = _no_secrets,
) -> Answer:
    """POST ``body`` (redirects never followed); failures become typed errors (see :func:`check_status`)."""
    try:
        response = http.post(url, body=body, headers=headers)
    except HTTPError as exc:
        raise connection_error(operation, exc, sent=may_have_been_sent(exc)) from None
    check_status(response, operation=operation, secrets=secrets)
    return response


def read_envelope(
    response: HTTPResponse,
    *,
    secret: str,
    key_derivation: str,
    operation: str,
    secrets: Secrets = _no_secrets,
) -> Any:
    """Decrypt (when wrapped) and unpack the ``code``/``response_code`` envelope; return ``payload``.

    :param secrets: the exchange's secret values, cut out of EnKash's refusal message.

    :raises EnKashBusinessError: the code is not 0.
    :raises EnKashCryptoError: the wrapper did not decrypt.
    :raises EnKashHTTPError: the body is not JSON or not an envelope.
    """
    try:
        envelope = open_body(response.content, secret, key_derivation=key_derivation)
    except EnKashCryptoError as exc:
        raise EnKashCryptoError(f"{operation}: {exc}") from None
    except ValueError:
        raise EnKashHTTPError(
            f"{operation}: response is not JSON", status=response.status_code, operation=operation
        ) from None
    if not isinstance(envelope, dict) or not ({"code", "response_code"} & envelope.keys()):
        raise EnKashHTTPError(
            f"{operation}: response has no code/response_code envelope",
            status=response.status_code,
            operation=operation,
        )
    code = envelope["code"] if "code" in envelope else envelope["response_code"]
    if code not in (0, "0"):
        message = envelope.get("message", envelope.get("response_message", ""))
        text = redact(str(message), known=(secret, *secrets()))[:_MAX_ERROR_TEXT]
        raise EnKashBusinessError(code=code, enkash_message=text, operation=operation)
    return envelope.get("payload")
