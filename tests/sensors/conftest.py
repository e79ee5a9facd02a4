"""Fixtures for the sensor tests: a card on the sandbox and a way to load it."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from airflow_provider_enkash.models import LoadResult

_references = itertools.count(1)


@pytest.fixture
def card(hook) -> str:
    """A fresh prepaid card on the sandbox's reloadable account."""
    return hook.create_prepaid_card(first_name="Asha", mobile="9123456780")["enKashCardId"]


@pytest.fixture
def load(hook, card):
    """``load(amount="100.00")``: load the fixture card with a fresh reference; returns the ``LoadResult``."""

    def _load(amount: str = "100.00", *, enkash_card_id: str | None = None) -> LoadResult:
        return hook.load_card_balance(
            enkash_card_id=enkash_card_id or card,
            amount=amount,
            unique_reference_number=f"SENSOR-{next(_references)}",
        )

    return _load


def run_trigger(trigger: Any) -> list[Any]:
    """Every event ``trigger.run()`` yields (exactly one is expected), run under asyncio."""

    async def collect() -> list[Any]:
        return [event async for event in trigger.run()]

    return asyncio.run(collect())
