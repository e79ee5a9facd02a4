"""The sandbox's admin API (``/_sandbox/<name>``): inspect and steer the state, faults and config.

No auth, plaintext JSON, not counted; served by :mod:`airflow_provider_enkash.sandbox.server`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_enkash.sandbox import clock, operations, seeding
from airflow_provider_enkash.sandbox.auth import Auth
from airflow_provider_enkash.sandbox.faults import FaultInjector, FaultRule
from airflow_provider_enkash.sandbox.model import rupees
from airflow_provider_enkash.sandbox.protocol import Reply, json_reply, loads
from airflow_provider_enkash.sandbox.state import BusinessError, State

MAX_ADMIN_CARDS = 100_000


def _field(body: dict[str, Any], camel: str, snake: str, default: Any = None) -> Any:
    return body.get(camel, body.get(snake, default))


class Admin:
    """The admin API: ``/_sandbox/<name>`` goes to a method ``get_<name>`` or ``post_<name>``.

    No auth, plaintext JSON, not counted.
    GET  health | ledger | counters | faults | config | cards | accounts | secrets
    POST faults {rule} or {"clear": true} | reset | unlock | config {field: value}
         settle | spend {enKashCardId, amount, merchantName} | cards {cardAccountId, count}
    """

    def __init__(self, state: State, auth: Auth, faults: FaultInjector) -> None:
        self.state = state
        self.auth = auth
        self.faults = faults

    def handle(self, method: str, name: str, body: bytes) -> Reply:
        route: Callable[..., Any] | None = getattr(self, f"{method.lower()}_{name.strip('/')}", None)
        if route is None:
            return json_reply(404, {"error": f"no admin route {method} /_sandbox/{name}"})
        try:
            request = loads(body) if body.strip() else {}
            if not isinstance(request, dict):
                raise ValueError("body must be a JSON object")
            return json_reply(200, route(request) if method == "POST" else route())
        except BusinessError as exc:
            return json_reply(409, {"error": exc.message})
        except (ValueError, TypeError, KeyError) as exc:
            return json_reply(400, {"error": str(exc)})

    # -- reads ----------------------------------------------------------------------------------

    def get_health(self) -> dict[str, Any]:
        with self.state.lock:
            return {"status": "ok", "cards": len(self.state.cards), "transactions": len(self.state.txns)}

    def get_ledger(self) -> dict[str, Any]:
        with self.state.lock:
            self.state.settle_due(clock.now_ms())
            return {"loads": self.state.ledger.view(self.state.status_of)}

    def get_counters(self) -> dict[str, Any]:
        return self.state.counters.snapshot()

    def get_faults(self) -> dict[str, Any]:
        return {"faults": self.faults.active(), "fired": self.faults.fired()}

    def get_config(self) -> dict[str, Any]:
        return self.state.config.runtime_view()

    def get_cards(self) -> dict[str, Any]:
        with self.state.lock:
            self.state.settle_due(clock.now_ms())
            return {"cards": [c.admin_view() for c in self.state.card_list]}

    def get_accounts(self) -> dict[str, Any]:
        with self.state.lock:
            self.state.settle_due(clock.now_ms())
            return {
                a.card_account_id: {
                    "balance": str(a.balance),
                    "cards_balance": str(rupees(a.cards_paise)),
                    "account_type": a.account_type,
                    "company_id": a.company_id,
                    "cards": len(a.card_ids),
                }
                for a in self.state.accounts.values()
            }

    def get_secrets(self) -> dict[str, Any]:
        cfg = self.state.config
        with self.state.lock:
            return {
                "password": cfg.password,
                "client_secret": cfg.client_secret,
                "access_tokens": list(self.auth.access_tokens),
                "refresh_tokens": list(self.auth.refresh_tokens),
                **self.state.secrets(),
            }

    # -- changes --------------------------------------------------------------------------------

    def post_faults(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("clear"):
            self.faults.clear()
        else:
            self.faults.add(FaultRule.from_dict(body))
        return self.get_faults()

    def post_reset(self, body: dict[str, Any]) -> dict[str, Any]:
        """Initial config, accounts, seeded data and faults again; counters zeroed; lock-out cleared."""
        self.state.reset()
        cfg = self.state.config
        self.faults.reset(cfg.faults, seed=cfg.random_seed)
        self.auth.unlock()
        return self.get_health()

    def post_unlock(self, body: dict[str, Any]) -> dict[str, Any]:
        self.auth.unlock()
        return {"locked": False}

    def post_config(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            self.state.config = self.state.config.updated(body)
        return self.get_config()

    def post_settle(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            now = clock.now_ms()
            settled = self.state.txns.settle_all(now)
            self.state.settle_due(now)
        return {"settled": settled}

    def post_spend(self, body: dict[str, Any]) -> dict[str, Any]:
        card_id = _field(body, "enKashCardId", "enkash_card_id")
        merchant = _field(body, "merchantName", "merchant_name", "Sandbox Merchant")
        with self.state.lock:
            now = clock.now_ms()
            self.state.settle_due(now)
            return operations.spend(
                self.state,
                card_id,
                body["amount"],
                now,
                merchant=merchant,
                mcc=str(body.get("mcc", "5411")),
                channel=str(body.get("channel", "POS")),
            )

    def post_cards(self, body: dict[str, Any]) -> dict[str, Any]:
        account_id = _field(body, "cardAccountId", "card_account_id", self.state.config.card_account_id)
        count = int(body.get("count", 1))
        if not 1 <= count <= MAX_ADMIN_CARDS:
            raise ValueError(f"count: must be 1 to {MAX_ADMIN_CARDS}")
        with self.state.lock:
            account = self.state.account(None, account_id)
            now = clock.now_ms()
            start = len(self.state.card_list)
            cards = [
                self.state.issue_card(account, seeding.holder(self.state, start + i), now)
                for i in range(count)
            ]
        return {"enkash_card_ids": [c.enkash_card_id for c in cards]}
