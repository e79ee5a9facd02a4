"""EnKashHook: the EnKash connection, its token, and one method per Prepaid Card operation."""

from __future__ import annotations

import threading
from typing import Any

import requests
from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret
from requests.adapters import HTTPAdapter
from tenacity import Retrying

from airflow_provider_enkash.card_data import sensitive_values
from airflow_provider_enkash.connection import DEFAULT_CONN_ID, EnKashSettings, settings_from_connection
from airflow_provider_enkash.exceptions import EnKashAuthError, EnKashError, EnKashValidationError
from airflow_provider_enkash.hooks.card_api import CardApiMixin
from airflow_provider_enkash.hooks.card_loads import CardLoadMixin
from airflow_provider_enkash.models import amounts_as_decimal
from airflow_provider_enkash.operations import OPERATIONS, OperationKind
from airflow_provider_enkash.retry import RETRYABLE_READ_ERRORS, read_retrying
from airflow_provider_enkash.token_cache import TOKEN_CACHE
from airflow_provider_enkash.token_grant import (
    read_token_answer,
    token_form,
    token_key,
    token_transport_error,
)
from airflow_provider_enkash.transport import (
    USER_AGENT,
    HTTPResponse,
    Secrets,
    TokenRejected,
    card_request,
    post,
    read_envelope,
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

    def __init__(
        self, enkash_conn_id: str = default_conn_name, *, pool_size: int = DEFAULT_POOL_SIZE
    ) -> None:
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
        """A hook over an already-resolved connection, its secrets masked."""
        return cls.from_settings(
            cls._masked(settings_from_connection(conn)), conn.conn_id, pool_size=pool_size
        )

    @classmethod
    def from_settings(
        cls, settings: EnKashSettings, conn_id: str | None, *, pool_size: int = DEFAULT_POOL_SIZE
    ) -> EnKashHook:
        """A hook over parsed settings whose secrets the caller has masked (the async client awaits that)."""
        hook = cls(enkash_conn_id=conn_id or cls.default_conn_name, pool_size=pool_size)
        hook._settings = settings
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
                    self._settings = self._masked(
                        settings_from_connection(self.get_connection(self.enkash_conn_id))
                    )
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
            self._cache_key = token_key(self.settings)
        return self._cache_key

    def _fetch_token(self) -> tuple[str, float]:
        """Password grant. Never retried on 400/401: three failed logins lock the EnKash account."""
        s = self.settings
        try:
            response = self.get_conn().post(
                s.token_url,
                data=token_form(s),
                headers=s.token_auth_headers(),
                proxies=requests.utils.get_environ_proxies(s.token_url),
                timeout=(s.connect_timeout_s, s.read_timeout_s),
                verify=s.verify,
                allow_redirects=False,  # a redirect would resend the password elsewhere
            )
        except requests.RequestException as exc:
            raise token_transport_error(exc) from None
        access_token, expires_in = read_token_answer(response)
        mask_secret(access_token)
        return access_token, expires_in

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

    def prepare_call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The request fields of ``operation``: its name checked, account defaults filled in; no I/O."""
        if operation not in OPERATIONS:
            raise EnKashValidationError(
                "operation", f"{operation!r} is not one of {', '.join(sorted(OPERATIONS))}"
            )
        return self._with_account_defaults(operation, payload)

    def exchange_secrets(self, body: dict[str, Any], token: str) -> Secrets:
        """The secret values of one exchange, built only when an error text needs redacting (shared with the async client)."""
        s = self.settings

        def secrets() -> tuple[str | None, ...]:
            return (s.password, s.client_secret, token, *sensitive_values(body))

        return secrets

    def _exchange(self, operation: str, body: dict[str, Any], token: str) -> Any:
        s = self.settings
        secrets = self.exchange_secrets(body, token)
        url, content, headers = card_request(s, operation, body, token)
        response = post(
            self.get_conn(),
            url,
            body=content,
            headers=headers,
            timeout=(s.connect_timeout_s, s.read_timeout_s),
            verify=s.verify,
            operation=operation,
            secrets=secrets,
        )
        return self.open_response(response, operation, secrets)

    def open_response(self, response: HTTPResponse, operation: str, secrets: Secrets) -> Any:
        """The payload of a card call's answer: envelope opened, amounts as Decimal (shared with the async client)."""
        s = self.settings
        payload = read_envelope(
            response,
            secret=s.client_secret,
            key_derivation=s.key_derivation,
            operation=operation,
            secrets=secrets,
        )
        return amounts_as_decimal(payload)

    def _call_once(self, operation: str, body: dict[str, Any]) -> Any:
        """One exchange; a 401 drops the token, fetches a new one and retries exactly once (401 = not processed)."""
        token = self.get_token()
        try:
            return self._exchange(operation, body, token)
        except TokenRejected:
            TOKEN_CACHE.invalidate(self._token_key(), token)
            self.log.info(
                "EnKash rejected the access token on %s; fetching a new one and retrying once", operation
            )
        try:
            return self._exchange(operation, body, self.get_token())
        except TokenRejected as exc:
            raise EnKashAuthError(
                f"{operation}: a freshly issued token was rejected ({exc})", status=401
            ) from None

    def call(self, operation: str, payload: dict[str, Any]) -> Any:
        """Send ``payload`` to ``operation`` and return the response envelope's ``payload``.

        :param operation: an EnKash operation name, e.g. ``"load_card_balance"`` (see ``OPERATIONS``).
        :param payload: the plaintext request fields; ``companyId`` and ``cardAccountId`` default
            from the connection. Reads are retried on transport errors, 429 and 5xx; writes never.
        """
        body = self.prepare_call(operation, payload)
        if OPERATIONS[operation].kind is not OperationKind.READ:
            return self._call_once(operation, body)
        try:  # the first attempt outside tenacity: most calls succeed, and its loop costs more than the call's own work
            return self._call_once(operation, body)
        except RETRYABLE_READ_ERRORS as exc:
            first_failure: BaseException | None = exc
        if (
            self._read_retrying is None
        ):  # tenacity keeps per-call state thread-local: one object serves all threads
            self._read_retrying = read_retrying(
                max_retries=self.settings.max_retries, max_wait_s=self.settings.max_retry_wait_s
            )
        for attempt in self._read_retrying:
            with attempt:
                if (
                    first_failure is not None
                ):  # replayed as tenacity's first attempt: same waits, logs and limits
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
