"""Get Transaction Details at the wire, against both plausible servers: one requiring ``enKashCardId``
(as documented, the sandbox's default) and one accepting a reference alone (``details_without_card``)."""

from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.mark.parametrize("details_without_card", [False, True])
def test_hook_finds_a_load_by_reference_on_either_server(sandbox, hook, details_without_card):
    sandbox.post("config", {"details_without_card": details_without_card})
    card = hook.create_prepaid_card(first_name="Asha", mobile="9876543210")["enKashCardId"]
    hook.load_card_balance(
        enkash_card_id=card, amount=Decimal("12.50"), unique_reference_number="DETAILS-HOOK"
    )
    records = hook.get_transaction_details(enkash_card_id=card, pg_reference_number="DETAILS-HOOK")
    assert [(r["enkashCardId"], r["pgReferenceNumber"]) for r in records] == [(card, "DETAILS-HOOK")]
    assert hook.get_transaction_details(enkash_card_id=card, pg_reference_number="NO-SUCH-REF") == []
    assert sandbox.get("counters")["statuses"].get("400") is None  # the hook always sends the card
