"""The sync hook's HTTP client: ``urllib3`` connection pools, one per hook, shared by its threads.

``requests`` would rebuild a request, merge session settings, run hooks and copy cookies on every
call; the hook needs none of that, so its calls go straight to ``urllib3`` (what ``requests``
sends through anyway). Fixed here for every request: no redirect is ever followed, no transport
retry, the (connect, read) timeouts, TLS verification with the configured CA bundle (or
``requests``' bundle, or off), and the proxy the environment names for the URL's host
(``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` read as ``requests`` reads them).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote

import urllib3
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_environ_proxies, select_proxy
from urllib3.util import make_headers, parse_url

from airflow_provider_enkash.exceptions import EnKashConfigError

USER_AGENT = "airflow-provider-enkash"
DEFAULT_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept-Encoding": "gzip, deflate",
    "Accept": "*/*",
}
"""Sent with every request (as ``requests`` sent them); the call's own headers are added."""

NUM_POOLS = 4
"""Hosts a hook keeps pools for (API host, token host)."""

MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""Largest answer read, after gzip/deflate decoding (64 MiB; a 1,000-record search page is about 1 MiB)."""

_READ_CHUNK = 256 * 1024


class AnswerTooLarge(urllib3.exceptions.HTTPError):
    """The answer passed :data:`MAX_ANSWER_BYTES` (e.g. a small gzip body inflating to gigabytes)."""


class Answer(NamedTuple):
    """An HTTP answer, read whole (fits :class:`~airflow_provider_enkash._client.transport.HTTPResponse`)."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]
    url: str


def tls_options(verify: bool | str) -> dict[str, Any]:
    """``urllib3`` pool options for ``verify``: a CA bundle file or directory, True (``requests``' bundle) or False."""
    if verify is False:
        return {"cert_reqs": "CERT_NONE"}
    if verify is True:
        return {"cert_reqs": "CERT_REQUIRED", "ca_certs": DEFAULT_CA_BUNDLE_PATH}
    if os.path.isdir(verify):
        return {"cert_reqs": "CERT_REQUIRED", "ca_cert_dir": verify}
    return {"cert_reqs": "CERT_REQUIRED", "ca_certs": verify}


def environment_proxy(url: str) -> str | None:
    """The proxy URL the environment names for ``url`` (``NO_PROXY`` honoured), or None for a direct connection."""
    proxy = select_proxy(url, get_environ_proxies(url))
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


class SyncHTTP:
    """POSTs for one hook over pooled connections; thread-safe.

    :param base_url: the API's base URL; its proxy is resolved from the environment once, here.
    :param pool_size: connections kept open per host, i.e. concurrent calls without a new connection.
    :param verify: TLS verification: True, False or a CA bundle path (file or directory).
    :param timeout: ``(connect, read)`` seconds; the read timeout bounds each wait for data, not the
        whole answer (a server trickling bytes keeps a call open longer).
    """

    def __init__(
        self, *, base_url: str, pool_size: int, verify: bool | str, timeout: tuple[float, float]
    ) -> None:
        self.pool_size = pool_size
        self.verify = verify
        self._tls = tls_options(verify)
        self._timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
        self._base_prefix = base_url.rstrip("/") + "/"
        self.proxy = environment_proxy(base_url)
        self._open_pools()

    def _open_pools(self) -> None:
        """Fresh pools for this process: after a fork the parent's sockets are not the child's to use."""
        self._pid = os.getpid()
        self._managers: dict[str | None, urllib3.PoolManager] = {}
        self._lock = threading.Lock()
        self._base_manager = self._manager(self.proxy)

    def _manager(self, proxy: str | None) -> urllib3.PoolManager:
        """The pool manager for ``proxy`` (None: direct), made on first use."""
        manager = self._managers.get(proxy)
        if manager is None:
            with self._lock:
                manager = self._managers.get(proxy)
                if manager is None:
                    manager = self._managers[proxy] = self._new_manager(proxy)
        return manager

    def _new_manager(self, proxy: str | None) -> urllib3.PoolManager:
        options: dict[str, Any] = {"num_pools": NUM_POOLS, "maxsize": self.pool_size, **self._tls}
        if proxy is None:
            return urllib3.PoolManager(**options)
        parsed = parse_url(proxy)
        if parsed.scheme not in ("http", "https"):
            raise EnKashConfigError(
                f"the environment's proxy for EnKash uses {parsed.scheme!r}; only http and https proxies "
                "are supported (check HTTPS_PROXY / HTTP_PROXY / ALL_PROXY)"
            )
        headers = {}
        if parsed.auth:  # user:password in the proxy URL, percent-decoded as requests does
            user, _, password = parsed.auth.partition(":")
            headers = make_headers(proxy_basic_auth=f"{unquote(user)}:{unquote(password)}")
        return urllib3.ProxyManager(proxy, proxy_headers=headers, **options)

    def post(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> Answer:
        """POST ``body`` to ``url`` and read the whole answer; a 3xx is returned, never followed.

        :raises urllib3.exceptions.HTTPError: the exchange failed (see ``transport.may_have_been_sent``).
        """
        if self._pid != os.getpid():  # forked: sharing the parent's connections would cross answers
            self._open_pools()
        if url.startswith(self._base_prefix):
            manager = self._base_manager
        else:  # the token URL on another host: its proxy is looked up once per token
            manager = self._manager(environment_proxy(url))
        response = manager.urlopen(
            "POST",
            url,
            body=body,
            headers={**DEFAULT_HEADERS, **headers},
            timeout=self._timeout,
            retries=False,
            redirect=False,
            preload_content=False,
        )
        try:
            content = _read_capped(response)
        finally:
            response.release_conn()
        return Answer(response.status, content, response.headers, url)


def _read_capped(response: urllib3.BaseHTTPResponse) -> bytes:
    """The decoded body, read in chunks; :class:`AnswerTooLarge` (connection closed) past :data:`MAX_ANSWER_BYTES`."""
    chunks = []
    size = 0
    for chunk in response.stream(_READ_CHUNK, decode_content=True):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            response.close()  # the rest is never read, so the connection cannot go back to the pool
            raise AnswerTooLarge(f"EnKash's answer exceeds {MAX_ANSWER_BYTES // (1024 * 1024)} MiB")
        chunks.append(chunk)
    return b"".join(chunks)
