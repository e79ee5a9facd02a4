"""Batch loads: wall time of EnKashBatchLoadOperator against the ideal N x latency / concurrency.

Starts the sandbox in a child process on 127.0.0.1 (so client and server do not share a GIL)
with ``latency`` injected on every load, creates the cards, then loads N rows through the
operator (whole-batch validation, one shared hook, thread pool, file ledger) at each
concurrency, and a sequential loop (concurrency 1) on a sample of rows, extrapolated to N.
After each run it checks in the sandbox ledger that every reference moved money exactly once.

    .venv/bin/python benchmarks/batch_load_benchmark.py [--rows 10000] [--latency-ms 20]
        [--concurrency 16 8] [--sequential-sample 300]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_line
from airflow_provider_enkash.sandbox.app import connection_json_from_line

TARGET_RATIO = 1.3


@dataclass
class _TaskInstance:
    """The task-instance fields the operator reads when run outside a scheduler."""

    dag_id: str = "batch_load_benchmark"
    run_id: str = "benchmark"
    task_id: str = "load"
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_sandbox() -> tuple[subprocess.Popen, str, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_enkash.sandbox",
            "--port",
            str(port),
            "--settle-delay-s",
            "1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    try:
        conn = connection_json_from_line(line)
    except ValueError:
        proc.kill()
        raise SystemExit(f"sandbox did not start: {line!r}") from None
    return proc, conn, f"http://127.0.0.1:{port}"


def _admin(url: str, name: str, body: dict | None = None) -> Any:
    if body is None:
        return requests.get(f"{url}/_sandbox/{name}", timeout=60).json()
    response = requests.post(f"{url}/_sandbox/{name}", json=body, timeout=60)
    response.raise_for_status()
    return response.json()


def _rows(cards: list[str], count: int, tag: str) -> list[dict[str, str]]:
    return [
        {
            "enkash_card_id": cards[i % len(cards)],
            "amount": str(Decimal("100.01") + Decimal(i % 97) / 100),
            "reference": f"{tag}-{i}",
        }
        for i in range(count)
    ]


def _load(rows: list[dict[str, str]], *, concurrency: int, batch_id: str, ledger: str) -> float:
    from airflow_provider_enkash.operators.batch_load import EnKashBatchLoadOperator

    operator = EnKashBatchLoadOperator(
        task_id="load",
        rows=rows,
        batch_id=batch_id,
        ledger_path=ledger,
        concurrency=concurrency,
    )
    started = time.perf_counter()
    summary = operator.execute({"ti": _TaskInstance()})
    elapsed = time.perf_counter() - started
    if summary["counts"]["loaded"] != len(rows):
        raise SystemExit(f"not every row loaded: {summary['counts']}")
    return elapsed


def _check_exactly_once(url: str, expected: int) -> None:
    loads = _admin(url, "ledger")["loads"]
    if len(loads) != expected or any(entry["times_applied"] != 1 for entry in loads):
        raise SystemExit(f"ledger check failed: {len(loads)} references for {expected} rows, or a double load")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 8])
    parser.add_argument("--sequential-sample", type=int, default=300)
    parser.add_argument("--cards", type=int, default=2_000)
    args = parser.parse_args()

    proc, conn_json, url = _start_sandbox()
    os.environ["AIRFLOW_CONN_ENKASH_DEFAULT"] = conn_json
    latency_s = args.latency_ms / 1000
    results = []
    loaded = 0
    try:
        cards = _admin(url, "cards", {"count": args.cards})["enkash_card_ids"]
        # a whole number goes as a JSON integer (the sandbox's fault parser mishandles 20.0)
        latency_ms = int(args.latency_ms) if args.latency_ms == int(args.latency_ms) else args.latency_ms
        _admin(
            url,
            "faults",
            {
                "operation": "load_card_balance",
                "mode": "latency",
                "latency_ms": latency_ms,
            },
        )
        with tempfile.TemporaryDirectory() as ledger:
            runs = [(c, args.rows) for c in args.concurrency] + [(1, args.sequential_sample)]
            for concurrency, count in runs:
                rows = _rows(cards, count, f"c{concurrency}")
                wall = _load(
                    rows,
                    concurrency=concurrency,
                    batch_id=f"bench-c{concurrency}",
                    ledger=ledger,
                )
                loaded += count
                _check_exactly_once(url, loaded)
                results.append((concurrency, count, wall))
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    sequential_per_row = next(wall / count for c, count, wall in results if c == 1)
    print(f"machine: {machine_line()}")
    print(f"rows: {args.rows}, injected latency: {args.latency_ms:.0f} ms per load, sandbox in a child process")
    print(f"{'run':<30} {'rows':>7} {'wall s':>8} {'ideal s':>8} {'x ideal':>8} {'rows/s':>8}")
    for concurrency, count, wall in results:
        ideal = count * latency_s / concurrency
        name = f"concurrency {concurrency}" if concurrency > 1 else f"sequential (sample of {count})"
        print(f"{name:<30} {count:>7} {wall:>8.2f} {ideal:>8.2f} {wall / ideal:>8.2f} {count / wall:>8.0f}")
    print(
        f"{'sequential, extrapolated':<30} {args.rows:>7} {sequential_per_row * args.rows:>8.1f} "
        f"{args.rows * latency_s:>8.1f} {sequential_per_row / latency_s:>8.2f} {1 / sequential_per_row:>8.0f}"
    )
    for concurrency, count, wall in results:
        if concurrency == 16:
            ratio = wall / (count * latency_s / concurrency)
            verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
            print(
                f"target <= {TARGET_RATIO}x ideal at concurrency 16: {ratio:.2f}x ({verdict}); "
                f"speed-up over sequential: {sequential_per_row * count / wall:.1f}x"
            )
    print("every reference applied exactly once (sandbox ledger)")


if __name__ == "__main__":
    main()
