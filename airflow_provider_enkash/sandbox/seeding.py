"""Start-up data: ``seed_cards`` cards and ``seed_transactions`` settled transactions.

Transactions are spread uniformly over ``days`` days ending at ``seed_end``
(default: now) across the seeded cards, deterministic for a ``random_seed``.
About 30% are loads (``LOAD_MONEY``, CR, reference ``SEED`` + id digits),
the rest card spends (``SALE``, DR); 97% settle SUCCESS, 2% FAILED (no money
moved), 1% turn REVERSED an hour later. Card balances are the net of their
history; the account balance stays as configured. One million transactions
take a few seconds and about 100 MB.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING

from airflow_provider_enkash.sandbox import clock
from airflow_provider_enkash.sandbox.transactions import CREDIT, FAILS, MERCHANTS

if TYPE_CHECKING:
    from airflow_provider_enkash.sandbox.state import State

DEFAULT_SEED_CARDS = 100  # used when transactions are seeded without cards
LOAD_SHARE = 0.3
FAILED_SHARE = 0.02
REVERSED_SHARE = 0.01
SETTLE_MS = 2_000
REVERSAL_AFTER_MS = 3_600_000
_FIRST_NAMES = ("Aarav", "Asha", "Ravi", "Priya", "Vikram", "Neha", "Arjun", "Kavya", "Rohan", "Isha")
_LAST_NAMES = ("Sharma", "Iyer", "Patel", "Reddy", "Singh", "Nair", "Gupta", "Das", "Mehta", "Rao")


def seed(state: State, now: int) -> None:
    """Create the configured cards and transactions in the reloadable account."""
    cfg = state.config
    count = cfg.seed_cards or (DEFAULT_SEED_CARDS if cfg.seed_transactions else 0)
    end = clock.from_datetime(cfg.seed_end) if cfg.seed_end is not None else now
    start = end - round(cfg.days * 86_400_000)
    account = state.accounts[cfg.card_account_id]
    cards = [state.issue_card(account, holder(state, i), min(start, now)) for i in range(count)]
    if cfg.seed_transactions and cards:
        _seed_transactions(state, [c.ix for c in cards], cfg.seed_transactions, start, end)


def holder(state: State, i: int) -> dict[str, str]:
    """Card-holder fields of generated card number ``i``."""
    first = _FIRST_NAMES[i % len(_FIRST_NAMES)]
    last = _LAST_NAMES[(i // len(_FIRST_NAMES)) % len(_LAST_NAMES)]
    return {
        "title": "Ms" if i % 2 else "Mr",
        "firstName": first,
        "lastName": last,
        "gender": "F" if i % 2 else "M",
        "mobile": f"9{state.rng.randrange(10**9):09d}",
        "email": f"{first.lower()}.{last.lower()}{i}@example.com",
    }


def _month_starts(start: int, end: int) -> list[int]:
    """IST month boundaries (ms) after ``start`` up to ``end``."""
    year, month = clock.ist_month(start)
    starts: list[int] = []
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        ms = clock.parse_iso(f"{year:04d}-{month:02d}-01T00:00:00+05:30")
        if ms > end:
            return starts
        starts.append(ms)


def _seed_transactions(state: State, card_ixs: list[int], total: int, start: int, end: int) -> None:
    store = state.txns
    rng = state.rng.random
    span = max(1, end - start)
    times = sorted(start + int(rng() * span) for _ in range(total))
    n_cards = len(card_ixs)
    balances = [0] * n_cards
    per_card: list[list[int]] = [[] for _ in range(n_cards)]
    t_col, settle_col, late_col, card_col = array("q"), array("q"), array("q"), array("l")
    amount_col, balance_col, flag_col, type_col, merchant_col = (
        array("q"),
        array("q"),
        array("B"),
        array("B"),
        array("B"),
    )
    n_merchants = len(MERCHANTS)
    boundaries = _month_starts(start, end)
    next_boundary, b = (boundaries[0] if boundaries else end + 1), 0
    allocated = redeemed = 0
    monthly: dict[tuple[int, int], list[int]] = {}
    month = monthly.setdefault(clock.ist_month(start), [0, 0])
    for seq, t in enumerate(times):
        if t >= next_boundary:
            while b < len(boundaries) and boundaries[b] <= t:
                b += 1
            next_boundary = boundaries[b] if b < len(boundaries) else end + 1
            month = monthly.setdefault(clock.ist_month(t), [0, 0])
        c = int(rng() * n_cards)
        balance = balances[c]
        credit = rng() < LOAD_SHARE or balance < 1_000
        # loads: whole rupees 500..4999; spends: 10.00..2009.99 rupees, never more than the card holds
        amount = (500 + int(rng() * 4_500)) * 100 if credit else min(balance, 1_000 + int(rng() * 200_000))
        roll = rng()
        failed = roll < FAILED_SHARE
        if not failed:
            balance = balances[c] = balance + amount if credit else balance - amount
            if credit:
                allocated += amount
                month[0] += amount
            else:
                redeemed += amount
                month[1] += amount
        t_col.append(t)
        settle_col.append(t + SETTLE_MS)
        late_col.append(
            t + REVERSAL_AFTER_MS if credit and FAILED_SHARE <= roll < FAILED_SHARE + REVERSED_SHARE else 0
        )
        card_col.append(card_ixs[c])
        amount_col.append(amount)
        balance_col.append(balance)
        flag_col.append((CREDIT if credit else 0) | (FAILS if failed else 0))
        type_col.append(0 if credit else 1)
        merchant_col.append(0 if credit else int(rng() * n_merchants))
        per_card[c].append(seq)
    for column, values in (
        (store.t_ms, t_col),
        (store.settle_ms, settle_col),
        (store.late_ms, late_col),
        (store.card_ix, card_col),
        (store.amount, amount_col),
        (store.balance, balance_col),
        (store.flags, flag_col),
        (store.type_ix, type_col),
        (store.merchant_ix, merchant_col),
    ):
        column.extend(values)
    store.seeded = total
    account = state.accounts[state.config.card_account_id]
    store.by_account[account.card_account_id] = array("q", range(total))
    for c, ix in enumerate(card_ixs):
        store.by_card[ix] = array("q", per_card[c])
        state.card_list[ix].balance_paise = balances[c]
    account.cards_paise += sum(balances)
    account.allocated_paise += allocated
    account.redeemed_paise += redeemed
    for key, (alloc, redeem) in monthly.items():
        totals = account.monthly.setdefault(key, [0, 0])
        totals[0] += alloc
        totals[1] += redeem
