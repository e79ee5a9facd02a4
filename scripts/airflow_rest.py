"""Drive a running Airflow 3 through its REST API (``/api/v2``): DAGs, pools, runs, task instances.

The base of :class:`scripts.airflow_stack.AirflowStack`; it needs only the server's ``url`` and an
authorised ``requests.Session``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import requests

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
READ_ATTEMPTS = 3


class AirflowStackError(RuntimeError):
    """The stack did not start, or a DAG run did not reach the expected state in time."""


class AirflowRestClient:
    """Calls of the REST API a test makes.

    :param url: the api-server's base URL, e.g. ``http://127.0.0.1:8080``.
    :param session: the session to call it with (carrying the bearer token).
    """

    def __init__(self, url: str, session: requests.Session) -> None:
        self.url = url
        self.session = session

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call ``/api/v2{path}`` and return the decoded JSON body; raise on an error status.

        A GET that times out or loses its connection is asked again (``READ_ATTEMPTS`` in all):
        on a loaded machine the single api-server worker can stall for many seconds.
        """
        url = f"{self.url}/api/v2{path}"
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                response = self.session.request(method, url, timeout=30, **kwargs)
                break
            except (requests.Timeout, requests.ConnectionError):
                if method != "GET" or attempt == READ_ATTEMPTS:
                    raise
        if response.status_code >= 400:
            raise AirflowStackError(f"{method} {path} -> {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else None

    def wait_for_dag(self, dag_id: str, *, timeout_s: float = 90.0) -> dict[str, Any]:
        """Wait until the dag-processor has parsed ``dag_id``; fail early on an import error."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            response = self.session.get(f"{self.url}/api/v2/dags/{dag_id}", timeout=10)
            if response.status_code == 200:
                return response.json()
            errors = self.api("GET", "/importErrors")["import_errors"]
            if errors:
                raise AirflowStackError(f"DAG import errors: {errors}")
            time.sleep(0.5)
        raise AirflowStackError(f"DAG {dag_id} not parsed after {timeout_s:.0f}s")

    def create_pool(self, name: str, *, slots: int) -> None:
        """Create the pool ``name`` with ``slots`` slots (a DAG's tasks never start in a missing pool)."""
        self.api("POST", "/pools", json={"name": name, "slots": slots})

    def trigger(
        self,
        dag_id: str,
        *,
        conf: Mapping[str, Any] | None = None,
        logical_date: str | None = None,
        data_interval: tuple[str, str] | None = None,
    ) -> str:
        """Unpause ``dag_id`` and create a run; return its run_id.

        :param conf: the run's params (``dag_run.conf``); default none.
        :param logical_date: ISO-8601 logical date; default none (a run with no logical date).
        :param data_interval: ISO-8601 ``(start, end)``; default the one the timetable infers.
        """
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        body: dict[str, Any] = {"logical_date": logical_date, "conf": dict(conf or {})}
        if data_interval is not None:
            body["data_interval_start"], body["data_interval_end"] = data_interval
        return str(self.api("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, *, timeout_s: float = 180.0, on_poll: Any = None) -> str:
        """Poll the run until it succeeds or fails; return the final state.

        :param timeout_s: seconds before :class:`AirflowStackError`; default 180.
        :param on_poll: optional callable run after every poll (e.g. to record task states).
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
            if on_poll is not None:
                on_poll()
            if state in TERMINAL_RUN_STATES:
                return str(state)
            time.sleep(0.5)
        raise AirflowStackError(f"run {dag_id}/{run_id} not finished after {timeout_s:.0f}s")

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        """Every run of ``dag_id``: triggered ones and those the scheduler created on unpausing."""
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run, mapped ones included, with ``rendered_fields``."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        found: list[dict[str, Any]] = []
        while True:
            page = self.api("GET", path, params={"limit": 100, "offset": len(found)})
            found.extend(page["task_instances"])
            if len(found) >= page["total_entries"] or not page["task_instances"]:
                return found
