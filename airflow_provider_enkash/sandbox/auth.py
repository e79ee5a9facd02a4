"""The OAuth2 password grant of ``POST /oauth/token`` and bearer-token checks.

Replies follow Spring Security OAuth2 (REFERENCE.md section 2): a bad Basic
header is HTTP 401 ``unauthorized``; a wrong password is HTTP 400
``invalid_grant``/``Bad credentials``; ``max_failed_logins`` wrong passwords in
a row lock the user (``User account is locked``) until ``unlock()`` or a
restart. Tokens live ``token_lifetime_s`` seconds (monotonic clock) and
survive a state reset.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from typing import Any

from airflow_provider_enkash.sandbox.config import SandboxConfig

_UNAUTHORIZED = {
    "error": "unauthorized",
    "error_description": "Full authentication is required to access this resource",
}


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, sep, secret = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, secret) if sep else None


def _basic_ok(mode: str, authorization: str | None, cfg: SandboxConfig) -> bool:
    """The token call's Authorization header against the mode the sandbox runs in (``basic_auth``)."""
    if mode == "none":
        return authorization is None
    expected = ("", "") if mode == "empty" else (cfg.client_id, cfg.client_secret)
    return _basic(authorization) == expected


class Auth:
    """Issued tokens and the lock-out counter; thread-safe.

    :param config: a callable returning the current config (it can change at run time).
    """

    def __init__(self, config: Any) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self.access_tokens: list[str] = []  # every token ever issued, for secret scans
        self.refresh_tokens: list[str] = []
        self.unlock()

    def unlock(self) -> None:
        """Clear the lock-out and the failed-login count."""
        with self._lock:
            self.failed_logins = 0
            self.locked = False

    def token(self, authorization: str | None, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer one token request: (HTTP status, JSON body)."""
        cfg: SandboxConfig = self._config()
        if not _basic_ok(cfg.basic_auth, authorization, cfg):
            return 401, _UNAUTHORIZED
        grant = form.get("grant_type")
        if grant != "password":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": f"Unsupported grant type: {grant}",
            }
        if form.get("clientId") != cfg.client_id:
            return 400, {
                "error": "invalid_request",
                "error_description": "clientId is missing or does not match",
            }
        with self._lock:
            if self.locked:
                return 400, {"error": "invalid_grant", "error_description": "User account is locked"}
            if form.get("username") != cfg.username or form.get("password") != cfg.password:
                if form.get("username") == cfg.username:
                    self.failed_logins += 1
                    self.locked = self.failed_logins >= cfg.max_failed_logins
                return 400, {"error": "invalid_grant", "error_description": "Bad credentials"}
            self.failed_logins = 0
            access, refresh = secrets.token_urlsafe(20), secrets.token_urlsafe(20)
            self._expiry[access] = time.monotonic() + cfg.token_lifetime_s
            self.access_tokens.append(access)
            self.refresh_tokens.append(refresh)
        lifetime = cfg.token_lifetime_s
        return 200, {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "expires_in": int(lifetime) if float(lifetime).is_integer() else lifetime,
            "scope": "read write trust",
        }

    def check(self, authorization: str | None) -> tuple[str | None, dict[str, Any] | None]:
        """(the bearer token, None) when valid, else (token or None, the 401 body)."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None, _UNAUTHORIZED
        token = authorization[7:].strip()
        with self._lock:
            expires = self._expiry.get(token)
        if expires is None:
            return token, {"error": "invalid_token", "error_description": "Invalid access token"}
        if time.monotonic() >= expires:
            return token, {"error": "invalid_token", "error_description": "Access token expired"}
        return token, None

    def revoke(self, token: str) -> None:
        with self._lock:
            self._expiry.pop(token, None)
