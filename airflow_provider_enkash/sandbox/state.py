"""The sandbox's state: company -> card accounts -> cards -> transactions, behind one lock.

Every API handler and admin call runs under ``State.lock`` after
``settle_due`` has applied the failed loads that settled since the last
call, so balances read are always exact (``Decimal`` rupees via ``balance``).
Request counters (per operation, per HTTP status, in total) live beside it.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from airflow_provider_enkash.sandbox import clock, seeding
from airflow_provider_enkash.sandbox.config import SandboxConfig
from airflow_provider_enkash.sandbox.model import Account, Card, card_number, code, digits
from airflow_provider_enkash.sandbox.transactions import Extra, LoadLedger, TransactionStore

# -- request counters -------------------------------------------------------------------------


class Counters:
    """Thread-safe tallies; a dropped connection counts under the status ``dropped``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.operations: Counter[str] = Counter()
            self.statuses: Counter[str] = Counter()

    def record(self, operation: str, status: int | str) -> None:
        """Count one request to ``operation`` (``auth_token`` for the token call) answered with ``status``."""
        with self._lock:
            self.total += 1
            self.operations[operation] += 1
            self.statuses[str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": self.total, "operations": dict(self.operations), "statuses": dict(self.statuses)}


# -- state ------------------------------------------------------------------------------------


class BusinessError(Exception):
    """EnKash understood the request and refused it: HTTP 200 with code 1 and the message in the payload."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


OTP_LIFETIME_MS = 10 * 60 * 1000
EXPIRY_YEARS = 5


@dataclass(eq=False)
class Otp:
    """An OTP sent for one card; usable once before ``expires_ms``."""

    enkash_card_id: str
    otp: str
    expires_ms: int
    used: bool = False


class State:
    """Everything the sandbox remembers. ``reset()`` rebuilds it from the initial config.

    :param config: the configuration at start; ``config`` holds the current (run-time) one.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.lock = threading.RLock()
        self.initial_config = config
        self.counters = Counters()
        self.reset()

    def reset(self) -> None:
        """Back to the initial config: accounts, seeded cards and transactions; counters zeroed."""
        with self.lock:
            cfg = self.config = self.initial_config
            self.rng = random.Random(cfg.random_seed)
            self.accounts: dict[str, Account] = {}
            self.cards: dict[str, Card] = {}
            self.card_list: list[Card] = []
            self.users: dict[str, list[str]] = {}
            self.txns = TransactionStore()
            self.ledger = LoadLedger()
            self.otps: dict[str, Otp] = {}
            self.pins_seen: list[str] = []
            self.counters.reset()
            now = clock.now_ms()
            self.open_account(
                cfg.card_account_id,
                "RELOADABLE_GPR",
                "Sandbox reloadable account",
                cfg.card_account_balance,
                now,
            )
            self.open_account(
                cfg.gift_account_id, "GIFT", "Sandbox gift account", cfg.gift_account_balance, now
            )
            seeding.seed(self, now)

    # -- accounts and cards ---------------------------------------------------------------------

    def open_account(
        self, account_id: str, account_type: str, title: str, balance: Decimal, now: int
    ) -> Account:
        account = Account(
            card_account_id=account_id,
            company_id=self.config.company_id,
            company_name=self.config.company_name,
            account_type=account_type,
            title=title,
            balance_paise=int(balance * 100),
            created_ms=now,
        )
        self.accounts[account_id] = account
        return account

    def account(self, company_id: str | None, card_account_id: str | None) -> Account:
        """The account, checked against the company; raise the business error EnKash would send."""
        if company_id is not None and company_id != self.config.company_id:
            raise BusinessError("Company not found")
        account = self.accounts.get(card_account_id) if card_account_id else None
        if account is None:
            raise BusinessError("Card account not found")
        return account

    def card(self, enkash_card_id: str, account: Account | None = None) -> Card:
        """The card, checked to belong to ``account`` when given."""
        card = self.cards.get(enkash_card_id)
        if card is None or (account is not None and card.card_account_id != account.card_account_id):
            raise BusinessError("Card not found")
        return card

    def new_id(self, prefix: str, length: int, taken: Any) -> str:
        while True:
            candidate = prefix + code(self.rng, length)
            if candidate not in taken:
                return candidate

    def issue_card(
        self, account: Account, holder: dict[str, Any], now: int, *, user_id: str | None = None
    ) -> Card:
        """Create an ACTIVE card in ``account`` (a GIFT account issues gift cards)."""
        rng = self.rng
        card_id = self.new_id("EKC", 7, self.cards)
        user = user_id or self.new_id("EK", 6, self.users)
        expiry = clock.to_datetime(now)
        card = Card(
            ix=len(self.card_list),
            enkash_card_id=card_id,
            user_id=user,
            card_account_id=account.card_account_id,
            company_id=account.company_id,
            card_type="GIFT" if account.account_type == "GIFT" else "PREPAID",
            holder=holder,
            card_number=card_number(rng),
            cvv=digits(rng, 3),
            expiry_month=f"{expiry.month:02d}",
            expiry_year=str(expiry.year + EXPIRY_YEARS),
            kit_number=digits(rng, 12),
            token=f"{rng.getrandbits(80):020x}",
            created_ms=now,
            modified_ms=now,
            primary=account.primary_card_id is None,
        )
        if card.primary:
            account.primary_card_id = card_id
        self.cards[card_id] = card
        self.card_list.append(card)
        self.users.setdefault(user, []).append(card_id)
        account.card_ids.append(card_id)
        return card

    # -- money ----------------------------------------------------------------------------------

    def credit_card(
        self,
        account: Account,
        card: Card,
        paise: int,
        now: int,
        *,
        type_name: str,
        extra: Extra,
        lifecycle: bool,
    ) -> int:
        """Move ``paise`` from ``account`` onto ``card`` and record the CR transaction; return its seq.

        :param lifecycle: apply ``failure_rate``/``late_change_rate`` (loads), else it settles SUCCESS.
        """
        if account.balance_paise < paise:
            raise BusinessError("Insufficient balance in card account")
        cfg = self.config
        fails = lifecycle and self.rng.random() < cfg.failure_rate
        t = self.txns.next_time(now)
        settle = t + round(cfg.settle_delay_s * 1000)
        late = 0
        if lifecycle and not fails and self.rng.random() < cfg.late_change_rate:
            late = settle + max(1, round(cfg.late_change_delay_s * 1000))
        account.balance_paise -= paise
        card.balance_paise += paise
        account.cards_paise += paise
        return self._book(
            account, card, t, paise, credit=True, type_name=type_name, settle_ms=settle, extra=extra,
            fails=fails, late_ms=late,
        )  # fmt: skip

    def debit_card(self, card: Card, paise: int, now: int, *, extra: Extra) -> int:
        """Spend ``paise`` from ``card`` (a DR SALE); return the transaction's seq."""
        if card.status != "ACTIVE":
            raise BusinessError("Card is blocked")
        if card.balance_paise < paise:
            raise BusinessError("Insufficient balance on card")
        account = self.accounts[card.card_account_id]
        t = self.txns.next_time(now)
        card.balance_paise -= paise
        account.cards_paise -= paise
        settle = t + round(self.config.settle_delay_s * 1000)
        return self._book(
            account, card, t, paise, credit=False, type_name="SALE", settle_ms=settle, extra=extra
        )

    def _book(
        self,
        account: Account,
        card: Card,
        t: int,
        paise: int,
        *,
        credit: bool,
        type_name: str,
        settle_ms: int,
        extra: Extra,
        fails: bool = False,
        late_ms: int = 0,
    ) -> int:
        """Count the flow and record the CR or DR of ``paise`` at ``t`` (balances already moved); return its seq."""
        account.count_flow(t, paise, credit=credit)
        return self.txns.append(
            t_ms=t,
            card_ix=card.ix,
            account_id=account.card_account_id,
            amount=paise,
            balance=card.balance_paise,
            credit=credit,
            type_name=type_name,
            settle_ms=settle_ms,
            fails=fails,
            late_ms=late_ms,
            extra=extra,
        )

    def settle_due(self, now: int) -> None:
        """Return the money of every load that has settled FAILED by ``now`` to its account (once each)."""
        for seq in self.txns.due_failures(now):
            card = self.card_list[self.txns.card_ix[seq]]
            account = self.accounts[card.card_account_id]
            paise = self.txns.amount[seq]
            card.balance_paise -= paise
            account.cards_paise -= paise
            account.balance_paise += paise
            account.count_flow(self.txns.t_ms[seq], -paise, credit=True)

    # -- OTPs -----------------------------------------------------------------------------------

    def new_otp(self, card: Card, now: int) -> tuple[str, str]:
        request_id = self.new_id("OTPR", 10, self.otps)
        otp = digits(self.rng, 6)
        self.otps[request_id] = Otp(card.enkash_card_id, otp, now + OTP_LIFETIME_MS)
        return request_id, otp

    def use_otp(self, card: Card, request_id: Any, otp: Any, now: int) -> None:
        """Consume a matching, unused, unexpired OTP of ``card`` or raise ``Invalid OTP``."""
        entry = self.otps.get(request_id) if isinstance(request_id, str) else None
        if (
            entry is None
            or entry.used
            or entry.expires_ms < now
            or entry.enkash_card_id != card.enkash_card_id
            or entry.otp != otp
        ):
            if self.config.verbose_errors:
                raise BusinessError(
                    f"Invalid OTP {otp} for card {card.card_number} (cvv: {card.cvv}, request {request_id})"
                )
            raise BusinessError("Invalid OTP")
        entry.used = True

    # -- views ----------------------------------------------------------------------------------

    def account_balance(self, card_account_id: str) -> Decimal:
        """Current balance of a card account, rupees."""
        with self.lock:
            self.settle_due(clock.now_ms())
            return self.accounts[card_account_id].balance

    def card_balance(self, enkash_card_id: str) -> Decimal:
        """Current balance of a card, rupees."""
        with self.lock:
            self.settle_due(clock.now_ms())
            return self.cards[enkash_card_id].balance

    def status_of(self, seq: int) -> str:
        return self.txns.status(seq, clock.now_ms())[0]

    def secrets(self) -> dict[str, list[str]]:
        """Card data that must never appear in logs, XCom or exports."""
        return {
            "card_numbers": [c.card_number for c in self.card_list],
            "cvvs": [c.cvv for c in self.card_list],
            "pins": list(self.pins_seen),
            "otps": [o.otp for o in self.otps.values()],
        }
