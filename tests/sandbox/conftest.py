"""A raw EnKash client written only from REFERENCE.md (requests + the provider's crypto), and sandbox fixtures.

The session sandbox (``sandbox_server``) and the per-test reset (``sandbox``)
come from ``tests/conftest.py``; ``client`` talks to it at the wire.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_enkash.crypto import dumps_payload, loads_payload, open_envelope, seal
from airflow_provider_enkash.operations import OPERATIONS, TOKEN_PATH
from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig


class RawClient:
    """Token, encryption and envelopes by hand, so each protocol step can be bent in a test."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.config = sandbox.config
        self.url = sandbox.url
        self.session = requests.Session()
        self.token: str | None = None

    # -- token ----------------------------------------------------------------------------------

    def token_response(
        self, *, password: str | None = None, secret: str | None = None, **form: str
    ) -> requests.Response:
        cfg = self.config
        data = {
            "username": cfg.username,
            "password": password or cfg.password,
            "grant_type": "password",
            "clientId": cfg.client_id,
        }
        data.update(form)
        return self.session.post(
            self.url + TOKEN_PATH, data=data, auth=(cfg.client_id, secret or cfg.client_secret), timeout=10
        )

    def login(self) -> str:
        response = self.token_response()
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return self.token

    # -- card calls -----------------------------------------------------------------------------

    def post(
        self,
        operation: str,
        payload: dict[str, Any],
        *,
        encrypt: bool = True,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        defaults: bool = True,
        timeout: float = 10,
    ) -> requests.Response:
        """POST ``payload`` to ``operation``'s path; companyId/cardAccountId default from the config."""
        if defaults:
            payload = {
                "companyId": self.config.company_id,
                "cardAccountId": self.config.card_account_id,
                **payload,
            }
        body = seal(payload, self.config.client_secret) if encrypt else payload
        all_headers = {
            "Authorization": f"Bearer {token or self.token or self.login()}",
            "partnerId": self.config.partner_id,
            "Content-Type": "application/json",
            **(headers or {}),
        }
        return self.session.post(
            self.url + OPERATIONS[operation].path,
            data=dumps_payload(body),
            headers=all_headers,
            timeout=timeout,
        )

    def envelope(self, response: requests.Response) -> dict[str, Any]:
        """The decrypted (or plaintext) response envelope."""
        return open_envelope(loads_payload(response.content), self.config.client_secret)

    def call(self, operation: str, payload: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """The envelope of an HTTP-200 call."""
        response = self.post(operation, payload, **kwargs)
        assert response.status_code == 200, (response.status_code, response.text)
        return self.envelope(response)

    def ok(self, operation: str, payload: dict[str, Any], **kwargs: Any) -> Any:
        """The payload of a successful (code 0) call."""
        envelope = self.call(operation, payload, **kwargs)
        code = envelope.get("code", envelope.get("response_code"))
        assert code == 0, envelope
        return envelope["payload"]

    def refused(self, operation: str, payload: dict[str, Any], **kwargs: Any) -> str:
        """The message of a business refusal (HTTP 200, code 1, message repeated in payload)."""
        envelope = self.call(operation, payload, **kwargs)
        code = envelope.get("code", envelope.get("response_code"))
        message = envelope.get("message", envelope.get("response_message"))
        assert code == 1, envelope
        assert envelope["payload"] == message
        return message

    # -- conveniences ---------------------------------------------------------------------------

    def new_card(self, **fields: Any) -> str:
        return self.ok("create_prepaid_card", {"firstName": "Asha", "mobile": "9876543210", **fields})[
            "enKashCardId"
        ]

    def load(self, card: str, amount: Any, reference: str | None, **fields: Any) -> dict[str, Any]:
        payload = {"enKashCardId": card, "amount": amount, "transactionType": "CR", **fields}
        if reference is not None:
            payload["uniqueReferenceNumber"] = reference
        return self.call("load_card_balance", payload)

    def search(self, **filters: Any) -> dict[str, Any]:
        return self.ok("get_all_transactions", filters)


@pytest.fixture
def client(sandbox: Any, sandbox_server: Sandbox) -> RawClient:
    """A raw client of the session sandbox, freshly reset by the ``sandbox`` fixture."""
    return RawClient(sandbox_server)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_sandbox() -> Iterator[Any]:
    """Start extra sandboxes with a custom config; all are stopped after the test."""
    started: list[Sandbox] = []

    def start(**config: Any) -> tuple[Sandbox, RawClient]:
        sandbox = Sandbox(SandboxConfig(**config)).start()
        started.append(sandbox)
        return sandbox, RawClient(sandbox)

    yield start
    for sandbox in started:
        sandbox.stop()
