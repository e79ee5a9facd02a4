"""A process-wide cache of EnKash bearer tokens.

Keyed by (token URL, client id, username, credential fingerprint): every hook,
thread and task in one worker process shares one token per partner login, so
16 threads starting together make one token call. A token is refreshed
``leeway`` seconds before ``expires_in`` runs out, and dropped when a card call
answers 401. A refused login is remembered for the same credentials, so no
other thread or task in the process tries them again (three failed logins
lock the EnKash account); changing the password or secret clears it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

TokenKey = tuple[str, str, str, str]


@dataclass(frozen=True)
class Token:
    """An access token and the monotonic time (seconds) after which it must not be used."""

    access_token: str = field(repr=False)
    refresh_at: float


class TokenCache:
    """Thread-safe cache; one fetch at a time per key."""

    def __init__(self) -> None:
        self._tokens: dict[TokenKey, Token] = {}
        self._refusals: dict[TokenKey, Exception] = {}
        self._key_locks: dict[TokenKey, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, key: TokenKey) -> threading.Lock:
        with self._guard:
            return self._key_locks.setdefault(key, threading.Lock())

    def get(self, key: TokenKey, fetch: Callable[[], tuple[str, float]], *, leeway_s: float) -> str:
        """Return a valid access token for ``key``, calling ``fetch`` at most once concurrently.

        :param fetch: returns ``(access_token, expires_in_seconds)``; an exception it raises with
            ``may_lock_account`` true is remembered and re-raised for ``key`` without calling it again.
        :param leeway_s: refresh this many seconds before expiry (capped at half the lifetime).
        """
        cached = self._valid(key)
        if cached is not None:
            return cached
        with self._lock_for(key):
            cached = self._valid_or_refused(key)
            if cached is not None:
                return cached
            try:
                answer = fetch()
            except Exception as exc:
                self._note_refusal(key, exc)
                raise
            return self._store(key, answer, leeway_s)

    async def aget(
        self,
        key: TokenKey,
        fetch: Callable[[], Awaitable[tuple[str, float]]],
        *,
        leeway_s: float,
        lock: asyncio.Lock,
    ) -> str:
        """:meth:`get` for coroutines: ``lock`` (one per event loop and key) makes one fetch serve every waiter."""
        cached = self._valid(key)
        if cached is not None:
            return cached
        async with lock:
            cached = self._valid_or_refused(key)
            if cached is not None:
                return cached
            try:
                answer = await fetch()
            except Exception as exc:
                self._note_refusal(key, exc)
                raise
            return self._store(key, answer, leeway_s)

    def _valid(self, key: TokenKey) -> str | None:
        token = self._tokens.get(key)
        if token is not None and time.monotonic() < token.refresh_at:
            return token.access_token
        return None

    def _valid_or_refused(self, key: TokenKey) -> str | None:
        cached = self._valid(key)
        if cached is None and key in self._refusals:
            raise self._refusals[key]
        return cached

    def _note_refusal(self, key: TokenKey, exc: Exception) -> None:
        if getattr(exc, "may_lock_account", False):
            self._refusals[key] = exc

    def _store(self, key: TokenKey, answer: tuple[str, float], leeway_s: float) -> str:
        access_token, expires_in = answer
        lifetime = max(0.0, expires_in - min(leeway_s, expires_in / 2))
        self._tokens[key] = Token(access_token, time.monotonic() + lifetime)
        return access_token

    def invalidate(self, key: TokenKey, access_token: str) -> None:
        """Drop ``access_token`` if it is still the cached one (a 401 proved it dead)."""
        with self._guard:
            current = self._tokens.get(key)
            if current is not None and current.access_token == access_token:
                del self._tokens[key]

    def clear(self) -> None:
        """Forget every token and every remembered refusal."""
        with self._guard:
            self._tokens.clear()
            self._refusals.clear()


TOKEN_CACHE = TokenCache()
