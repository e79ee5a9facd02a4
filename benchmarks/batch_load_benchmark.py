"""Batch card loads: EnKashBatchLoadOperator against a minimal batch client, same sandbox, same latency.

Each round starts a fresh sandbox process with ``--latency-ms`` injected on every load and ``--cards``
cards, then runs each client in a fresh process (order alternating between rounds), each loading
``--rows`` rows ``--concurrency`` at a time with its own references. Clients:

- ``provider operator``: ``EnKashBatchLoadOperator`` (whole-batch validation, deterministic references,
  one shared hook, thread pool, file ledger with a ``sending`` marker per row before the first load);
- ``minimal client``: ``ThreadPoolExecutor`` + one ``requests.Session`` (trust_env=False) + AES, one POST
  per row, response decrypted and its code checked; no validation, ledger or settlement.

After every run the sandbox's ledger must show each of that run's references applied exactly once.
Client CPU is the child's user+system time (kernel's) per row, imports excluded (timed from the start of
the load); the operator's child first does what a task process does before ``execute`` (loads Airflow's
plugins through the listener manager).

    .venv/bin/python benchmarks/batch_load_benchmark.py [--rows 10000] [--latency-ms 20] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    PYTHON,
    MinimalEnKash,
    Sandbox,
    machine_line,
    run_child,
    spread,
    table,
)

from tests.batch.helpers import TaskInstanceStub  # the one task-instance stand-in, shared with the tests

CLIENTS = ("provider operator", "minimal client")


def _rows(cards: list[str], count: int) -> list[dict[str, str]]:
    return [{"enkash_card_id": cards[i % len(cards)], "amount": str(Decimal("100.01") + Decimal(i % 97) / 100),
             "reference": f"row-{i}"} for i in range(count)]  # fmt: skip


def child(client: str, rows: list[dict[str, str]], concurrency: int, tag: str, connection: str) -> None:
    if client == "provider operator":
        from airflow.sdk.listener import get_listener_manager

        from airflow_provider_enkash.operators.batch_load import EnKashBatchLoadOperator

        # A task process calls the listeners before execute(), which loads Airflow's plugins; do the same
        # before the clock starts, or the ledger's first write (ObjectStoragePath reports hook lineage
        # through those plugins) would load them inside the timed load.
        get_listener_manager()
        ledger = tempfile.mkdtemp(prefix="enkash-batch-bench-")
        operator = EnKashBatchLoadOperator(task_id="load", rows=rows, batch_id=tag, ledger_path=ledger,
                                           concurrency=concurrency)  # fmt: skip
        cpu, started = time.process_time(), time.perf_counter()
        summary = operator.execute(
            {"ti": TaskInstanceStub(dag_id="batch_load_benchmark", run_id="benchmark")}
        )  # type: ignore[arg-type]
        loaded = summary["counts"]["loaded"]
        references = None
    else:
        cpu, started = time.process_time(), time.perf_counter()
        bare = MinimalEnKash(connection, pool=concurrency)
        references = [f"{tag}-{row['reference']}" for row in rows]

        def load(i: int) -> None:
            row = rows[i]
            bare.post("/api/v0/partner/enKashCard/balance", bare.encrypt({
                "companyId": bare.company_id, "cardAccountId": bare.card_account_id,
                "enKashCardId": row["enkash_card_id"], "amount": float(row["amount"]), "transactionType": "CR",
                "type": "LOAD_MONEY", "uniqueReferenceNumber": references[i],
            }))  # fmt: skip

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(load, range(len(rows))))
        loaded = len(rows)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"loaded": loaded, "wall_s": wall, "cpu_s": cpu}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--cards", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    parser.add_argument("--rows-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--connection", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(
            args.child,
            json.loads(args.rows_file.read_text()),
            args.concurrency,
            args.tag,
            args.connection,
        )
        return

    machine = machine_line()
    runs: dict[str, list[dict[str, float]]] = {c: [] for c in CLIENTS}
    for round_no in range(args.repeats):
        with (
            Sandbox("--settle-delay-s", "1") as sandbox,
            tempfile.TemporaryDirectory() as tmp,
        ):
            cards = sandbox.admin("cards", {"count": args.cards})["enkash_card_ids"]
            sandbox.admin(
                "faults",
                {
                    "operation": "load_card_balance",
                    "mode": "latency",
                    "latency_ms": args.latency_ms,
                },
            )
            rows_file = Path(tmp) / "rows.json"
            rows_file.write_text(json.dumps(_rows(cards, args.rows)))
            applied = 0
            for client in CLIENTS if round_no % 2 == 0 else tuple(reversed(CLIENTS)):
                tag = f"bench{round_no}{'op' if client.startswith('provider') else 'min'}"
                run = run_child([PYTHON, __file__, "--child", client, "--tag", tag, "--rows-file", str(rows_file),
                                 "--concurrency", str(args.concurrency), "--connection", sandbox.connection],
                                env={"AIRFLOW_CONN_ENKASH_DEFAULT": sandbox.connection, "AIRFLOW_HOME": f"{tmp}/airflow"})  # fmt: skip
                if run.result["loaded"] != args.rows:
                    raise SystemExit(f"{client} loaded {run.result['loaded']} of {args.rows} rows")
                applied += args.rows
                loads = sandbox.admin("ledger")["loads"]
                if len(loads) != applied or any(entry["times_applied"] != 1 for entry in loads):
                    raise SystemExit(
                        f"ledger check failed after {client}: a reference missing or applied twice"
                    )
                runs[client].append(run.result)

    ideal = args.rows * args.latency_ms / 1000 / args.concurrency
    print("## Batch loads\n")
    print(f"Machine: {machine}.\n")
    print(f"{args.rows:,} loads, {args.latency_ms} ms injected latency each, {args.concurrency} at once; {args.repeats} "
          "rounds, each on a fresh sandbox, every client a fresh process, order alternating; every reference "
          "checked applied exactly once. Median (min-max) over the rounds.\n")  # fmt: skip
    print(table(("client", "wall s", "x ideal (N x latency / concurrency)", "client CPU ms/load"),
                [(c, spread([r["wall_s"] for r in runs[c]]), spread([r["wall_s"] / ideal for r in runs[c]]),
                  spread([r["cpu_s"] / args.rows * 1e3 for r in runs[c]], "{:.3f}")) for c in CLIENTS]))  # fmt: skip
    print()
    print("| figure (ratios of paired runs in the same round) | median (min-max) | goal |")
    print("|---|---|---|")
    for key, goal, name in (
        ("wall_s", 1.0, "wall"),
        ("cpu_s", 1.1, "client CPU per load"),
    ):
        ratios = [
            o[key] / m[key] for o, m in zip(runs["provider operator"], runs["minimal client"], strict=False)
        ]
        median = statistics.median(ratios)
        print(f"| operator / minimal client: {name} | **{median:.2f}** ({min(ratios):.2f}-{max(ratios):.2f}) | "
              f"<= {goal:.1f}: {'met' if median <= goal else 'NOT met'} |")  # fmt: skip


if __name__ == "__main__":
    main()
