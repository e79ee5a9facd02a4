"""The transaction store and the load ledger.

Transactions live in parallel ``array`` columns indexed by their sequence
number ``seq`` (a million take about 100 MB); a record dict is built only
for the rows a response returns. Sequence order is time order (a new
transaction is never dated before the previous one), so a date window is two
``bisect`` calls. Indexes: seq arrays by card (``by_card``) and by card
account (``by_account``), seq lists by load reference (``by_ref``);
transaction ids and seeded references decode to their ``seq``.

Status, computed from the clock on every read (no background thread):
``CREATED`` until ``settle_ms``, then ``FAILED`` (if so decided at creation) or
``SUCCESS``, and ``REVERSED`` from ``late_ms`` on (0 = never).

The load ledger groups every load_card_balance that moved money by
``uniqueReferenceNumber``: the ground truth for double-spend tests
(``times_applied`` > 1 means the same reference moved money more than once).
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_enkash.sandbox import clock
from airflow_provider_enkash.sandbox.model import (
    Account,
    Card,
    rupees,
    seed_reference,
    seed_reference_seq,
    txn_id,
)

# -- transaction store ------------------------------------------------------------------------

CREDIT = 1  # flag: CR (else DR)
FAILS = 2  # flag: settles FAILED
SEEDED_LOAD_TYPE = "LOAD_MONEY"
SPEND_TYPE = "SALE"
# (merchantName, mcc, channel) for seeded spends.
MERCHANTS = (
    ("Big Bazaar Mumbai", "5411", "POS"),
    ("Swiggy", "5812", "ECOM"),
    ("Indian Oil Pune", "5541", "POS"),
    ("Amazon Pay India", "5399", "ECOM"),
    ("Uber India", "4121", "ECOM"),
    ("Cafe Coffee Day", "5814", "CONTACTLESS"),
    ("Apollo Pharmacy", "5912", "POS"),
    ("IRCTC", "4112", "ECOM"),
)


@dataclass(frozen=True)
class Extra:
    """What a live (non-seeded) transaction carries beyond the columns."""

    reference: str | None = None
    description: str | None = None
    merchant: tuple[str, str, str] | None = None  # (name, mcc, channel)


class TransactionStore:
    """All transactions of one sandbox. Not thread-safe on its own: ``State.lock`` guards it."""

    def __init__(self) -> None:
        self.t_ms = array("q")
        self.settle_ms = array("q")
        self.late_ms = array("q")
        self.card_ix = array("l")
        self.amount = array("q")  # paise
        self.balance = array("q")  # card balance after the transaction, paise
        self.flags = array("B")
        self.type_ix = array("B")
        self.merchant_ix = array("B")  # seeded spends: index into MERCHANTS
        self.types: list[str] = [SEEDED_LOAD_TYPE, SPEND_TYPE]
        self.by_card: dict[int, array[int]] = {}
        self.by_account: dict[str, array[int]] = {}
        self.by_ref: dict[str, list[int]] = {}
        self.extra: dict[int, Extra] = {}
        self.seeded = 0  # seqs below this were seeded
        self._failures: list[
            tuple[int, int]
        ] = []  # heap of (settle_ms, seq) that settle FAILED, not yet refunded
        self._pending: list[int] = []  # live seqs that may still be CREATED
        self._prune_at = 4096

    def __len__(self) -> int:
        return len(self.t_ms)

    def type_index(self, name: str) -> int:
        if name not in self.types:
            self.types.append(name)
        return self.types.index(name)

    def next_time(self, now: int) -> int:
        """``now``, or the last transaction's time if the clock stepped back (keeps seq order = time order)."""
        return max(now, self.t_ms[-1]) if self.t_ms else now

    def append(
        self,
        *,
        t_ms: int,
        card_ix: int,
        account_id: str,
        amount: int,
        balance: int,
        credit: bool,
        type_name: str,
        settle_ms: int,
        fails: bool = False,
        late_ms: int = 0,
        extra: Extra | None = None,
    ) -> int:
        """Record a live transaction; return its seq."""
        seq = len(self.t_ms)
        self.t_ms.append(t_ms)
        self.settle_ms.append(settle_ms)
        self.late_ms.append(late_ms)
        self.card_ix.append(card_ix)
        self.amount.append(amount)
        self.balance.append(balance)
        self.flags.append((CREDIT if credit else 0) | (FAILS if fails else 0))
        self.type_ix.append(self.type_index(type_name))
        self.merchant_ix.append(0)
        self.by_card.setdefault(card_ix, array("q")).append(seq)
        self.by_account.setdefault(account_id, array("q")).append(seq)
        if extra is not None:
            self.extra[seq] = extra
            if extra.reference is not None:
                self.by_ref.setdefault(extra.reference, []).append(seq)
        if fails:
            heapq.heappush(self._failures, (settle_ms, seq))
        self._pending.append(seq)
        if len(self._pending) >= self._prune_at:
            self._pending = [s for s in self._pending if self.settle_ms[s] > t_ms]
            self._prune_at = max(4096, 2 * len(self._pending))
        return seq

    # -- lifecycle ------------------------------------------------------------------------------

    def status(self, seq: int, now: int) -> tuple[str, int]:
        """(status, time of the last change) of ``seq`` at ``now``."""
        settle = self.settle_ms[seq]
        if now < settle:
            return "CREATED", self.t_ms[seq]
        if self.flags[seq] & FAILS:
            return "FAILED", settle
        late = self.late_ms[seq]
        if late and now >= late:
            return "REVERSED", late
        return "SUCCESS", settle

    def due_failures(self, now: int) -> list[int]:
        """Pop the loads that have settled FAILED by ``now``; each is returned exactly once."""
        due = []
        while self._failures and self._failures[0][0] <= now:
            due.append(heapq.heappop(self._failures)[1])
        return due

    def settle_all(self, now: int) -> int:
        """Settle every CREATED live transaction at ``now``; return how many."""
        settled = 0
        for seq in self._pending:
            if self.settle_ms[seq] > now:
                self.settle_ms[seq] = now
                settled += 1
        self._pending.clear()
        self._failures = [(now, seq) for _, seq in self._failures]
        heapq.heapify(self._failures)
        return settled

    # -- look-ups -------------------------------------------------------------------------------

    def reference(self, seq: int) -> str | None:
        if seq < self.seeded:
            return seed_reference(seq) if self.flags[seq] & CREDIT else None
        extra = self.extra.get(seq)
        return extra.reference if extra else None

    def with_reference(self, reference: str) -> list[int]:
        seq = seed_reference_seq(reference)
        if seq is not None and 0 <= seq < self.seeded and self.flags[seq] & CREDIT:
            return [seq]
        return list(self.by_ref.get(reference, ()))

    def window(self, start_ms: int | None, end_ms: int | None, *, end_inclusive: bool) -> tuple[int, int]:
        """The seq range ``[lo, hi)`` dated from ``start_ms`` (inclusive) to ``end_ms``."""
        lo = 0 if start_ms is None else bisect_left(self.t_ms, start_ms)
        if end_ms is None:
            return lo, len(self.t_ms)
        return lo, (bisect_right if end_inclusive else bisect_left)(self.t_ms, end_ms)

    # -- rendering ------------------------------------------------------------------------------

    def render(self, seq: int, now: int, ts: str, card: Card, account: Account) -> dict[str, Any]:
        """The API record of ``seq`` (REFERENCE.md section 9.16), timestamps in style ``ts``."""
        status, changed = self.status(seq, now)
        credit = bool(self.flags[seq] & CREDIT)
        type_name = self.types[self.type_ix[seq]]
        reference = self.reference(seq)
        extra = self.extra.get(seq)
        if extra is not None:
            merchant, description = extra.merchant, extra.description
        elif credit:
            merchant, description = None, "Card load"
        else:
            merchant = MERCHANTS[self.merchant_ix[seq]]
            description = f"Purchase at {merchant[0]}"
        created = clock.render(self.t_ms[seq], ts)
        return {
            "enKashCardTransactionId": txn_id(seq),
            "maskedCard": card.masked_number,
            "enkashCardId": card.enkash_card_id,
            "userId": card.user_id,
            "cardKitNumber": card.kit_number,
            "cardHolderName": card.holder_name,
            "companyId": card.company_id,
            "companyName": account.company_name,
            "cardAccountId": card.card_account_id,
            "principalAmount": rupees(self.amount[seq]),
            "fcyAmount": 0,
            "fcyCurrency": None,
            "currency": "INR",
            "balance": rupees(self.balance[seq]),
            "pgReferenceNumber": reference,
            "description": description,
            "cardTransactionType": "CR" if credit else "DR",
            "status": status,
            "type": type_name,
            "createdOn": created,
            "txnDate": created,
            "modifiedOn": clock.render(changed, ts),
            "txnDetails": {
                "id": seq + 1,
                "txnRefNo": reference,
                "merchantName": merchant[0] if merchant else None,
                "transactionType": type_name,
                "mcc": merchant[1] if merchant else None,
                "channel": merchant[2] if merchant else None,
                "retrievalRefNo": None if credit else f"{(seq * 7919 + 104729) % 10**12:012d}",
                "traceNo": None if credit else f"{seq % 1_000_000:06d}",
                "txnCurrency": "INR",
                "network": None if credit else "RUPAY",
                "transactionFees": 0,
            },
        }


# -- load ledger ------------------------------------------------------------------------------


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
