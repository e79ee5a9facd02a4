"""The password grant without I/O: the cache key, the form sent and the reading of the answer.

Shared by the sync hook and the async client, so both log in the same way and treat a
refusal the same way (never retried: three failed logins lock the EnKash account).
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from urllib3.exceptions import HTTPError

from airflow_provider_enkash._client.crypto import loads_payload
from airflow_provider_enkash._client.transport import parse_retry_after, redirect_error
from airflow_provider_enkash.exceptions import (
    EnKashAuthError,
    EnKashConnectionError,
    EnKashLoginRefused,
    EnKashRateLimitError,
    EnKashServerError,
)

if TYPE_CHECKING:
    from airflow_provider_enkash._client.settings import EnKashSettings
    from airflow_provider_enkash._client.sync_http import SyncHTTP
    from airflow_provider_enkash._client.token_cache import TokenKey
    from airflow_provider_enkash._client.transport import HTTPResponse

log = logging.getLogger(__name__)

TOKEN_OPERATION = "auth_token"


def token_key(settings: EnKashSettings) -> TokenKey:
    """The token cache key: token URL, client id, username and a fingerprint of the secrets."""
    s = settings
    fingerprint = hashlib.sha256(f"{s.password}\x1f{s.client_secret}".encode()).hexdigest()
    return (s.token_url, s.client_id, s.username, fingerprint)


def token_form(settings: EnKashSettings) -> dict[str, str]:
    """The form fields of the password grant (sent with ``settings.token_auth_headers()``)."""
    s = settings
    return {"username": s.username, "password": s.password, "grant_type": "password", "clientId": s.client_id}


def token_transport_error(exc: Exception) -> EnKashConnectionError:
    """The typed error for a token request that failed at the transport level."""
    return EnKashConnectionError(
        f"token request failed: {type(exc).__name__}", may_have_reached_enkash=True, operation=TOKEN_OPERATION
    )


def read_token_answer(response: HTTPResponse) -> tuple[str, float]:
    """``(access_token, expires_in_s)`` from the token endpoint's answer; the caller masks the token.

    :raises EnKashRedirectError: a 3xx answer (never followed: it would send the password elsewhere).
    :raises EnKashLoginRefused: HTTP 400/401, the only refused login (remembered by the token cache, never retried).
    :raises EnKashRateLimitError: HTTP 429; :raises EnKashServerError: HTTP 5xx (both transient: the load
        behind the token call was never sent).
    :raises EnKashAuthError: any other failure or an answer without a token.
    """
    if 300 <= response.status_code < 400:
        raise redirect_error(response, operation=TOKEN_OPERATION)
    if response.status_code in (400, 401):
        raise EnKashLoginRefused(
            f"EnKash refused the login (HTTP {response.status_code}); not retried, because three failed "
            "logins in a row lock the partner account. Check login, password, client_id and client_secret.",
            status=response.status_code,
        )
    if response.status_code == 429:
        raise EnKashRateLimitError(
            "token endpoint answered HTTP 429",
            status=429,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            operation=TOKEN_OPERATION,
        )
    if response.status_code >= 500:
        raise EnKashServerError(
            f"token endpoint answered HTTP {response.status_code}",
            status=response.status_code,
            operation=TOKEN_OPERATION,
        )
    if response.status_code != 200:
        raise EnKashAuthError(
            f"token endpoint answered HTTP {response.status_code}", status=response.status_code
        )
    try:
        body = loads_payload(response.content)
        access_token = body.get("access_token") or body["accessToken"]
        expires_in = float(body.get("expires_in", body.get("expiresIn", 300)))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise EnKashAuthError("token endpoint answered without an access token") from None
    log.info("Fetched an EnKash access token valid for %s s", int(expires_in))
    return str(access_token), expires_in


def fetch_token(http: SyncHTTP, settings: EnKashSettings) -> tuple[str, float]:
    """The password grant over the hook's ``http``: ``(access_token, expires_in_s)``; the caller masks the token.

    Never retried on 400/401: three failed logins lock the EnKash account. A redirect is never
    followed (it would resend the password elsewhere).
    """
    s = settings
    headers = {"Content-Type": "application/x-www-form-urlencoded", **s.token_auth_headers()}
    try:
        response = http.post(s.token_url, body=urlencode(token_form(s)).encode("ascii"), headers=headers)
    except HTTPError as exc:
        raise token_transport_error(exc) from None
    return read_token_answer(response)
