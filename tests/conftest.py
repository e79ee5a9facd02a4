"""Shared fixtures: one sandbox per test session on 127.0.0.1, reset before each test that uses it."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_enkash.models import LoadResult
from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig
from airflow_provider_enkash.token_cache import TOKEN_CACHE

# Fast settlement and short waits keep the suite quick; production defaults are documented in the README.
TEST_CONNECTION_EXTRAS = {"load_lookup_delay": 0.05, "max_retry_wait": 0.2, "timeout": 5}


class SandboxAdmin:
    """Thin client of the sandbox's ``/_sandbox/`` admin API."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.url = sandbox.url
        self.session = requests.Session()

    def get(self, name: str) -> Any:
        response = self.session.get(f"{self.url}/_sandbox/{name}", timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, name: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.post(f"{self.url}/_sandbox/{name}", json=body or {}, timeout=30)
        response.raise_for_status()
        return response.json()

    def requests_total(self) -> int:
        """Every request the sandbox served (token and card calls; admin calls excluded)."""
        return int(self.get("counters")["total"])


def connection_json(sandbox: Sandbox, **extra: Any) -> str:
    """The sandbox's connection with the test extras (and ``extra``) merged in."""
    conn = json.loads(sandbox.connection_json())
    conn["extra"] = {**conn["extra"], **TEST_CONNECTION_EXTRAS, **extra}
    return json.dumps(conn)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    sandbox = Sandbox(SandboxConfig(settle_delay_s=0.5)).start()
    previous = os.environ.get("AIRFLOW_CONN_ENKASH_DEFAULT")
    os.environ["AIRFLOW_CONN_ENKASH_DEFAULT"] = connection_json(sandbox)
    yield sandbox
    sandbox.stop()
    if previous is None:
        os.environ.pop("AIRFLOW_CONN_ENKASH_DEFAULT", None)
    else:
        os.environ["AIRFLOW_CONN_ENKASH_DEFAULT"] = previous


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> SandboxAdmin:
    """The session's sandbox, reset (state, faults, config, counters) and with an empty token cache."""
    admin = SandboxAdmin(sandbox_server)
    admin.post("reset")
    admin.post("faults", {"clear": True})
    admin.post("config", {"settle_delay_s": 0.5})
    TOKEN_CACHE.clear()
    os.environ["AIRFLOW_CONN_ENKASH_DEFAULT"] = connection_json(sandbox_server)
    return admin


@pytest.fixture
def hook(sandbox: SandboxAdmin):
    from airflow_provider_enkash.hooks.enkash import EnKashHook

    return EnKashHook()


def load_dag(file_name: str, dag_id: str) -> Any:
    """Import ``file_name`` from the DAGs folder (where ``dag.test()`` needs it) and return DAG ``dag_id``.

    ``scripts/test.sh`` links ``dags_examples/*.py`` and ``tests/dags/*.py`` into that folder.
    """
    from airflow.sdk import DAG

    path = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / file_name
    spec = importlib.util.spec_from_file_location(f"dagfile_{path.stem}", path)
    assert spec is not None and spec.loader is not None, f"no DAG file {path}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dags = [v for v in vars(module).values() if isinstance(v, DAG) and v.dag_id == dag_id]
    assert dags, f"{file_name} defines no DAG {dag_id!r}"
    return dags[0]


# -- services the test command starts (PostgreSQL, Redis) ------------------------------------------

SKIP_SERVICES_ENV = "ENKASH_TEST_SKIP_SERVICES"


def service_address(env_var: str, service: str) -> str:
    """The address ``scripts/test.sh`` exported in ``env_var``; fail the test when it is missing.

    Only an explicit ``ENKASH_TEST_SKIP_SERVICES=1`` (plain ``pytest`` outside the test command) turns
    the failure into a skip, so a test needing ``service`` never passes by not running.
    """
    address = os.environ.get(env_var)
    if address:
        return address
    reason = f"{env_var} is not set: {service} is started by scripts/test.sh"
    if os.environ.get(SKIP_SERVICES_ENV) == "1":
        pytest.skip(f"{reason} ({SKIP_SERVICES_ENV}=1)")
    pytest.fail(f"{reason}; run the suite with it, or set {SKIP_SERVICES_ENV}=1 to skip such tests")


@pytest.fixture(scope="session")
def postgres_uri() -> str:
    """URI of the test command's PostgreSQL server, checked reachable (a failure, never a skip, in the suite)."""
    uri = service_address("ENKASH_TEST_POSTGRES_URI", "PostgreSQL")
    import psycopg

    try:
        with psycopg.connect(uri, connect_timeout=10) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.fail(f"PostgreSQL at ENKASH_TEST_POSTGRES_URI is unreachable: {exc}")
    return uri


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the test command's Redis server (the Celery broker)."""
    return service_address("ENKASH_TEST_REDIS_URL", "Redis")


# -- a card to load and watch (sensor and trigger tests) -------------------------------------------

_load_references = itertools.count(1)


@pytest.fixture
def card(hook) -> str:
    """A fresh prepaid card on the sandbox's reloadable account."""
    return hook.create_prepaid_card(first_name="Asha", mobile="9123456780")["enKashCardId"]


@pytest.fixture
def load(hook, card):
    """``load(amount="100.00")``: load the fixture card with a fresh reference; returns the ``LoadResult``."""

    def _load(amount: str = "100.00", *, enkash_card_id: str | None = None) -> LoadResult:
        return hook.load_card_balance(
            enkash_card_id=enkash_card_id or card,
            amount=amount,
            unique_reference_number=f"SENSOR-{next(_load_references)}",
        )

    return _load


def run_trigger(trigger: Any) -> list[Any]:
    """Every event ``trigger.run()`` yields (exactly one is expected), run under asyncio."""

    async def collect() -> list[Any]:
        return [event async for event in trigger.run()]

    return asyncio.run(collect())
