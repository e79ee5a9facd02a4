"""The probe's wire: encode one read request as detected so far, send it, open the answer.

Only READ operations are ever sent (:class:`ProbeWire` refuses any other). What the probe detects
about the wire (request encryption, key derivation, date format, encrypted responses) is kept on
the :class:`ProbeWire` and updated as answers come in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_enkash.crypto import KEY_DERIVATIONS, is_envelope, loads_payload, open_envelope
from airflow_provider_enkash.exceptions import EnKashCryptoError
from airflow_provider_enkash.operations import OPERATIONS, OperationKind
from airflow_provider_enkash.transport import TokenRejected, card_request, post


class ProbeStopped(Exception):
    """The probe cannot go on (a refused login, an unreadable answer); the message says why and what to check."""


@dataclass
class ProbeWire:
    """How requests are encoded and responses opened, as detected so far, and the calls themselves.

    :param hook: the :class:`~airflow_provider_enkash.hooks.enkash.EnKashHook` whose connection is probed.
    :param encrypt: whether requests are sent encrypted.
    :param key_derivation: the AES key derivation (see :data:`~airflow_provider_enkash.crypto.KEY_DERIVATIONS`).
    :param date_format: the request date format (``millis`` or ``seconds``).
    :param responses_encrypted: whether answers came encrypted (None until one is read).
    """

    hook: Any
    encrypt: bool
    key_derivation: str
    date_format: str
    responses_encrypted: bool | None = None

    def send(self, operation: str, payload: dict[str, Any]) -> Any:
        """One read call, encoded as detected so far; return the opened envelope (code checked by the caller)."""
        if OPERATIONS[operation].kind is not OperationKind.READ:  # the probe's promise: never a write
            raise AssertionError(f"the probe sends read operations only, not {operation}")
        s = self.hook.settings
        body = self.hook._with_account_defaults(operation, payload)
        wire = replace(s, encrypt_requests=self.encrypt, key_derivation=self.key_derivation)
        token = self.hook.get_token()
        url, content, headers = card_request(wire, operation, body, token)
        try:
            response = post(
                self.hook.get_conn(),
                url,
                body=content,
                headers=headers,
                operation=operation,
                secrets=self.hook.exchange_secrets(body, token),
            )
        except TokenRejected:
            raise ProbeStopped(
                f"{operation}: the card API refused the fresh access token (HTTP 401); the token URL "
                "(extra auth_url) may belong to another environment than the API host"
            ) from None
        return self.open_answer(operation, response.content)

    def open_answer(self, operation: str, content: bytes) -> Any:
        """The answer's JSON, opened with whichever key derivation works (remembered for the next call)."""
        try:
            body = loads_payload(content)
        except ValueError:
            raise ProbeStopped(f"{operation}: the answer is not JSON") from None
        if not is_envelope(body):
            self.responses_encrypted = False
            return body
        secret = self.hook.settings.client_secret
        for derivation in (self.key_derivation, *(d for d in KEY_DERIVATIONS if d != self.key_derivation)):
            try:
                envelope = open_envelope(body, secret, key_derivation=derivation)
            except EnKashCryptoError:
                continue
            self.responses_encrypted, self.key_derivation = True, derivation
            return envelope
        raise ProbeStopped(
            f"{operation}: the answer is encrypted but no key derivation ({', '.join(KEY_DERIVATIONS)}) opens it "
            "with this client_secret: check the extra client_secret"
        )

    def read(self, operation: str, payload: dict[str, Any]) -> Any:
        """The payload of a successful read; a non-zero code stops the probe with EnKash's message."""
        envelope = self.send(operation, payload)
        if not isinstance(envelope, dict) or not ({"code", "response_code"} & envelope.keys()):
            raise ProbeStopped(f"{operation}: the answer has no code/response_code envelope")
        code = envelope.get("code", envelope.get("response_code"))
        if code not in (0, "0"):
            message = str(envelope.get("message", envelope.get("response_message", "")))[:200]
            raise ProbeStopped(
                f"{operation}: EnKash refused it (code {code!r}: {message!r}); check company_id and card_account_id"
            )
        return envelope
