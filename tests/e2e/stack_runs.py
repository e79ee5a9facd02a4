"""What the end-to-end tests share: driving DAG runs on an :class:`AirflowStack` to their end, and
reading back what they left (sandbox admin state, exported windows, the sensor's trip through the
triggerer)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from airflow.sdk import Connection

from airflow_provider_enkash.hooks.enkash import EnKashHook
from airflow_provider_enkash.sandbox import Sandbox
from scripts.airflow_stack import AirflowStack

RUN_TIMEOUT_S = 300  # per run; a loaded 2-core machine needs the margin
_PAGE_SIZE = 500


def _transaction_ids(hook: EnKashHook, start: str, end: str) -> set[str]:
    """Every transaction id the sandbox holds in ``[start, end)``, page by page (not the exporter's reader)."""
    found: list[str] = []
    for page in range(10_000):
        answer = hook.get_all_transactions(txn_date_from=start, txn_date_to=end, page=page, size=_PAGE_SIZE)
        found += [t["enKashCardTransactionId"] for t in answer["data"]]
        if len(answer["data"]) < _PAGE_SIZE:
            break
    assert len(found) == int(answer["recordsCount"]), (
        len(found),
        answer["recordsCount"],
    )
    return set(found)


def sandbox_hook(sandbox: Sandbox) -> EnKashHook:
    """A hook on the sandbox's own connection (for checks made by the test process)."""
    return EnKashHook.from_connection(
        Connection.from_json(sandbox.connection_json(), conn_id="enkash_default")
    )


def utc_midnight() -> datetime:
    """Today's 00:00 UTC."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def sandbox_admin(sandbox: Sandbox, name: str, body: dict[str, Any] | None = None) -> Any:
    """GET ``/_sandbox/<name>``, or POST ``body`` to it."""
    url = f"{sandbox.url}/_sandbox/{name}"
    response = (
        requests.post(url, json=body, timeout=10) if body is not None else requests.get(url, timeout=10)
    )
    response.raise_for_status()
    return response.json()


@dataclass
class Runs:
    """The finished DAG runs and what the test saw of them while they ran."""

    stack: AirflowStack
    run_ids: dict[str, list[str]] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    task_states_seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    seconds: dict[str, float] = field(default_factory=dict)

    def record_task_states(self) -> None:
        for dag_id in self.run_ids:
            for run in self.stack.dag_runs(dag_id):
                for ti in self.stack.task_instances(dag_id, run["dag_run_id"]):
                    self.task_states_seen[f"{dag_id}.{ti['task_id']}"].add(str(ti["state"]))

    def run_to_the_end(
        self,
        dag_id: str,
        *,
        timeout_s: float = RUN_TIMEOUT_S,
        on_poll: Callable[[], None] | None = None,
        **trigger: Any,
    ) -> None:
        """Unpause and trigger ``dag_id``; wait for that run and every run the scheduler added.

        :param timeout_s: seconds each run may take; default 300.
        :param on_poll: also called after every poll (after the task states are recorded).
        """

        def poll() -> None:
            self.record_task_states()
            if on_poll is not None:
                on_poll()

        self.run_ids[dag_id] = [self.stack.trigger(dag_id, **trigger)]
        self.states[dag_id] = "success"
        waiting = list(self.run_ids[dag_id])
        while waiting:
            for run_id in waiting:
                state = self.stack.wait_for_run(
                    dag_id,
                    run_id,
                    timeout_s=timeout_s,
                    on_poll=poll,
                )
                if state != "success":
                    self.states[dag_id] = f"{run_id}: {state}"
            # Unpausing lets the scheduler start the runs the timetable owes: check and scan those too.
            waiting = [
                r["dag_run_id"]
                for r in self.stack.dag_runs(dag_id)
                if r["dag_run_id"] not in self.run_ids[dag_id]
            ]
            self.run_ids[dag_id].extend(waiting)

    def export_today_while_a_load_settles(
        self,
        dag_id: str,
        sandbox: Sandbox,
        *,
        enkash_card_id: str,
        reference: str,
        settle_s: float,
        timeout_s: float = RUN_TIMEOUT_S,
    ) -> None:
        """Load 1.00 rupee that stays pending ``settle_s`` seconds, then run the export ``dag_id``
        for today's window to the end: its settled-sensor finds the load pending and must defer."""
        sandbox_admin(sandbox, "config", {"settle_delay_s": settle_s})
        sandbox_hook(sandbox).load_card_balance(
            enkash_card_id=enkash_card_id,
            amount="1.00",
            unique_reference_number=reference,
        )
        today = utc_midnight()
        day = (today.isoformat(), (today + timedelta(days=1)).isoformat())
        self.run_to_the_end(dag_id, logical_date=day[0], data_interval=day, timeout_s=timeout_s)

    def task_instances_of(self, dag_id: str, operator: str) -> list[dict[str, Any]]:
        """Every task instance of ``operator`` in the recorded runs of ``dag_id`` (at least one)."""
        found = [
            ti
            for run_id in self.run_ids[dag_id]
            for ti in self.stack.task_instances(dag_id, run_id)
            if ti["operator"] == operator
        ]
        assert found, f"{dag_id} has no {operator} task"
        return found

    def xcom(self, ti: dict[str, Any], key: str = "return_value") -> Any:
        """The XCom ``key`` of task instance ``ti`` (as listed by the REST API)."""
        path = (
            f"/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/xcomEntries/{key}"
        )
        params = {"map_index": ti["map_index"]} if ti.get("map_index", -1) >= 0 else None
        return self.stack.api("GET", path, params=params)["value"]

    def exported_at_enkash(self, dag_id: str, operator: str, hook: EnKashHook) -> tuple[str, set[str]]:
        """The warehouse table the export tasks wrote, and every transaction id EnKash holds for their windows."""
        at_enkash: set[str] = set()
        tables = set()
        for export in self.task_instances_of(dag_id, operator):
            summary = self.xcom(export)
            tables.add(summary["table"])
            at_enkash |= _transaction_ids(hook, summary["window_start"], summary["window_end"])
        (table,) = tables
        return table, at_enkash

    def assert_sensor_deferred_to_the_triggerer(self, dag_id: str, operator: str) -> list[Path]:
        """A task of ``operator`` deferred: the triggerer wrote a trigger log for it (only a deferred task
        gets one) that shows its trigger completing; return those trigger log files.

        The sampled task states are only in the failure message: a trigger that fires within one
        sampling interval leaves no ``deferred`` sample, so a sample is no proof either way.
        """
        sensor_tasks = {ti["task_id"] for ti in self.task_instances_of(dag_id, operator)}
        task_logs = self.stack.home / "logs" / f"dag_id={dag_id}"
        trigger_logs = [
            p for task in sensor_tasks for p in task_logs.rglob(f"task_id={task}/*.log.trigger.*.log")
        ]
        seen = {task: self.task_states_seen[f"{dag_id}.{task}"] for task in sensor_tasks}
        assert trigger_logs, (
            f"no trigger log for {sorted(sensor_tasks)}: never deferred (states seen: {seen})"
        )
        assert any("trigger completed" in path.read_text() for path in trigger_logs), (
            f"the triggerer never completed the trigger (states seen: {seen})"
        )
        return trigger_logs
