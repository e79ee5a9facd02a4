"""A real, throwaway Airflow 3 stack on 127.0.0.1: api-server, scheduler, dag-processor and triggerer.

The stack runs the LocalExecutor on a fresh ``AIRFLOW_HOME`` with a SQLite metadata DB, on free
loopback ports, with the simple auth manager letting every caller in as admin (it is a test stack).
Every process is started in its own session (process group) and stopped by that id, on success
and on failure alike. Used by ``tests/e2e`` and runnable by hand::

    .venv/bin/python scripts/airflow_stack.py --dag-file dags_examples/enkash_payroll_card_loads.py

which prints the UI address and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import requests

log = logging.getLogger(__name__)

#: The long-running Airflow services, in start order (stopped in reverse).
SERVICES: dict[str, tuple[str, ...]] = {
    "api-server": ("api-server", "--workers", "1"),
    "dag-processor": ("dag-processor",),
    "scheduler": ("scheduler", "--skip-serve-logs"),
    "triggerer": ("triggerer", "--skip-serve-logs"),
}
TERMINAL_RUN_STATES = frozenset({"success", "failed"})
_STOP_GRACE_S = 20.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AirflowStackError(RuntimeError):
    """The stack did not start, or a DAG run did not reach the expected state in time."""


class AirflowStack:
    """Start, drive (REST API /api/v2) and stop a real Airflow 3 deployment.

    :param dag_files: DAG files to link into the stack's DAGs folder (only these are parsed).
    :param env: extra environment for every service, e.g. ``AIRFLOW_CONN_*`` connections.
    :param home: the ``AIRFLOW_HOME`` to use; default a new temporary directory, removed on
        :meth:`stop` unless ``keep_home`` is true.
    :param keep_home: leave ``home`` (logs, metadata DB) on disk after :meth:`stop`; default False.
    :param python: the interpreter whose ``airflow`` package runs the services; default this one.
    """

    def __init__(
        self,
        *,
        dag_files: Iterable[str | os.PathLike[str]],
        env: Mapping[str, str] | None = None,
        home: str | os.PathLike[str] | None = None,
        keep_home: bool = False,
        python: str = sys.executable,
    ) -> None:
        self.dag_files = [Path(f).resolve() for f in dag_files]
        self.extra_env = dict(env or {})
        self._owns_home = home is None
        self.home = (
            Path(home)
            if home is not None
            else Path(tempfile.mkdtemp(prefix="enkash-airflow-"))
        )
        self.keep_home = keep_home
        self.python = python
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dags_folder = self.home / "dags"
        self.service_logs = self.home / "service-logs"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.session = requests.Session()
        # One signing secret for all services: the api-server must accept the scheduler's task tokens.
        self._api_secret_key = secrets.token_hex(16)
        self._jwt_secret = secrets.token_hex(32)

    # -- lifecycle -------------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """The environment every Airflow process of this stack runs with."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__SECRET_KEY": self._api_secret_key,
                "AIRFLOW__API_AUTH__JWT_SECRET": self._jwt_secret,
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
                # Parse and schedule promptly: a test stack should not idle.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, *, timeout_s: float = 120.0) -> AirflowStack:
        """Migrate a fresh metadata DB, start the four services and wait until all are healthy.

        :param timeout_s: seconds to wait for health; default 120. On any failure every process
            already started is stopped before the error propagates.
        """
        try:
            self._prepare_home()
            self._migrate()
            for name, args in SERVICES.items():
                self._spawn(name, args)
            self._wait_healthy(timeout_s)
            token = self.session.get(f"{self.url}/auth/token", timeout=10)
            token.raise_for_status()
            self.session.headers["Authorization"] = (
                f"Bearer {token.json()['access_token']}"
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every process this stack started (SIGTERM to its group, SIGKILL after a grace)."""
        for name in reversed(list(self.processes)):
            process = self.processes.pop(name)
            _stop_process_group(name, process)
        self.session.close()
        if self._owns_home and not self.keep_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> AirflowStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _prepare_home(self) -> None:
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        self.service_logs.mkdir(parents=True, exist_ok=True)
        for dag_file in self.dag_files:
            if not dag_file.is_file():
                raise AirflowStackError(f"DAG file {dag_file} does not exist")
            (self.dags_folder / dag_file.name).symlink_to(dag_file)

    def _migrate(self) -> None:
        with open(self.service_logs / "db-migrate.log", "wb") as out:
            result = subprocess.run(
                [self.python, "-m", "airflow", "db", "migrate"],
                env=self.environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=300,
                check=False,
            )
        if result.returncode != 0:
            raise AirflowStackError(
                f"airflow db migrate failed:\n{self.service_log('db-migrate')}"
            )

    def _spawn(self, name: str, args: tuple[str, ...]) -> None:
        with open(self.service_logs / f"{name}.log", "wb") as out:
            self.processes[name] = subprocess.Popen(
                [self.python, "-m", "airflow", *args],
                env=self.environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so its children stop with it
            )
        log.info("started %s (pid %s)", name, self.processes[name].pid)

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise AirflowStackError(
                        f"{name} exited with code {process.returncode}:\n{self.service_log(name)[-4000:]}"
                    )
            try:
                health = self.session.get(
                    f"{self.url}/api/v2/monitor/health", timeout=5
                ).json()
            except (requests.RequestException, ValueError):
                health = {}
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            if health and all(
                health.get(p, {}).get("status") == "healthy" for p in parts
            ):
                return
            time.sleep(0.5)
        raise AirflowStackError(f"stack not healthy after {timeout_s:.0f}s: {health}")

    def service_log(self, name: str) -> str:
        """The combined stdout/stderr of service ``name`` (or ``db-migrate``) so far."""
        path = self.service_logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- REST API --------------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call ``/api/v2{path}`` and return the decoded JSON body; raise on an error status."""
        response = self.session.request(
            method, f"{self.url}/api/v2{path}", timeout=30, **kwargs
        )
        if response.status_code >= 400:
            raise AirflowStackError(
                f"{method} {path} -> {response.status_code}: {response.text[:2000]}"
            )
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

    def wait_for_run(
        self, dag_id: str, run_id: str, *, timeout_s: float = 180.0, on_poll: Any = None
    ) -> str:
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
        raise AirflowStackError(
            f"run {dag_id}/{run_id} not finished after {timeout_s:.0f}s"
        )

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        """Every run of ``dag_id``: triggered ones and those the scheduler created on unpausing."""
        return list(
            self.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})[
                "dag_runs"
            ]
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run, mapped ones included, with ``rendered_fields``."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        found: list[dict[str, Any]] = []
        while True:
            page = self.api("GET", path, params={"limit": 100, "offset": len(found)})
            found.extend(page["task_instances"])
            if len(found) >= page["total_entries"] or not page["task_instances"]:
                return found


def _stop_process_group(name: str, process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            log.warning(
                "%s (pid %s) ignored SIGTERM; killing its group", name, process.pid
            )
    # The leader may be gone while its children (executor workers, log servers) are not.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=_STOP_GRACE_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dag-file", action="append", default=[], help="DAG file to serve (repeatable)"
    )
    parser.add_argument(
        "--home", help="AIRFLOW_HOME to use (kept); default a temporary one (removed)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    env = dict(item.split("=", 1) for item in args.env)
    stack = AirflowStack(
        dag_files=args.dag_file,
        env=env,
        home=args.home,
        keep_home=args.home is not None,
    )
    stop_requested = False

    def request_stop(*_: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    with stack:
        print(
            f"Airflow is up at {stack.url} (AIRFLOW_HOME {stack.home}); Ctrl-C stops it.",
            flush=True,
        )
        try:
            while not stop_requested:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
