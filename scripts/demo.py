"""The demo behind scripts/demo.sh: sandbox -> payroll loads -> transaction export, printed.

Runs both example DAGs with ``dag.test()`` against an in-process sandbox and an SQLite
warehouse under ``--run-dir``, then prints the sandbox ledger, the warehouse rows and the
checks that prove nothing was loaded twice and nothing was lost.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sqlite3
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import requests

from airflow_provider_enkash.hooks.enkash import EnKashHook
from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig

PAYROLL_DAG = ("enkash_payroll_card_loads.py", "enkash_payroll_card_loads")
EXPORT_DAG = ("enkash_daily_transaction_export.py", "enkash_daily_transaction_export")
PAYROLL_CARDS = 12  # the sample payroll file names the first 12 cards the sandbox seeds
HISTORY_TRANSACTIONS = 5000


def _dag(file_name: str, dag_id: str):
    from airflow.sdk import DAG

    path = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / file_name
    spec = importlib.util.spec_from_file_location(f"demo_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return next(v for v in vars(module).values() if isinstance(v, DAG) and v.dag_id == dag_id)


def _run(dag, **kwargs) -> str:
    started = time.monotonic()
    run = dag.test(**kwargs)
    states = Counter(ti.state for ti in run.get_task_instances())
    print(f"  {dag.dag_id}: {run.state} in {time.monotonic() - started:.1f} s  (task states: {dict(states)})")
    if run.state != "success":
        raise SystemExit(f"{dag.dag_id} did not succeed")
    return run.run_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    args = parser.parse_args()
    warehouse = args.run_dir / "enkash_warehouse.db"

    config = SandboxConfig(
        seed_cards=PAYROLL_CARDS, seed_transactions=HISTORY_TRANSACTIONS, days=2, settle_delay_s=1.0
    )
    with Sandbox(config) as sandbox:
        print(
            f"EnKash sandbox on {sandbox.url}: {PAYROLL_CARDS} cards, {HISTORY_TRANSACTIONS} historic transactions"
        )
        conn = json.loads(sandbox.connection_json())
        conn["extra"]["load_lookup_delay"] = 0.2
        os.environ["AIRFLOW_CONN_ENKASH_DEFAULT"] = json.dumps(conn)
        os.environ["AIRFLOW_CONN_ENKASH_WAREHOUSE"] = json.dumps(
            {"conn_type": "sqlite", "host": str(warehouse)}
        )
        # the sandbox settles a credit in a second: reconcile looks again every second, not every 30
        os.environ["ENKASH_PAYROLL_SETTLE_POLL_S"] = "1"

        print("\n1. Payroll top-ups (dags_examples/enkash_payroll_card_loads.py)")
        payroll = _dag(*PAYROLL_DAG)
        pay_period = datetime.now(UTC).strftime("%Y-%m-%d")
        _run(payroll, run_conf={"pay_period": pay_period})
        print("  rerun of the same pay period (a retry must not pay anyone twice):")
        _run(payroll, run_conf={"pay_period": pay_period})
        ledger = requests.get(f"{sandbox.url}/_sandbox/ledger", timeout=10).json()["loads"]
        payroll_loads = [e for e in ledger if not e["reference"].startswith("SEED")]
        total = sum(Decimal(e["amount"]) for e in payroll_loads)
        twice = [e["reference"] for e in payroll_loads if e["times_applied"] != 1]
        print(
            f"  sandbox ledger: {len(payroll_loads)} payroll loads, total ₹{total:,.2f}, applied more than once: {len(twice)}"
        )
        for entry in payroll_loads[:3]:
            print(
                f"    {entry['reference']}  {entry['enkash_card_id']}  ₹{Decimal(entry['amount']):,.2f}  x{entry['times_applied']}"
            )
        if twice:
            raise SystemExit(f"double loads: {twice}")

        print("\n2. Daily transaction export (dags_examples/enkash_daily_transaction_export.py)")
        time.sleep(config.settle_delay_s + 0.5)  # let today's loads settle, as they would overnight
        export = _dag(*EXPORT_DAG)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        tomorrow = today + timedelta(
            days=1
        )  # a manual run at `tomorrow` exports the interval [today, tomorrow)
        _run(export, logical_date=tomorrow)
        print("  rerun of the same day (reruns and backfills must converge):")
        _run(export, logical_date=tomorrow)

        window = (today - timedelta(days=1), tomorrow)  # the interval plus the DAG's one-day lookback
        api_count = EnKashHook().get_all_transactions(txn_date_from=window[0], txn_date_to=window[1])[
            "recordsCount"
        ]
        with sqlite3.connect(warehouse) as db:
            rows, distinct = db.execute(
                "SELECT COUNT(*), COUNT(DISTINCT enkash_transaction_id) FROM enkash_transactions"
                " WHERE txn_date >= ? AND txn_date < ?",
                [_iso(window[0]), _iso(window[1])],
            ).fetchone()
            by_status = dict(
                db.execute("SELECT status, COUNT(*) FROM enkash_transactions GROUP BY status").fetchall()
            )
            loaded = db.execute(
                "SELECT COUNT(*), SUM(principal_amount) FROM enkash_transactions WHERE pg_reference_number IN ({})".format(
                    ",".join("?" * len(payroll_loads))
                ),
                [e["reference"] for e in payroll_loads],
            ).fetchone()
        print(
            f"  warehouse {warehouse.name}: {rows} rows, {distinct} distinct transaction ids, by status {by_status}"
        )
        print(
            f"  EnKash holds {api_count} transactions in the exported window {_iso(window[0])} .. {_iso(window[1])}"
        )
        print(f"  payroll loads in the warehouse: {loaded[0]} rows, ₹{Decimal(str(loaded[1] or 0)):,.2f}")
        ok = rows == distinct == api_count and loaded[0] == len(payroll_loads)
        print(
            f"\n{'OK' if ok else 'MISMATCH'}: every payroll row loaded once; every transaction of the window exported once."
        )
        if not ok:
            sys.exit(1)


def _iso(moment: datetime) -> str:
    """The warehouse's UTC timestamp text, e.g. ``2026-11-25T00:00:00.000Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


if __name__ == "__main__":
    main()
