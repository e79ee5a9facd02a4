"""A real, throwaway Airflow 3 stack on 127.0.0.1: api-server, scheduler, dag-processor and triggerer.

By default the stack runs the LocalExecutor on a fresh ``AIRFLOW_HOME`` with a SQLite metadata DB.
Given :class:`CeleryOptions` (and a PostgreSQL ``database_uri``) it runs the CeleryExecutor
instead, with one ``airflow celery worker`` process per worker name; each worker reports its name
as the task instances' hostname, as separate machines would. Services listen on free loopback
ports; the simple auth manager lets every caller in as admin (it is a test stack). Every process
is started in its own session (process group) and stopped by that id, on success and on failure
alike. Used by ``tests/e2e`` and runnable by hand::

    .venv/bin/python scripts/airflow_stack.py --dag-file dags_examples/enkash_payroll_card_loads.py

which prints the UI address and runs until Ctrl-C (``--help`` shows the Celery options).
"""

from __future__ import annotations

import argparse
import contextlib
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from scripts.airflow_rest import AirflowRestClient, AirflowStackError

log = logging.getLogger(__name__)

#: The long-running Airflow services, in start order (stopped in reverse).
SERVICES: dict[str, tuple[str, ...]] = {
    "api-server": ("api-server", "--workers", "1"),
    "dag-processor": ("dag-processor",),
    "scheduler": ("scheduler", "--skip-serve-logs"),
    "triggerer": ("triggerer", "--skip-serve-logs"),
}
_STOP_GRACE_S = 20.0
#: Set in each Celery worker's environment; :func:`worker_hostname` reports it to Airflow.
HOSTNAME_VARIABLE = "AIRFLOW_STACK_HOSTNAME"
_REPO_ROOT = Path(__file__).resolve().parents[1]


def worker_hostname() -> str:
    """The ``[core] hostname_callable`` of the stack's Celery workers: the worker's name, else the FQDN."""
    return os.environ.get(HOSTNAME_VARIABLE) or socket.getfqdn()


@dataclass(frozen=True)
class CeleryOptions:
    """Run the stack on the CeleryExecutor.

    :param broker_url: the Celery broker, e.g. ``redis://127.0.0.1:6379/0``.
    :param result_backend: where task states go, e.g. ``db+postgresql://user@127.0.0.1:5432/results``.
    :param workers: one ``airflow celery worker`` per name (its ``--celery-hostname`` and the hostname
        its task instances record); default two.
    :param concurrency: task slots per worker (``--concurrency``); default 2.
    :param visibility_timeout_s: seconds Redis waits for a worker's acknowledgement before handing
        a task message to another worker (``[celery_broker_transport_options]``); default 3600.
    """

    broker_url: str
    result_backend: str
    workers: tuple[str, ...] = ("worker-1", "worker-2")
    concurrency: int = 2
    visibility_timeout_s: int = 3600


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AirflowStack(AirflowRestClient):
    """Start, drive (REST API /api/v2, see :class:`AirflowRestClient`) and stop a real Airflow 3 deployment.

    :param dag_files: DAG files to link into the stack's DAGs folder (only these are parsed).
    :param env: extra environment for every service, e.g. ``AIRFLOW_CONN_*`` connections.
    :param home: the ``AIRFLOW_HOME`` to use; default a new temporary directory, removed on
        :meth:`stop` unless ``keep_home`` is true.
    :param keep_home: leave ``home`` (logs, metadata DB) on disk after :meth:`stop`; default False.
    :param python: the interpreter whose ``airflow`` package runs the services; default this one.
    :param database_uri: the metadata DB (SQLAlchemy URI); default a SQLite file in ``home``.
        The CeleryExecutor needs a server database such as PostgreSQL.
    :param celery: run the CeleryExecutor with these options; default None (LocalExecutor).
    """

    def __init__(
        self,
        *,
        dag_files: Iterable[str | os.PathLike[str]],
        env: Mapping[str, str] | None = None,
        home: str | os.PathLike[str] | None = None,
        keep_home: bool = False,
        python: str = sys.executable,
        database_uri: str | None = None,
        celery: CeleryOptions | None = None,
    ) -> None:
        if celery is not None and (database_uri is None or database_uri.startswith("sqlite")):
            raise AirflowStackError("the CeleryExecutor needs a server database_uri (e.g. PostgreSQL)")
        self.dag_files = [Path(f).resolve() for f in dag_files]
        self.extra_env = dict(env or {})
        self._owns_home = home is None
        self.home = Path(home) if home is not None else Path(tempfile.mkdtemp(prefix="enkash-airflow-"))
        self.keep_home = keep_home
        self.python = python
        self.database_uri = database_uri or f"sqlite:///{self.home / 'airflow.db'}"
        self.celery = celery
        self.port = free_port()
        super().__init__(f"http://127.0.0.1:{self.port}", requests.Session())
        self.dags_folder = self.home / "dags"
        self.service_logs = self.home / "service-logs"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
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
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if self.celery else "LocalExecutor",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_uri,
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
        if self.celery is not None:
            env.update(
                {
                    "AIRFLOW__CELERY__BROKER_URL": self.celery.broker_url,
                    "AIRFLOW__CELERY__RESULT_BACKEND": self.celery.result_backend,
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.celery.concurrency),
                    "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": str(
                        self.celery.visibility_timeout_s
                    ),
                    # The workers import worker_hostname from this file.
                    "AIRFLOW__CORE__HOSTNAME_CALLABLE": "scripts.airflow_stack.worker_hostname",
                    "PYTHONPATH": os.pathsep.join(filter(None, (str(_REPO_ROOT), env.get("PYTHONPATH")))),
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
            for worker in self.celery.workers if self.celery else ():
                self._spawn(
                    worker,
                    (
                        "celery",
                        "worker",
                        "--celery-hostname",
                        worker,
                        "--skip-serve-logs",
                        "--concurrency",
                        str(self.celery.concurrency),
                        "--without-mingle",
                        "--without-gossip",
                    ),
                    env={HOSTNAME_VARIABLE: worker},
                )
            self._wait_healthy(timeout_s)
            token = self.session.get(f"{self.url}/auth/token", timeout=10)
            token.raise_for_status()
            self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
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
            raise AirflowStackError(f"airflow db migrate failed:\n{self.service_log('db-migrate')}")

    def _spawn(self, name: str, args: tuple[str, ...], env: Mapping[str, str] | None = None) -> None:
        with open(self.service_logs / f"{name}.log", "wb") as out:
            self.processes[name] = subprocess.Popen(
                [self.python, "-m", "airflow", *args],
                env={**self.environment(), **(env or {})},
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
                health = self.session.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
            except (requests.RequestException, ValueError):
                health = {}
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            if (
                health
                and all(health.get(p, {}).get("status") == "healthy" for p in parts)
                and all(
                    f"{w} ready" in self.service_log(w) for w in (self.celery.workers if self.celery else ())
                )
            ):
                return
            time.sleep(0.5)
        raise AirflowStackError(f"stack not healthy after {timeout_s:.0f}s: {health}")

    def kill_worker(self, name: str) -> list[int]:
        """SIGKILL the Celery worker ``name`` and every process under it at once, as a lost machine would.

        The task runners sit in process groups of their own, so the worker's descendants are frozen
        (SIGSTOP) first, listed again, then killed. Returns the killed pids, the worker's first.
        """
        import psutil

        process = self.processes[name]
        worker = psutil.Process(process.pid)
        for found in (worker, *worker.children(recursive=True)):
            found.suspend()
        doomed = [worker, *worker.children(recursive=True)]
        for found in doomed:
            found.kill()
        process.wait(timeout=_STOP_GRACE_S)
        psutil.wait_procs(doomed[1:], timeout=_STOP_GRACE_S)
        log.info("killed %s: pids %s", name, [p.pid for p in doomed])
        return [p.pid for p in doomed]

    def service_log(self, name: str) -> str:
        """The combined stdout/stderr of service ``name`` (or ``db-migrate``) so far."""
        path = self.service_logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _stop_process_group(name: str, process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            log.warning("%s (pid %s) ignored SIGTERM; killing its group", name, process.pid)
    # The leader may be gone while its children (executor workers, log servers) are not.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=_STOP_GRACE_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dag-file", action="append", default=[], help="DAG file to serve (repeatable)")
    parser.add_argument("--home", help="AIRFLOW_HOME to use (kept); default a temporary one (removed)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment",
    )
    parser.add_argument("--database-uri", help="metadata DB URI; default a SQLite file in the home")
    parser.add_argument(
        "--celery-broker",
        metavar="URL",
        help="run the CeleryExecutor with this broker (e.g. redis://127.0.0.1:6379/0); needs --database-uri on PostgreSQL",
    )
    parser.add_argument(
        "--celery-result-backend",
        metavar="URL",
        help="default db+ and the --database-uri",
    )
    parser.add_argument(
        "--celery-worker",
        action="append",
        default=[],
        metavar="NAME",
        help="a Celery worker (repeatable); default worker-1 and worker-2",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    env = dict(item.split("=", 1) for item in args.env)
    celery = None
    if args.celery_broker:
        celery = CeleryOptions(
            broker_url=args.celery_broker,
            result_backend=args.celery_result_backend or f"db+{args.database_uri}",
            **({"workers": tuple(args.celery_worker)} if args.celery_worker else {}),
        )
    stack = AirflowStack(
        dag_files=args.dag_file,
        env=env,
        home=args.home,
        keep_home=args.home is not None,
        database_uri=args.database_uri,
        celery=celery,
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
