"""One card call of an :class:`~airflow_provider_enkash.hooks.enkash.EnKashHook`, composed into it.

The token (process-wide cache, one fetch across threads), account defaults from the connection,
the AES envelope, a 401 answered by exactly one fresh token, and retries by kind of call: reads on
transport errors, 429 and 5xx; writes never.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.log import mask_secret

from airflow_provider_enkash._client.operations import OPERATIONS, OperationKind
from airflow_provider_enkash._client.retry import ReadRetries
from airflow_provider_enkash._client.token_cache import TOKEN_CACHE, TokenKey
from airflow_provider_enkash._client.token_grant import fetch_token, token_key
from airflow_provider_enkash._client.transport import (
    HTTPResponse,
    Secrets,
    TokenRejected,
    card_request,
    post,
    read_envelope,
)
from airflow_provider_enkash.card_data import sensitive_values
from airflow_provider_enkash.exceptions import EnKashAuthError, EnKashValidationError

if TYPE_CHECKING:
    from airflow_provider_enkash.hooks.enkash import EnKashHook


class CardCalls:
    """The call path of one hook; reads the hook's settings and HTTP client on each call."""

    def __init__(self, hook: EnKashHook) -> None:
        self._hook = hook
        self._read_retries: ReadRetries | None = None
        self._cache_key: TokenKey | None = None

    # -- token --------------------------------------------------------------------------------

    def _token_key(self) -> TokenKey:
        """The token cache key; computed once per hook (the settings do not change)."""
        if self._cache_key is None:
            self._cache_key = token_key(self._hook.settings)
        return self._cache_key

    def _fetch_token(self) -> tuple[str, float]:
        access_token, expires_in = fetch_token(self._hook.get_conn(), self._hook.settings)
        mask_secret(access_token)
        return access_token, expires_in

    def get_token(self) -> str:
        """A valid bearer token from the process-wide cache (fetched once across threads)."""
        leeway_s = self._hook.settings.token_leeway_s
        return TOKEN_CACHE.get(self._token_key(), self._fetch_token, leeway_s=leeway_s)

    # -- calls --------------------------------------------------------------------------------

    def with_account_defaults(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` with ``companyId``/``cardAccountId`` from the connection, where the operation documents them."""
        s = self._hook.settings
        body = dict(payload)
        defaults = {"companyId": s.company_id, "cardAccountId": s.card_account_id}
        for field in OPERATIONS[operation].account_fields:
            default = defaults[field]
            if body.get(field) is None and default is not None:
                body[field] = default
        return body

    def prepare(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The request fields of ``operation``: its name checked, account defaults filled in; no I/O."""
        if operation not in OPERATIONS:
            raise EnKashValidationError(
                "operation", f"{operation!r} is not one of {', '.join(sorted(OPERATIONS))}"
            )
        return self.with_account_defaults(operation, payload)

    def secrets(self, body: dict[str, Any], token: str) -> Secrets:
        """The secret values of one exchange, built only when an error text needs redacting."""
        s = self._hook.settings

        def secrets() -> tuple[str | None, ...]:
            return (s.password, s.client_secret, token, *sensitive_values(body))

        return secrets

    def open_response(self, response: HTTPResponse, operation: str, secrets: Secrets) -> Any:
        """The payload of a card call's answer: envelope opened (amounts are Decimal, as parsed)."""
        s = self._hook.settings
        return read_envelope(
            response,
            secret=s.client_secret,
            key_derivation=s.key_derivation,
            operation=operation,
            secrets=secrets,
        )

    def _exchange(self, operation: str, body: dict[str, Any], token: str) -> Any:
        s = self._hook.settings
        secrets = self.secrets(body, token)
        url, content, headers = card_request(s, operation, body, token)
        response = post(
            self._hook.get_conn(),
            url,
            body=content,
            headers=headers,
            operation=operation,
            secrets=secrets,
        )
        return self.open_response(response, operation, secrets)

    def _call_once(self, operation: str, body: dict[str, Any]) -> Any:
        """One exchange; a 401 drops the token, fetches a new one and retries exactly once (401 = not processed)."""
        token = self.get_token()
        try:
            return self._exchange(operation, body, token)
        except TokenRejected:
            TOKEN_CACHE.invalidate(self._token_key(), token)
            self._hook.log.info(
                "EnKash rejected the access token on %s; fetching a new one and retrying once", operation
            )
        try:
            return self._exchange(operation, body, self.get_token())
        except TokenRejected as exc:
            raise EnKashAuthError(
                f"{operation}: a freshly issued token was rejected ({exc})", status=401
            ) from None

    def call(self, operation: str, payload: dict[str, Any]) -> Any:
        """Send ``payload`` to ``operation``; reads retried on transport errors, 429 and 5xx, writes never."""
        body = self.prepare(operation, payload)
        if OPERATIONS[operation].kind is not OperationKind.READ:
            return self._call_once(operation, body)
        if self._read_retries is None:
            s = self._hook.settings
            self._read_retries = ReadRetries(max_retries=s.max_retries, max_wait_s=s.max_retry_wait_s)
        return self._read_retries.run(lambda: self._call_once(operation, body))
