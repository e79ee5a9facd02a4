"""Get Transaction Details (sync hook and async client) reads its answer as the transaction reader does:
the connection's ``reference_fields``, and "cannot tell" is never an empty "not there"."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_enkash.async_client import AsyncEnKashClient
from airflow_provider_enkash.exceptions import EnKashOutcomeUnknown
from airflow_provider_enkash.hooks.enkash import EnKashHook
from airflow_provider_enkash.token_cache import TOKEN_CACHE
from tests.conftest import connection_json


def _hook(monkeypatch, sandbox_server, **extra: Any) -> EnKashHook:
    TOKEN_CACHE.clear()
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(sandbox_server, **extra))
    return EnKashHook()


def _details(hook: EnKashHook, *, via: str, card: str, reference: str) -> list[dict[str, Any]]:
    if via == "hook":
        return hook.get_transaction_details(enkash_card_id=card, pg_reference_number=reference)
    client = AsyncEnKashClient(hook)
    return asyncio.run(client.get_transaction_details(enkash_card_id=card, pg_reference_number=reference))


def _loaded_card(hook: EnKashHook, *references: str) -> str:
    card = hook.create_prepaid_card(first_name="Asha", mobile="9876543210")["enKashCardId"]
    for reference in references:
        hook.load_card_balance(enkash_card_id=card, amount="5.00", unique_reference_number=reference)
    return card


VIA = pytest.mark.parametrize("via", ["hook", "async"])


@VIA
def test_a_reference_under_unique_reference_number_is_found(sandbox, sandbox_server, monkeypatch, via):
    hook = _hook(monkeypatch, sandbox_server)
    card = _loaded_card(hook, "MATCH-1")
    sandbox.post("config", {"reference_field": "uniqueReferenceNumber"})
    (record,) = _details(hook, via=via, card=card, reference="MATCH-1")
    assert record["uniqueReferenceNumber"] == "MATCH-1"


@VIA
def test_an_ignored_reference_filter_is_unknown_not_absent(sandbox, sandbox_server, monkeypatch, via):
    hook = _hook(monkeypatch, sandbox_server)
    card = _loaded_card(hook, "OTHER-1", "OTHER-2")
    sandbox.post("config", {"ignore_search_filters": True})
    with pytest.raises(EnKashOutcomeUnknown, match="ignored the reference filter") as caught:
        _details(hook, via=via, card=card, reference="NEVER-SENT")
    assert caught.value.reference == "NEVER-SENT"


@VIA
def test_rows_without_any_configured_reference_field_are_unknown(sandbox, sandbox_server, monkeypatch, via):
    hook = _hook(monkeypatch, sandbox_server, reference_fields="uniqueReferenceNumber")
    card = _loaded_card(hook, "FIELDLESS-1")
    with pytest.raises(EnKashOutcomeUnknown, match="none of the reference fields"):
        _details(hook, via=via, card=card, reference="FIELDLESS-1")


@VIA
def test_an_answer_at_the_search_cap_is_unknown(sandbox, sandbox_server, monkeypatch, via):
    hook = _hook(monkeypatch, sandbox_server, search_cap=1)
    card = _loaded_card(hook, "CAPPED-1")
    with pytest.raises(EnKashOutcomeUnknown, match="truncated"):
        _details(hook, via=via, card=card, reference="CAPPED-1")


@VIA
def test_an_answer_proving_absence_is_still_an_empty_list(sandbox, sandbox_server, monkeypatch, via):
    hook = _hook(monkeypatch, sandbox_server)
    card = _loaded_card(hook, "PRESENT-1")
    assert _details(hook, via=via, card=card, reference="ABSENT-1") == []
    assert [r["pgReferenceNumber"] for r in _details(hook, via=via, card=card, reference="PRESENT-1")] == [
        "PRESENT-1"
    ]
