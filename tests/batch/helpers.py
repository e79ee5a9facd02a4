"""Shared helpers of the batch-load tests: a task context, cards with exact balances, the sandbox ledger."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Tests keep the quiet period short through the operator setting (production default: 15 minutes).
QUIET_S = 0.4


def execute_through_deferrals(
    operator: Any, ctx: dict[str, Any], *, max_deferrals: int = 40, first: Any = None
) -> Any:
    """``operator.execute(ctx)`` (or ``first(ctx)``) as Airflow runs it across deferrals: sleep until the
    trigger's moment, then resume with the trigger's event."""
    from airflow.sdk.exceptions import TaskDeferred

    method = first or operator.execute
    for _ in range(max_deferrals):
        try:
            return method(ctx)
        except TaskDeferred as deferred:
            time.sleep(max(0.0, deferred.trigger.moment - time.time()))
            resume = getattr(operator, deferred.method_name)
            method = lambda c, resume=resume, state=deferred.trigger.state: resume(c, event={"state": state})  # noqa: E731
    raise AssertionError(f"still deferring after {max_deferrals} deferrals")


@dataclass
class TaskInstanceStub:
    """The few task-instance fields the batch operators read (ids, try number) and the XComs they push."""

    dag_id: str = "batch_tests"
    run_id: str = "manual__2025-01-15T03:30:00+00:00"
    task_id: str = "load"
    try_number: int = 1
    map_index: int = -1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


def context(try_number: int = 1, **ti_fields: Any) -> dict[str, Any]:
    return {"ti": TaskInstanceStub(try_number=try_number, **ti_fields)}


def new_cards(hook, count: int) -> list[str]:
    return [
        hook.create_prepaid_card(first_name=f"Emp{i}", mobile=f"9{i:09d}")["enKashCardId"]
        for i in range(count)
    ]


def payroll(cards: list[str], *, base: str = "1000.01") -> list[dict[str, str]]:
    """One row per card, amounts differing by a paisa per row so a misrouted load shows in the balances."""
    return [
        {
            "enkash_card_id": card,
            "amount": str(Decimal(base) + Decimal(i) / 100),
            "remarks": f"salary {i}",
        }
        for i, card in enumerate(cards)
    ]


def sandbox_loads(sandbox) -> dict[str, dict[str, Any]]:
    """The sandbox's load ledger by reference (ground truth: ``times_applied``)."""
    return {entry["reference"]: entry for entry in sandbox.get("ledger")["loads"]}


def card_balances(sandbox) -> dict[str, Decimal]:
    cards = sandbox.get("cards")
    records = cards["cards"] if isinstance(cards, dict) else cards
    return {c["enkash_card_id"]: Decimal(str(c["balance"])) for c in records}


def assert_loaded_exactly_once(sandbox, rows: list[dict[str, str]], references: list[str]) -> None:
    """Every reference moved money exactly once, and every card holds exactly its row's amount."""
    loads = sandbox_loads(sandbox)
    for reference in references:
        assert loads[reference]["times_applied"] == 1, loads[reference]
    assert len([r for r in loads if r in set(references)]) == len(references)
    balances = card_balances(sandbox)
    for row in rows:
        assert balances[row["enkash_card_id"]] == Decimal(row["amount"]), row
