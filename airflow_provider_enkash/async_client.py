"""AsyncEnKashClient: the sync hook's protocol over one shared ``httpx.AsyncClient`` per event loop.

Request building, the AES envelope, the token grant and error classification are the
hook's own (:mod:`~airflow_provider_enkash.transport`, :mod:`~airflow_provider_enkash.token_grant`,
``EnKashHook.prepare_call`` and the request builders of ``CardApiMixin``); only the I/O is
async. This is what the triggerer polls with: no thread is held during a round trip, retry
waits are ``await asyncio.sleep``, and per event loop (a triggerer process runs one) there is

* one ``httpx.AsyncClient`` per TLS/proxy setting, redirects never followed;
* a bound on requests in flight, ``[enkash] max_requests_in_flight`` (default 64), so a burst of
  triggers queues cheaply instead of opening thousands of connections at once;
* one token fetch per partner login at a time, shared with the process-wide token cache.
"""

from __future__ import annotations

import asyncio
import gc
import os
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit

import httpx
import requests
from airflow.sdk import BaseHook
from airflow.sdk.log import amask_secret

from airflow_provider_enkash.connection import settings_from_connection
from airflow_provider_enkash.exceptions import EnKashAuthError
from airflow_provider_enkash.hooks.card_api import matching_reference, records_of
from airflow_provider_enkash.hooks.enkash import EnKashHook
from airflow_provider_enkash.operations import OPERATIONS, OperationKind
from airflow_provider_enkash.request_models.transactions import GetAllTransactions, GetTransactionDetails
from airflow_provider_enkash.retry import async_read_retrying
from airflow_provider_enkash.token_cache import TOKEN_CACHE
from airflow_provider_enkash.token_grant import (
    read_token_answer,
    token_form,
    token_key,
    token_transport_error,
)
from airflow_provider_enkash.transport import (
    USER_AGENT,
    TokenRejected,
    card_request,
    check_status,
    connection_error,
)
from airflow_provider_enkash.triggers.settings import freeze_gc_enabled, max_requests_in_flight

if TYPE_CHECKING:
    from airflow_provider_enkash.connection import EnKashSettings
    from airflow_provider_enkash.token_cache import TokenKey

T = TypeVar("T")
# httpcore scans every pooled connection (a socket check each) on every request, so one pool of 64
# connections spends more CPU on that than on the request; pools of 8 keep the scan cheap.
CONNECTIONS_PER_POOL = 8
CONNECTION_REUSE_S = 30.0  # how long triggers of one loop share a resolved Airflow connection


class PerLoop(Generic[T]):
    """One ``T`` per running event loop, made by ``factory`` on first use; closed loops' entries are dropped."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._by_loop: dict[asyncio.AbstractEventLoop, T] = {}

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        value = self._by_loop.get(loop)
        if value is None:
            for closed in [other for other in self._by_loop if other.is_closed()]:
                del self._by_loop[closed]
            value = self._by_loop[loop] = self._factory()
        return value


class _Pools:
    """``httpx.AsyncClient`` s of one TLS/proxy setting, ``CONNECTIONS_PER_POOL`` connections each.

    A request goes to the least busy client, so with the loop's bound on requests in flight no
    client ever holds more requests than connections.
    """

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients
        self.busy = [0] * len(clients)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        index = self.busy.index(min(self.busy))
        self.busy[index] += 1
        try:
            return await self.clients[index].post(url, **kwargs)
        finally:
            self.busy[index] -= 1


@dataclass
class _LoopResources:
    limit: int
    in_flight: asyncio.Semaphore
    clients: dict[tuple[Any, ...], _Pools] = field(default_factory=dict)
    token_locks: dict[TokenKey, asyncio.Lock] = field(default_factory=dict)
    client_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    proxies: dict[tuple[str, str], str | None] = field(default_factory=dict)
    connections: dict[str, tuple[float, asyncio.Future[AsyncEnKashClient]]] = field(default_factory=dict)


_gc_frozen = False


def freeze_gc_once() -> None:
    """``gc.freeze()`` once per process when called from a running event loop (the triggerer's, not a
    worker deferring a task), unless ``[enkash] freeze_gc`` is false: full collections then skip every
    object alive at startup (Airflow's and the provider's modules), instead of scanning them again
    while a restart creates thousands of triggers at once."""
    global _gc_frozen
    if _gc_frozen:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    if freeze_gc_enabled():
        gc.freeze()
        _gc_frozen = True


def _new_resources() -> _LoopResources:
    limit = max_requests_in_flight()
    return _LoopResources(limit=limit, in_flight=asyncio.Semaphore(limit))


_RESOURCES: PerLoop[_LoopResources] = PerLoop(_new_resources)


def _tls(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx's ``verify`` for the connection's setting (a CA bundle path becomes an SSL context)."""
    if isinstance(verify, bool):
        return verify
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


class AsyncEnKashClient:
    """Async calls to EnKash with the hook's settings, protocol and retry policy.

    :param hook: an ``EnKashHook`` whose settings are already known (``EnKashHook.from_settings``);
        it is used for its settings and request builders only, never for I/O.
    """

    def __init__(self, hook: EnKashHook) -> None:
        self.hook = hook
        self.settings: EnKashSettings = hook.settings

    @classmethod
    async def for_connection(cls, conn_id: str) -> AsyncEnKashClient:
        """A client for Airflow connection ``conn_id``, resolved and masked without blocking the event loop.

        Triggers of one event loop share a resolution for ``CONNECTION_REUSE_S`` (30 s): a triggerer
        restarting 1,000 triggers of one connection reads it once, not 1,000 times. A failed
        resolution is not reused.
        """
        resources = _RESOURCES.get()
        now = time.monotonic()
        reused = resources.connections.get(conn_id)
        if reused is None or reused[0] <= now or (reused[1].done() and reused[1].exception() is not None):
            reused = (now + CONNECTION_REUSE_S, asyncio.ensure_future(cls._resolve(conn_id)))
            resources.connections[conn_id] = reused
        return await asyncio.shield(reused[1])  # a cancelled trigger leaves the resolution to the others

    @classmethod
    async def _resolve(cls, conn_id: str) -> AsyncEnKashClient:
        settings = settings_from_connection(await BaseHook.aget_connection(conn_id))
        await amask_secret(settings.password)
        await amask_secret(settings.client_secret)
        return cls(EnKashHook.from_settings(settings, conn_id))

    @property
    def identity(self) -> tuple[Any, ...]:
        """Two clients with equal identities talk to the same API as the same partner login."""
        s = self.settings
        return (s.base_url, s.verify, *token_key(s))

    async def _http(self, url: str) -> _Pools:
        """This loop's shared ``httpx.AsyncClient`` s for ``url``'s TLS and proxy setting."""
        resources = _RESOURCES.get()
        origin = urlsplit(url)[:2]
        if origin not in resources.proxies:  # reading the environment costs more than a request's CPU
            resources.proxies[origin] = requests.utils.get_environ_proxies(url).get(origin[0])
        proxy = resources.proxies[origin]
        key = (self.settings.verify, proxy)
        client = resources.clients.get(key)
        if client is None:
            async with resources.client_lock:
                client = resources.clients.get(key)
                if client is None:  # reading the CA bundle takes ~0.1 s: once per process, not on the loop
                    client = await asyncio.to_thread(self._new_pools, proxy, resources.limit)
                    resources.clients[key] = client
        return client

    def _new_pools(self, proxy: str | None, limit: int) -> _Pools:
        verify = _tls(self.settings.verify)
        if verify is True:  # one context (one read of the CA bundle) for every client
            verify = httpx.create_ssl_context(verify=True)
        size = min(limit, CONNECTIONS_PER_POOL)
        return _Pools(
            [
                httpx.AsyncClient(
                    verify=verify,
                    proxy=proxy,
                    trust_env=False,  # proxies resolved by the caller, as the sync hook does
                    follow_redirects=False,  # credentials go to the configured host only
                    headers={"User-Agent": USER_AGENT},
                    limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                )
                for _ in range(-(-limit // size))
            ]
        )

    def _timeout(self) -> httpx.Timeout:
        s = self.settings
        return httpx.Timeout(s.read_timeout_s, connect=s.connect_timeout_s)

    # -- token --------------------------------------------------------------------------------

    async def _fetch_token(self) -> tuple[str, float]:
        s = self.settings
        http = await self._http(s.token_url)
        try:
            async with _RESOURCES.get().in_flight:
                response = await http.post(
                    s.token_url, data=token_form(s), headers=s.token_auth_headers(), timeout=self._timeout()
                )
        except httpx.HTTPError as exc:
            raise token_transport_error(exc) from None
        access_token, expires_in = read_token_answer(response)
        await amask_secret(access_token)
        return access_token, expires_in

    async def get_token(self) -> str:
        """A valid bearer token; concurrent callers of one loop share a single fetch."""
        key = token_key(self.settings)
        lock = _RESOURCES.get().token_locks.setdefault(key, asyncio.Lock())
        return await TOKEN_CACHE.aget(
            key, self._fetch_token, leeway_s=self.settings.token_leeway_s, lock=lock
        )

    # -- calls --------------------------------------------------------------------------------

    async def _exchange(self, operation: str, body: dict[str, Any], token: str) -> Any:
        s = self.settings
        secrets = self.hook.exchange_secrets(body, token)
        url, content, headers = card_request(s, operation, body, token)
        http = await self._http(url)
        try:
            async with _RESOURCES.get().in_flight:
                response = await http.post(url, content=content, headers=headers, timeout=self._timeout())
        except httpx.HTTPError as exc:
            sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol))
            raise connection_error(operation, exc, sent=sent) from None
        check_status(response, operation=operation, secrets=secrets)
        return self.hook.open_response(response, operation, secrets)

    async def _call_once(self, operation: str, body: dict[str, Any]) -> Any:
        """One exchange; a 401 drops the token, fetches a new one and retries exactly once."""
        token = await self.get_token()
        try:
            return await self._exchange(operation, body, token)
        except TokenRejected:
            TOKEN_CACHE.invalidate(token_key(self.settings), token)
            self.hook.log.info(
                "EnKash rejected the access token on %s; fetching a new one and retrying once", operation
            )
        try:
            return await self._exchange(operation, body, await self.get_token())
        except TokenRejected as exc:
            raise EnKashAuthError(
                f"{operation}: a freshly issued token was rejected ({exc})", status=401
            ) from None

    async def call(self, operation: str, payload: dict[str, Any]) -> Any:
        """``EnKashHook.call`` for coroutines: same fields, same retries by kind, waits awaited."""
        body = self.hook.prepare_call(operation, payload)
        if OPERATIONS[operation].kind is not OperationKind.READ:
            return await self._call_once(operation, body)
        retrying = async_read_retrying(
            max_retries=self.settings.max_retries, max_wait_s=self.settings.max_retry_wait_s
        )
        async for attempt in retrying:
            with attempt:
                return await self._call_once(operation, body)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    # -- the reads the trigger needs ----------------------------------------------------------

    async def get_all_transactions(self, **filters: Any) -> dict[str, Any]:
        """``EnKashHook.get_all_transactions``, awaited; same arguments and result."""
        payload = GetAllTransactions.build(self.settings, **filters).payload()
        answer = await self.call("get_all_transactions", payload)
        return records_of(answer, operation="get_all_transactions")

    async def get_transaction_details(self, **filters: Any) -> list[dict[str, Any]]:
        """``EnKashHook.get_transaction_details``, awaited; same arguments and result."""
        payload = GetTransactionDetails.build(self.settings, **filters).payload()
        answer = await self.call("get_transaction_details", payload)
        return matching_reference(answer, payload, settings=self.settings)
