"""The wire protocol of the simulated API: payload encryption, envelopes, and the steps of one request.

Encryption is written from the API reference alone: AES-128-ECB, PKCS#7 padding,
standard base64, key derived from the client secret (``sha256``: first 16 bytes of
SHA-256, the documented NodeJS sample; ``sha1`` and ``raw`` are the plausible
alternatives). Kept apart from the provider's crypto on purpose: the sandbox is an
independent oracle, so a mistake in the client's cipher fails the wire tests
instead of being mirrored here.

A card call: resolve the operation -> roll faults (latency, then 5xx / 429 /
dropped connection, not processed) -> bearer token (401) -> ``partnerId``
header (403) -> decrypt ``{"request": ...}`` (422 ``Invalid encrypted
request``) -> validate (400/422) -> serve (code 0, or code 1 for a business
refusal, both HTTP 200) -> faults after commit (dropped connection,
undecryptable or malformed body) -> encrypt the envelope unless
``plaintext_responses``. Every request is counted by operation and status.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from airflow_provider_enkash.sandbox import operations
from airflow_provider_enkash.sandbox.api_spec import ENDPOINTS, RequestInvalid, validate
from airflow_provider_enkash.sandbox.auth import Auth
from airflow_provider_enkash.sandbox.faults import FaultDecision, FaultInjector
from airflow_provider_enkash.sandbox.state import BusinessError, State

# -- encryption and JSON ----------------------------------------------------------------------

WRAPPER_KEYS = ("request", "response")


class Undecryptable(Exception):
    """A body that looked encrypted did not decrypt to JSON with the configured key."""


def key_for(secret: str, key_derivation: str) -> bytes:
    """The 16-byte AES key of ``secret`` under ``key_derivation`` (``raw`` needs a 16-byte secret)."""
    raw = secret.encode("utf-8")
    if key_derivation == "sha256":
        return hashlib.sha256(raw).digest()[:16]
    if key_derivation == "sha1":
        return hashlib.sha1(raw).digest()[:16]  # noqa: S324 - a key derivation EnKash may use
    if key_derivation == "raw" and len(raw) == 16:
        return raw
    raise ValueError(f"key_derivation {key_derivation!r} cannot key a {len(raw)}-byte secret")


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(obj: Any) -> str:
    """Compact JSON, Decimal as a JSON number (as EnKash's samples serialise)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=_json_number)


def loads(text: str | bytes) -> Any:
    """Parse JSON with fractional numbers as Decimal."""
    return json.loads(text, parse_float=Decimal)


def seal(obj: Any, secret: str, key_derivation: str) -> dict[str, str]:
    """``{"request": base64(AES-128-ECB(key, PKCS#7(JSON)))}``."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(dumps(obj).encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key_for(secret, key_derivation)), modes.ECB()).encryptor()  # noqa: S305
    return {"request": base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")}


def is_wrapped(body: Any) -> bool:
    """True for ``{"request": "<text>"}`` (or ``response``): one key holding a string."""
    return (
        isinstance(body, dict)
        and len(body) == 1
        and next(iter(body)) in WRAPPER_KEYS
        and isinstance(next(iter(body.values())), str)
    )


def unseal(body: dict[str, str], secret: str, key_derivation: str) -> Any:
    """The JSON inside a wrapper; :class:`Undecryptable` when it does not decrypt to JSON."""
    try:
        data = base64.b64decode(next(iter(body.values())), validate=True)
        decryptor = Cipher(algorithms.AES(key_for(secret, key_derivation)), modes.ECB()).decryptor()  # noqa: S305
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return loads((unpadder.update(padded) + unpadder.finalize()).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Undecryptable(type(exc).__name__) from None


# -- one request ------------------------------------------------------------------------------

_SERVER_ERRORS = {"http_500": 500, "http_502": 502, "http_503": 503}
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    429: "Too Many Requests",
}
UNDECRYPTABLE_BODY = {"request": "not-base64!!"}
OPERATION_PATHS = {name: endpoint.path for name, endpoint in ENDPOINTS.items()}


@dataclass
class Reply:
    """What to send back; ``drop`` closes the connection without any response."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


def json_reply(status: int, obj: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, dumps(obj).encode("utf-8"), headers=headers or {})


def _error(status: int, message: str) -> Reply:
    """A refused card call (403/400/422): always plaintext ``{"code", "message", "payload": null}``."""
    return json_reply(status, {"code": status, "message": message, "payload": None})


class Gateway:
    """Serves the token endpoint and the card operations over shared state, auth and faults."""

    def __init__(self, state: State, auth: Auth, faults: FaultInjector) -> None:
        self.state = state
        self.auth = auth
        self.faults = faults

    def _count(self, operation: str, reply: Reply) -> Reply:
        self.state.counters.record(operation, "dropped" if reply.drop else reply.status)
        return reply

    def _refusal(self, decision: FaultDecision, path: str) -> Reply | None:
        """The reply of a fault that refuses the request before processing, if one fired."""
        time.sleep(decision.delay_s)
        if decision.before == "drop_before":
            return Reply(drop=True)
        if decision.before == "http_429":
            body = {"status": 429, "error": _REASONS[429], "message": "Rate limit exceeded", "path": path}
            return json_reply(429, body, {"Retry-After": str(decision.retry_after_s)})
        if decision.before in _SERVER_ERRORS:
            status = _SERVER_ERRORS[decision.before]
            return json_reply(status, {"status": status, "error": _REASONS[status], "path": path})
        return None

    @staticmethod
    def _corrupt(decision: FaultDecision, reply: Reply) -> Reply:
        """Apply a fault that strikes after the request was processed and committed."""
        if decision.after == "drop_after_commit":
            return Reply(drop=True)
        if decision.after == "undecryptable":
            return json_reply(200, UNDECRYPTABLE_BODY)
        if decision.after == "malformed":
            return Reply(200, reply.body[: max(1, len(reply.body) // 2)])
        return reply

    def token(self, method: str, headers: Message, body: bytes) -> Reply:
        """``POST /oauth/token`` (form body, Basic auth); faults apply only to rules naming ``auth_token``."""
        if method != "POST":
            return self._count("auth_token", json_reply(405, {"error": "method_not_allowed"}))
        decision = self.faults.decide("auth_token")
        refusal = self._refusal(decision, "/oauth/token")
        if refusal is not None:
            return self._count("auth_token", refusal)
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        status, answer = self.auth.token(headers.get("Authorization"), form)
        return self._count("auth_token", self._corrupt(decision, json_reply(status, answer)))

    def card(self, method: str, path: str, headers: Message, body: bytes) -> Reply:
        """One card API call on ``path``."""
        cfg = self.state.config
        if path not in operations.PATHS:
            return self._count(
                "unknown", json_reply(404, {"status": 404, "error": "Not Found", "path": path})
            )
        if method != "POST":
            return self._count(
                "unknown", json_reply(405, {"status": 405, "error": "Method Not Allowed", "path": path})
            )
        if (
            headers.get_content_type() or ""
        ) != "application/json":  # the docs: Content-Type application/json
            body_415 = {"status": 415, "error": "Unsupported Media Type", "path": path}
            return self._count("unknown", json_reply(415, body_415))
        request, encrypted = self._open(body, cfg.client_secret, cfg.key_derivation)
        operation = operations.resolve(path, request, self.state)
        decision = self.faults.decide(operation)
        reply = self._refusal(decision, path) or self._serve(operation, headers, request, encrypted, decision)
        return self._count(operation, reply)

    @staticmethod
    def _open(body: bytes, secret: str, key_derivation: str) -> tuple[Any, bool | None]:
        """(the request JSON, True if it came encrypted / False if plaintext / None if unreadable)."""
        try:
            parsed = loads(body)
        except ValueError:
            return None, None
        if not is_wrapped(parsed):
            return parsed, False
        try:
            return unseal(parsed, secret, key_derivation), True
        except Undecryptable:
            return None, None

    def _serve(
        self, operation: str, headers: Message, request: Any, encrypted: bool | None, decision: FaultDecision
    ) -> Reply:
        cfg = self.state.config
        token, problem = self.auth.check(headers.get("Authorization"))
        if problem is None and decision.before == "revoke_token" and token is not None:
            self.auth.revoke(token)
            problem = {"error": "invalid_token", "error_description": "Access token has been revoked"}
        if problem is not None:
            return json_reply(401, problem)
        partner = headers.get("partnerId")
        if partner != cfg.partner_id:
            message = (
                "partnerId: header is required"
                if not partner
                else "partnerId: not recognised for this client"
            )
            return _error(403, message)
        if not (encrypted or (encrypted is False and cfg.accept_plaintext_requests)):
            return _error(422, "Invalid encrypted request")
        try:
            validate(operation, request, cfg)
        except RequestInvalid as exc:
            return _error(exc.status, str(exc))
        if decision.queued is not None:
            return self._queue(operation, request, decision)
        try:
            answer = self._envelope(operation, 0, "Success", operations.run(self.state, operation, request))
        except BusinessError as exc:
            answer = self._envelope(operation, 1, exc.message, exc.message)
        wire = answer if cfg.plaintext_responses else seal(answer, cfg.client_secret, cfg.key_derivation)
        return self._corrupt(decision, json_reply(200, wire))

    def _queue(self, operation: str, request: dict[str, Any], decision: FaultDecision) -> Reply:
        """Reply now (drop or 503) and process the request ``commit_after_s`` later, as a queued backend would."""

        def commit() -> None:
            with contextlib.suppress(BusinessError):  # refused later: nothing moved, as if refused now
                operations.run(self.state, operation, request)

        timer = threading.Timer(decision.commit_after_s, commit)
        timer.daemon = True
        timer.start()
        if decision.queued == "queued_commit_503":
            return json_reply(
                503, {"status": 503, "error": _REASONS[503], "path": OPERATION_PATHS.get(operation, "")}
            )
        return Reply(drop=True)

    def _envelope(self, operation: str, code: int, message: str, payload: Any) -> dict[str, Any]:
        cfg = self.state.config
        if cfg.envelope_overrides.get(operation, cfg.envelope_style) == "response_code":
            return {"response_code": code, "response_message": message, "payload": payload}
        return {"code": code, "message": message, "payload": payload}
