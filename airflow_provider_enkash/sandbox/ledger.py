"""The load ledger: every load_card_balance that moved money, grouped by uniqueReferenceNumber.

It is the ground truth for double-spend tests: ``times_applied`` > 1 means
the same reference moved money more than once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_enkash.sandbox.identifiers import txn_id
from airflow_provider_enkash.sandbox.model import rupees


@dataclass(eq=False)
class LedgerEntry:
    """One reference (or one unreferenced load): its first card and amount, and every application."""

    reference: str | None
    enkash_card_id: str
    amount_paise: int
    seqs: list[int] = field(default_factory=list)
    first_payload: dict[str, Any] | None = None


class LoadLedger:
    """Loads in the order they were first applied."""

    def __init__(self) -> None:
        self._by_reference: dict[str, LedgerEntry] = {}
        self._entries: list[LedgerEntry] = []

    def get(self, reference: str | None) -> LedgerEntry | None:
        return None if reference is None else self._by_reference.get(reference)

    def record(
        self, reference: str | None, card_id: str, paise: int, seq: int, payload: dict[str, Any]
    ) -> None:
        """Add one application of ``reference`` (transaction number ``seq``, its response ``payload``)."""
        entry = self.get(reference)
        if entry is None:
            entry = LedgerEntry(reference, card_id, paise, first_payload=payload)
            self._entries.append(entry)
            if reference is not None:
                self._by_reference[reference] = entry
        entry.seqs.append(seq)

    def view(self, status_of: Callable[[int], str]) -> list[dict[str, Any]]:
        """JSON-ready entries; ``status_of(seq)`` gives each application's current status."""
        return [
            {
                "reference": e.reference,
                "enkash_card_id": e.enkash_card_id,
                "amount": str(rupees(e.amount_paise)),
                "times_applied": len(e.seqs),
                "transaction_ids": [txn_id(s) for s in e.seqs],
                "statuses": [status_of(s) for s in e.seqs],
            }
            for e in self._entries
        ]
