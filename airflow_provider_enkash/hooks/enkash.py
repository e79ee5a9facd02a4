"""EnKashHook: the EnKash connection, its token, and one method per Prepaid Card operation."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from tenacity import Retrying

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret
from airflow_provider_enkash.connection import DEFAULT_CONN_ID, EnKashSettings, settings_from_connection
from airflow_provider_enkash.exceptions import (
    EnKashAuthError,
    EnKashConnectionError,
    EnKashError,
    EnKashLoginRefused,
    EnKashValidationError,
)
from airflow_provider_enkash.hooks.card_api import CardApiMixin
from airflow_provider_enkash.hooks.card_loads import CardLoadMixin
from airflow_provider_enkash.models import amounts_as_decimal
from airflow_provider_enkash.operations import OPERATIONS, OperationKind
from airflow_provider_enkash.retry import RETRYABLE_READ_ERRORS, read_retrying
from airflow_provider_enkash.token_cache import TOKEN_CACHE
from airflow_provider_enkash.card_data import sensitive_values
from airflow_provider_enkash.transport import (
    USER_AGENT,
    TokenRejected,
    encode_body,
    post,
    read_envelope,
    redirect_error,
)

DEFAULT_POOL_SIZE = 32


class EnKashHook(CardLoadMixin, CardApiMixin, BaseHook):
    """Talks to the EnKash Prepaid Card API: token, AES envelope, retries by kind of call.

    Thread-safe: one hook (one ``requests.Session``, one cached token) may serve
    many threads. Nothing is read or fetched until the first call.

    :param enkash_conn_id: Airflow connection of type ``enkash`` (default ``enkash_default``).
    :param pool_size: HTTP connections kept open for concurrent calls (default 32).
    """

    conn_name_attr = "enkash_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "enkash"
    hook_name = "EnKash"

    def __init__(self, enkash_conn_id: str = default_conn_name, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        super().__init__()
        self.enkash_conn_id = enkash_conn_id
        self.pool_size = pool_size
        self._settings: EnKashSettings | None = None
        self._session: requests.Session | None = None
        self._read_retrying: Retrying | None = None
        self._cache_key: tuple[str, str, str, str] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_connection(cls, conn: Any, *, pool_size: int = DEFAULT_POOL_SIZE) -> EnKashHook:
        """A hook over an already-resolved connection (used by the trigger, which fetches it asynchronously)."""
        hook = cls(enkash_conn_id=conn.conn_id or cls.default_conn_name, pool_size=pool_size)
        hook._settings = cls._masked(settings_from_connection(conn))
        return hook

    @staticmethod
    def _masked(settings: EnKashSettings) -> EnKashSettings:
        mask_secret(settings.password)
        mask_secret(settings.client_secret)
        return settings

    @property
    def settings(self) -> EnKashSettings:
        """The parsed connection, read on first use and cached."""
        if self._settings is None:
            with self._lock:
                if self._settings is None:
                    self._settings = self._masked(settings_from_connection(self.get_connection(self.enkash_conn_id)))
        return self._settings

    def get_conn(self) -> requests.Session:
        """The hook's ``requests.Session``, its pool sized for ``pool_size`` concurrent calls."""
        if self._session is None:
            with self._lock:
                if self._session is None:
                    session = requests.Session()
                    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.pool_size, max_retries=0)
                    session.mount("https://", adapter)
                    session.mount("http://", adapter)
                    session.headers["User-Agent"] = USER_AGENT
                    # Proxies come from the environment once, here, instead of requests scanning
                    # os.environ on every call (trust_env); the CA bundle is resolved in the settings.
                    session.trust_env = False
                    session.proxies.update(requests.utils.get_environ_proxies(self.settings.base_url))
                    self._session = session
        return self._session

    # -- token --------------------------------------------------------------------------------

    def _token_key(self) -> tuple[str, str, str, str]:
        """The token cache key; computed once per hook (the settings do not change)."""
        if self._cache_key is None:
            s = self.settings
            fingerprint = hashlib.sha256(f"{s.password}\x1f{s.client_secret}".encode()).hexdigest()
            self._cache_key = (s.token_url, s.client_id, s.username, fingerprint)
        return self._cache_key

    def _fetch_token(self) -> tuple[str, float]:
        """Password grant. Never retried on 400/401: three failed logins lock the EnKash account."""
        s = self.settings
        try:
            response = self.get_conn().post(
                s.token_url,
                data={"username": s.username, "password": s.password, "grant_type": "password", "clientId": s.client_id},
                headers=s.token_auth_headers(),
                proxies=requests.utils.get_environ_proxies(s.token_url),
                timeout=(s.connect_timeout_s, s.read_timeout_s),
                verify=s.verify,
                allow_redirects=False,  # a redirect would resend the password elsewhere
            )
        except requests.RequestException as exc:
            raise EnKashConnectionError(
                f"token request failed: {type(exc).__name__}", may_have_reached_enkash=True, operation="auth_token"
            ) from None
        if 300 <= response.status_code < 400:
            raise redirect_error(response, operation="auth_token")
        if response.status_code in (400, 401, 403):
            raise EnKashLoginRefused(
                f"EnKash refused the login (HTTP {response.status_code}); not retried, because three failed "
                "logins in a row lock the partner account. Check login, password, client_id and client_secret.",
                status=response.status_code,
            )
        if response.status_code != 200:
            raise EnKashAuthError(f"token endpoint answered HTTP {response.status_code}", status=response.status_code)
        try:
            body = response.json()
            access_token = body.get("access_token") or body["accessToken"]
            expires_in = float(body.get("expires_in", body.get("expiresIn", 300)))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise EnKashAuthError("token endpoint answered without an access token") from None
        mask_secret(access_token)
        self.log.info("Fetched an EnKash access token valid for %s s", int(expires_in))
        return str(access_token), expires_in

    def get_token(self) -> str:
        """A valid bearer token from the process-wide cache (fetched once across threads)."""
        return TOKEN_CACHE.get(self._token_key(), self._fetch_token, leeway_s=self.settings.token_leeway_s)

    # -- calls --------------------------------------------------------------------------------

    def _with_account_defaults(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` with ``companyId``/``cardAccountId`` from the connection, where the operation documents them."""
        s = self.settings
        body = dict(payload)
        defaults = {"companyId": s.company_id, "cardAccountId": s.card_account_id}
        for field in OPERATIONS[operation].account_fields:
            default = defaults[field]
            if body.get(field) is None and default is not None:
                body[field] = default
        return body

    def _exchange(self, operation: str, body: dict[str, Any], token: str) -> Any:
        s = self.settings

        def secrets() -> tuple[str, ...]:  # cut out of any error text EnKash echoes; built only on an error
            return (s.password, s.client_secret, token, *sensitive_values(body))

        response = post(
            self.get_conn(),
            s.url_for(operation),
            body=encode_body(body, secret=s.client_secret, key_derivation=s.key_derivation, encrypt=s.encrypt_requests),
            headers={"Authorization": f"Bearer {token}", "partnerId": s.partner_id, "Content-Type": "application/json"},
            timeout=(s.connect_timeout_s, s.read_timeout_s),
            verify=s.verify,
            operation=operation,
            secrets=secrets,
        )
        payload = read_envelope(
            response, secret=s.client_secret, key_derivation=s.key_derivation, operation=operation, secrets=secrets
        )
        return amounts_as_decimal(payload)

    def _call_once(self, operation: str, body: dict[str, Any]) -> Any:
        """One exchange; a 401 drops the token, fetches a new one and retries exactly once (401 = not processed)."""
        token = self.get_token()
        try:
            return self._exchange(operation, body, token)
        except TokenRejected:
            TOKEN_CACHE.invalidate(self._token_key(), token)
            self.log.info("EnKash rejected the access token on %s; fetching a new one and retrying once", operation)
        try:
            return self._exchange(operation, body, self.get_token())
        except TokenRejected as exc:
            raise EnKashAuthError(f"{operation}: a freshly issued token was rejected ({exc})", status=401) from None

    def call(self, operation: str, payload: dict[str, Any]) -> Any:
        """Send ``payload`` to ``operation`` and return the response envelope's ``payload``.

        :param operation: an EnKash operation name, e.g. ``"load_card_balance"`` (see ``OPERATIONS``).
        :param payload: the plaintext request fields; ``companyId`` and ``cardAccountId`` default
            from the connection. Reads are retried on transport errors, 429 and 5xx; writes never.
        """
        if operation not in OPERATIONS:
            raise EnKashValidationError("operation", f"{operation!r} is not one of {', '.join(sorted(OPERATIONS))}")
        body = self._with_account_defaults(operation, payload)
        if OPERATIONS[operation].kind is not OperationKind.READ:
            return self._call_once(operation, body)
        try:  # the first attempt outside tenacity: most calls succeed, and its loop costs more than the call's own work
            return self._call_once(operation, body)
        except RETRYABLE_READ_ERRORS as exc:
            first_failure: BaseException | None = exc
        if self._read_retrying is None:  # tenacity keeps per-call state thread-local: one object serves all threads
            self._read_retrying = read_retrying(max_retries=self.settings.max_retries, max_wait_s=self.settings.max_retry_wait_s)
        for attempt in self._read_retrying:
            with attempt:
                if first_failure is not None:  # replayed as tenacity's first attempt: same waits, logs and limits
                    failure, first_failure = first_failure, None
                    raise failure
                return self._call_once(operation, body)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def test_connection(self) -> tuple[bool, str]:
        """The first two steps of ``enkash-probe``: one token call, then read the card account.

        :return: ``(ok, message)``; the message names what was found or what to check, never a secret.
        """
        from airflow_provider_enkash.probe import Probe

        try:
            report = Probe(self).run(full=False)
        except EnKashError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        prefix = "Connected to EnKash: " if report.works else "EnKash connection failed: "
        return report.works, prefix + "; ".join(report.lines)
