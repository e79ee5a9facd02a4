"""A payroll on a distributed Airflow: CeleryExecutor, two workers, one killed in the middle of a batch.

One stack serves the module: api-server, scheduler, dag-processor, triggerer and two
``airflow celery worker`` processes (``worker-1``, ``worker-2``, each recording its name as the
task instances' hostname), Redis as the broker, PostgreSQL as the metadata DB, the Celery result
backend and the shared store of the payroll ledger and of the export warehouse (three databases
on the test command's server). The sandbox answers every load after ``LOAD_LATENCY_MS``, so loads
are in flight on both workers at any moment.

The payroll DAG pays ``ROWS`` rows in ``ROWS // CHUNK_SIZE`` mapped chunks. Once both workers run
load chunks and one of them has a chunk partly paid at EnKash, that worker and every process
under it are SIGKILLed (a lost machine). The scheduler notices the silent task instances after
``HEARTBEAT_TIMEOUT_S`` and retries them; the retries run on the surviving worker, take over the
lease of the chunk's rows (expired ``LEASE_TTL_S`` after the dead worker's last renewal) and treat every
row the dead attempt had started (left ``sending``) as unclear: a look-up, due half a quiet period
later (deferred to the triggerer if the retry has nothing else to do meanwhile), that finds it settles it (``already_loaded``); one that does not
waits out the quiet period and two spaced absent look-ups before the row is sent again and reported
``resent_after_unknown``. Rows the dead attempt never started are sent by the retry at once (``loaded``).
Then the export DAG catches up
two days in parallel (yesterday from its schedule, today triggered with a load still settling,
so its sensor defers to the triggerer) into the PostgreSQL warehouse.

Short timings for a test stack, each the test's choice and not a production value: heartbeat
timeout 15 s (default 300), retry delay 2 s (the DAG's default 120), lease expiry 10 s (default
300), resend quiet period ``QUIET_PERIOD_S`` = 6 s (default 15 minutes: the sandbox commits a load
within ``LOAD_LATENCY_MS`` of receiving it, EnKash gives no such bound), sandbox settlement 1 s.
The checks read the sandbox's own ledger (every reference applied exactly once, balances exact
to the paisa), the reconcile step's verdicts, the shared ledger table, and the task instances'
tries (which worker ran which try).
"""

from __future__ import annotations

import csv
import json
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_enkash.batch.outcomes import SETTLED
from airflow_provider_enkash.references import batch_row_reference
from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig
from scripts.airflow_stack import AirflowStack, CeleryOptions
from tests.e2e.stack_runs import Runs, sandbox_admin, sandbox_hook, utc_midnight

REPO = Path(__file__).resolve().parents[2]
PAYROLL_DAG = "enkash_payroll_card_loads"
EXPORT_DAG = "enkash_daily_transaction_export"
DAG_FILES = [REPO / "dags_examples" / f"{dag_id}.py" for dag_id in (PAYROLL_DAG, EXPORT_DAG)]
SAMPLE_FILE = REPO / "dags_examples" / "data" / "payroll_sample.csv"
PAY_PERIOD = "2025-02-01"
BATCH_ID = f"payroll-{PAY_PERIOD}"
ROWS = 2000
CHUNK_SIZE = 250  # 8 mapped load tasks
PAYROLL_CARDS = 40
WORKERS = ("worker-1", "worker-2")
WORKER_SLOTS = 2  # Celery --concurrency of each worker
LOAD_LATENCY_MS = 200  # the sandbox holds every load this long before it commits it
HEARTBEAT_TIMEOUT_S = 15
LEDGER_CONN_ID = "enkash_ledger"
WAREHOUSE_CONN_ID = "enkash_warehouse"  # the export DAG's
ENKASH_POOL = "enkash_api"
PENDING_LOAD_REFERENCE = "E2ECELERYPENDING01"
PENDING_SETTLE_S = 10.0
QUIET_PERIOD_S = 6
LEASE_TTL_S = 10
CONNECTION_EXTRAS = {
    "load_lookup_delay": 0.05,
    "max_retry_wait": 0.5,
    "timeout": 15,
    "resend_quiet_period": QUIET_PERIOD_S,
}
RUN_TIMEOUT_S = 300


@dataclass
class Kill:
    """The worker killed mid-batch, and what was true when it died."""

    worker: str = ""
    pids: list[int] = field(default_factory=list)
    map_indexes: list[int] = field(default_factory=list)
    applied_at_kill: dict[int, int] = field(default_factory=dict)
    running_at_kill: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class Payroll:
    """The payroll file's rows and each chunk's references."""

    rows: list[dict[str, str]]
    batch_id: str = BATCH_ID

    def references(self, map_index: int) -> list[str]:
        chunk = self.rows[map_index * CHUNK_SIZE : (map_index + 1) * CHUNK_SIZE]
        return [batch_row_reference(batch_id=self.batch_id, row_key=r["reference"]) for r in chunk]

    def by_reference(self) -> dict[str, tuple[str, Decimal]]:
        return {
            batch_row_reference(batch_id=self.batch_id, row_key=r["reference"]): (
                r["enkash_card_id"],
                Decimal(r["amount"]),
            )
            for r in self.rows
        }


@dataclass
class CeleryRuns:
    """The finished runs plus the kill, the payroll file and the balances before the payroll."""

    runs: Runs
    payroll: Payroll
    kill: Kill
    balances_before: dict[str, Decimal]
    data_uri: str


def _sql_uri(server_uri: str, database: str) -> str:
    return f"{server_uri.rsplit('/', 1)[0]}/{database}"


@pytest.fixture(scope="module")
def databases(postgres_uri: str) -> Iterator[dict[str, str]]:
    """Three fresh databases: Airflow's metadata, Celery's results, and the ledger + warehouse."""
    import psycopg2

    suffix = uuid.uuid4().hex[:8]
    names = {role: f"enkash_{role}_{suffix}" for role in ("airflow", "celery", "data")}
    admin = psycopg2.connect(postgres_uri)
    admin.autocommit = True
    with admin.cursor() as cursor:
        for name in names.values():
            cursor.execute(f"CREATE DATABASE {name}")
    yield {role: _sql_uri(postgres_uri, name) for role, name in names.items()}
    with admin.cursor() as cursor:
        for name in names.values():
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


@pytest.fixture(scope="module")
def celery_sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(
        seed_cards=PAYROLL_CARDS + 1,  # the last card takes the export's still-settling load
        seed_transactions=300,
        days=2,
        settle_delay_s=1.0,
        faults=(
            {
                "mode": "latency",
                "operation": "load_card_balance",
                "latency_ms": LOAD_LATENCY_MS,
            },
        ),
    )
    sandbox = Sandbox(config).start()
    yield sandbox
    sandbox.stop()


def _balances(sandbox: Sandbox) -> dict[str, Decimal]:
    return {c["enkash_card_id"]: Decimal(c["balance"]) for c in sandbox_admin(sandbox, "cards")["cards"]}


def _write_payroll(path: Path, cards: list[str]) -> Payroll:
    """``ROWS`` rows over ``cards``, amounts with paise (1000.01 .. 1999.99 rupees)."""
    rows = [
        {
            "reference": f"EMP{n:05d}",
            "enkash_card_id": cards[n % len(cards)],
            "amount": f"{1000 + (n * 7919) % 1000}.{(n * 37) % 100:02d}",
            "remarks": f"Salary {PAY_PERIOD} employee {n}",
        }
        for n in range(1, ROWS + 1)
    ]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Payroll(rows)


class _Killer:
    """Polled while the payroll runs: kills one worker once both run loads and one has a chunk half paid."""

    def __init__(self, stack: AirflowStack, sandbox: Sandbox, run_id: str, payroll: Payroll) -> None:
        self.stack, self.sandbox, self.run_id, self.payroll = (
            stack,
            sandbox,
            run_id,
            payroll,
        )
        self.kill = Kill()

    def __call__(self) -> None:
        if self.kill.worker:
            return
        running: dict[str, list[int]] = {w: [] for w in WORKERS}
        for ti in self.stack.task_instances(PAYROLL_DAG, self.run_id):
            if ti["task_id"] == "load" and ti["state"] == "running" and ti["hostname"] in running:
                running[ti["hostname"]].append(ti["map_index"])
        if not all(running.values()):
            return
        applied = {e["reference"] for e in sandbox_admin(self.sandbox, "ledger")["loads"]}
        for worker, map_indexes in running.items():
            progress = {i: len(applied.intersection(self.payroll.references(i))) for i in map_indexes}
            if any(0 < n < CHUNK_SIZE for n in progress.values()):
                self.kill = Kill(
                    worker=worker,
                    pids=self.stack.kill_worker(worker),
                    map_indexes=map_indexes,
                    applied_at_kill=progress,
                    running_at_kill=running,
                )
                return


@pytest.fixture(scope="module")
def celery_runs(
    celery_sandbox: Sandbox,
    databases: dict[str, str],
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CeleryRuns]:
    cards = [c["enkash_card_id"] for c in sandbox_admin(celery_sandbox, "cards")["cards"]]
    payroll_file = tmp_path_factory.mktemp("payroll") / "payroll.csv"
    payroll = _write_payroll(payroll_file, cards[:PAYROLL_CARDS])
    connection = json.loads(celery_sandbox.connection_json())
    connection["extra"] = {**connection["extra"], **CONNECTION_EXTRAS}
    today = utc_midnight()
    env = {
        "AIRFLOW_CONN_ENKASH_DEFAULT": json.dumps(connection),
        f"AIRFLOW_CONN_{LEDGER_CONN_ID.upper()}": databases["data"],
        f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": databases["data"],
        # The payroll DAG's deployment knobs: the shared SQL ledger, 8 chunks, quick retries.
        "ENKASH_PAYROLL_LEDGER_CONN_ID": LEDGER_CONN_ID,
        "ENKASH_PAYROLL_CHUNK_SIZE": str(CHUNK_SIZE),
        "ENKASH_PAYROLL_RETRY_DELAY_S": "2",
        "ENKASH_PAYROLL_LEASE_TTL_S": str(LEASE_TTL_S),
        # The export DAG catches up from yesterday; its sensor polls every 2 s.
        "ENKASH_EXPORT_START_DATE": (today - timedelta(days=1)).date().isoformat(),
        "ENKASH_EXPORT_POKE_INTERVAL_S": "2",
        # Notice a dead worker's task instances within seconds: tasks heartbeat every 2 s, the
        # scheduler looks every 2 s for task instances silent for HEARTBEAT_TIMEOUT_S.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_S),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
    }
    sql_alchemy = {
        role: uri.replace("postgresql://", "postgresql+psycopg2://", 1) for role, uri in databases.items()
    }
    started = time.monotonic()
    stack = AirflowStack(
        dag_files=DAG_FILES,
        env=env,
        keep_home=bool(os.environ.get("ENKASH_E2E_KEEP_HOME")),
        database_uri=sql_alchemy["airflow"],
        celery=CeleryOptions(
            broker_url=redis_url,
            result_backend=f"db+{sql_alchemy['celery']}",
            workers=WORKERS,
            concurrency=WORKER_SLOTS,
        ),
    )
    with stack:
        runs = Runs(stack=stack)
        runs.seconds["stack healthy"] = time.monotonic() - started
        for dag_id in (PAYROLL_DAG, EXPORT_DAG):
            stack.wait_for_dag(dag_id)
        stack.create_pool(ENKASH_POOL, slots=4)
        balances_before = _balances(celery_sandbox)
        killer: _Killer | None = None

        def kill_when_mid_batch() -> None:
            nonlocal killer
            if killer is None:
                killer = _Killer(stack, celery_sandbox, runs.run_ids[PAYROLL_DAG][0], payroll)
            killer()

        runs.run_to_the_end(
            PAYROLL_DAG,
            conf={"pay_period": PAY_PERIOD, "payroll_file": str(payroll_file)},
            timeout_s=RUN_TIMEOUT_S,
            on_poll=kill_when_mid_batch,
        )
        runs.seconds["payroll done"] = time.monotonic() - started

        runs.export_today_while_a_load_settles(
            EXPORT_DAG,
            celery_sandbox,
            enkash_card_id=cards[PAYROLL_CARDS],
            reference=PENDING_LOAD_REFERENCE,
            settle_s=PENDING_SETTLE_S,
            timeout_s=RUN_TIMEOUT_S,
        )
        runs.seconds["export done"] = time.monotonic() - started
        assert killer is not None
        yield CeleryRuns(runs, payroll, killer.kill, balances_before, databases["data"])
        print(f"\ncelery e2e timings (seconds since start): {runs.seconds}; kill: {killer.kill}")
        if any(state != "success" for state in runs.states.values()):
            print(stack.service_log("scheduler")[-6000:])


def _load_tries(runs: Runs) -> dict[int, list[dict[str, Any]]]:
    """Every try of every mapped load task instance, by map index."""
    run_id = runs.run_ids[PAYROLL_DAG][0]
    tries = {}
    for ti in runs.stack.task_instances(PAYROLL_DAG, run_id):
        if ti["task_id"] == "load":
            path = f"/dags/{PAYROLL_DAG}/dagRuns/{run_id}/taskInstances/load/{ti['map_index']}/tries"
            tries[ti["map_index"]] = sorted(
                runs.stack.api("GET", path)["task_instances"],
                key=lambda t: t["try_number"],
            )
    return tries


def _every_payroll_load(runs: Runs, payroll: Payroll) -> dict[str, tuple[str, Decimal]]:
    """Reference -> (card, amount) of every load the payroll runs owe: the triggered run pays
    ``payroll``; a run the scheduler added on unpausing pays the DAG's sample file, if anything."""
    expected = payroll.by_reference()
    with SAMPLE_FILE.open(newline="") as handle:
        sample = list(csv.DictReader(handle))
    for run_id in runs.run_ids[PAYROLL_DAG][1:]:
        tis = runs.stack.task_instances(PAYROLL_DAG, run_id)
        if any(ti["task_id"] == "validate" and ti["state"] == "skipped" for ti in tis):
            continue  # a late scheduled run pays nothing and names no batch
        (batch_name,) = [ti for ti in tis if ti["task_id"] == "batch_name"]
        batch = runs.xcom(batch_name)
        if isinstance(batch, str):
            expected.update(Payroll(sample, batch_id=batch).by_reference())
    return expected


def test_both_dags_succeed(celery_runs: CeleryRuns) -> None:
    runs = celery_runs.runs
    assert runs.states == {PAYROLL_DAG: "success", EXPORT_DAG: "success"}, runs.task_states_seen


def test_a_worker_died_mid_chunk_and_its_chunks_reran_on_the_other(
    celery_runs: CeleryRuns,
) -> None:
    kill = celery_runs.kill
    assert kill.worker in WORKERS, "no worker was killed: the payroll never had loads in flight on both"
    (survivor,) = set(WORKERS) - {kill.worker}
    assert celery_runs.runs.stack.processes[kill.worker].poll() is not None
    assert any(0 < n < CHUNK_SIZE for n in kill.applied_at_kill.values()), kill
    tries = _load_tries(celery_runs.runs)
    assert len(tries) == ROWS // CHUNK_SIZE
    for map_index in kill.map_indexes:
        first, *_, last = tries[map_index]
        assert (first["hostname"], first["try_number"]) == (kill.worker, 1), tries[map_index]
        assert (last["hostname"], last["state"]) == (survivor, "success"), tries[map_index]


def test_load_chunks_ran_on_both_workers(celery_runs: CeleryRuns) -> None:
    hosts = Counter(t["hostname"] for tries in _load_tries(celery_runs.runs).values() for t in tries)
    assert set(hosts) == set(WORKERS), hosts


def test_every_reference_applied_exactly_once_and_balances_exact(
    celery_runs: CeleryRuns, celery_sandbox: Sandbox
) -> None:
    expected = _every_payroll_load(celery_runs.runs, celery_runs.payroll)
    applied = {
        e["reference"]: (e["enkash_card_id"], Decimal(e["amount"]), e["times_applied"])
        for e in sandbox_admin(celery_sandbox, "ledger")["loads"]
        if e["reference"] != PENDING_LOAD_REFERENCE
    }
    assert applied == {ref: (card, amount, 1) for ref, (card, amount) in expected.items()}
    owed: Counter[str] = Counter()
    for card, amount in expected.values():
        owed[card] += amount
    after = _balances(celery_sandbox)
    assert {card: after[card] - celery_runs.balances_before[card] for card in owed} == dict(owed)


def test_reconcile_matched_every_row(celery_runs: CeleryRuns) -> None:
    runs = celery_runs.runs
    run_id = runs.run_ids[PAYROLL_DAG][0]
    (reconcile,) = [
        ti for ti in runs.stack.task_instances(PAYROLL_DAG, run_id) if ti["task_id"] == "reconcile"
    ]
    result = runs.xcom(reconcile)
    total = sum(
        (amount for _, amount in celery_runs.payroll.by_reference().values()),
        Decimal(0),
    )
    assert (result["batch_id"], result["consistent"], result["verdicts"]) == (
        BATCH_ID,
        True,
        {"matched": ROWS},
    )
    assert Decimal(result["settled_amount_at_enkash"]) == total


def test_shared_ledger_settled_every_row_and_the_takeover_sorted_out_the_dead_workers_rows(
    celery_runs: CeleryRuns,
) -> None:
    """Every row is settled in the SQL ledger. In the killed chunks, rows the dead worker had started
    were found (``already_loaded``) by a look-up the retry waited for in the triggerer (deferred); the
    rows it never started were not held back by the quiet period (none waited for two absent look-ups)."""
    import psycopg2

    with psycopg2.connect(celery_runs.data_uri) as db, db.cursor() as cursor:
        cursor.execute(
            "SELECT reference, outcome FROM enkash_batch_ledger WHERE batch_id = %s",
            (BATCH_ID,),
        )
        outcomes = dict(cursor.fetchall())
    assert set(outcomes) == set(celery_runs.payroll.by_reference())
    assert set(outcomes.values()) <= SETTLED, Counter(outcomes.values())
    killed_references = {
        ref for i in celery_runs.kill.map_indexes for ref in celery_runs.payroll.references(i)
    }
    taken_over = Counter(outcomes[ref] for ref in killed_references)
    assert taken_over["already_loaded"] >= 1, taken_over
    # the sandbox commits every load it received, so only a row killed between its 'sending' mark and
    # its request could be absent: at most one per sending thread (8 per chunk), never the unstarted rest
    assert taken_over["resent_after_unknown"] <= 8 * len(celery_runs.kill.map_indexes), taken_over
    # the retry took the dead attempt's lease over and counted its started rows unclear; their look-ups
    # were due half a quiet period later (deferred to the triggerer unless loading the never-started rows
    # took that long), which found them: already_loaded
    load_logs = (celery_runs.runs.stack.home / "logs" / f"dag_id={PAYROLL_DAG}").rglob(
        "task_id=load/**/*.log"
    )
    takeovers = [
        int(match.group(1))
        for path in load_logs
        for match in re.finditer(
            r" (\d+) unclear, \d+ to load .*?\(taken over from ", path.read_text(errors="replace")
        )
    ]
    assert takeovers and sum(takeovers) >= taken_over["already_loaded"] >= 1, (takeovers, taken_over)


def test_sensor_deferred_to_the_triggerer(celery_runs: CeleryRuns) -> None:
    celery_runs.runs.assert_sensor_deferred_to_the_triggerer(EXPORT_DAG, "EnKashTransactionsSettledSensor")


def test_two_export_days_converged_to_enkash_in_the_postgres_warehouse(
    celery_runs: CeleryRuns, celery_sandbox: Sandbox
) -> None:
    import psycopg2

    runs = celery_runs.runs
    exports = runs.task_instances_of(EXPORT_DAG, "EnKashTransactionsToSqlOperator")
    windows = {runs.xcom(e)["window_start"] for e in exports}
    assert len(windows) == 2, windows
    table, at_enkash = runs.exported_at_enkash(
        EXPORT_DAG, "EnKashTransactionsToSqlOperator", sandbox_hook(celery_sandbox)
    )
    with psycopg2.connect(celery_runs.data_uri) as db, db.cursor() as cursor:
        cursor.execute(f"SELECT enkash_transaction_id FROM {table}")
        stored = [row[0] for row in cursor.fetchall()]
    assert len(stored) == len(set(stored)), "a transaction is stored twice"
    assert set(stored) == at_enkash
    assert len(at_enkash) > ROWS  # the payroll's credits and the seeded history
