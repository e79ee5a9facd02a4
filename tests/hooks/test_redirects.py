"""Redirects are never followed: a 3xx from the token endpoint or a card call is a typed error.

Two local servers on 127.0.0.1 play EnKash (a proxy to the sandbox that redirects chosen paths)
and "another host" (a recorder that would happily accept credentials and hand out a token).
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_enkash.exceptions import EnKashOutcomeUnknown, EnKashRedirectError
from airflow_provider_enkash.hooks.enkash import EnKashHook
from airflow_provider_enkash.operations import OPERATIONS, TOKEN_PATH
from tests.conftest import connection_json
from tests.redirect_servers import RecordingServer, RedirectingProxy


def _use(monkeypatch, sandbox_server, *, host: str, token_url: str) -> EnKashHook:
    conn = json.loads(connection_json(sandbox_server))
    conn["host"] = host
    conn["extra"].pop("token_url", None)
    conn["extra"]["auth_url"] = token_url
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", json.dumps(conn))
    return EnKashHook()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_token_redirect_is_refused_and_the_password_goes_nowhere(
    sandbox, sandbox_server, monkeypatch, status
):
    with (
        RecordingServer() as elsewhere,
        RedirectingProxy(
            upstream=sandbox_server.url, redirect_paths={TOKEN_PATH}, location=elsewhere.url, status=status
        ) as enkash,
    ):
        hook = _use(monkeypatch, sandbox_server, host=enkash.url, token_url=enkash.url + TOKEN_PATH)
        with pytest.raises(EnKashRedirectError) as info:
            hook.get_card_account_details()
    assert enkash.redirected == [TOKEN_PATH]
    assert elsewhere.received == []
    assert info.value.location_host == elsewhere.host and info.value.status == status
    assert elsewhere.host in str(info.value)
    assert "leak" not in str(info.value) and TOKEN_PATH not in str(info.value)  # host only, no path or query
    assert sandbox.requests_total() == 0


def test_card_call_redirect_is_refused_and_nothing_is_resent(sandbox, sandbox_server, monkeypatch):
    path = OPERATIONS["get_card_account_details"].path
    with (
        RecordingServer() as elsewhere,
        RedirectingProxy(
            upstream=sandbox_server.url, redirect_paths={path}, location=elsewhere.url
        ) as enkash,
    ):
        hook = _use(monkeypatch, sandbox_server, host=enkash.url, token_url=sandbox_server.url + TOKEN_PATH)
        with pytest.raises(EnKashRedirectError) as info:
            hook.get_card_account_details()
    assert elsewhere.received == []  # neither the bearer token, the partnerId nor the body left for it
    assert enkash.redirected == [path]  # a redirect is not retried like a 5xx
    assert info.value.location_host == elsewhere.host


def test_load_answered_with_302_is_an_unclear_outcome_never_loaded(sandbox, sandbox_server, monkeypatch):
    card = sandbox.post("cards", {"count": 1})["enkash_card_ids"][0]
    path = OPERATIONS["load_card_balance"].path
    with (
        RecordingServer() as elsewhere,
        RedirectingProxy(
            upstream=sandbox_server.url, redirect_paths={path}, location=elsewhere.url, status=302
        ) as enkash,
    ):
        hook = _use(monkeypatch, sandbox_server, host=enkash.url, token_url=sandbox_server.url + TOKEN_PATH)
        with pytest.raises(EnKashOutcomeUnknown) as info:
            hook.load_card_balance(enkash_card_id=card, amount="100.00", unique_reference_number="REDIR-1")
    assert info.value.reference == "REDIR-1"
    assert elsewhere.received == []
    assert enkash.redirected == [path]  # sent once, then settled by look-up, never resent
    assert sandbox.get("ledger")["loads"] == []
