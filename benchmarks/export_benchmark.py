"""Benchmark: the daily transaction export, EnKash sandbox -> SQLite, at 100,000 and 1,000,000 transactions.

For each size a sandbox process (``python -m airflow_provider_enkash.sandbox``)
is seeded with that many settled transactions, 100,000 per day, and one child
process runs ``EnKashTransactionsToSqlOperator`` over the whole seeded period
into a fresh SQLite file; a second child only reads the same window (no
database), to show how much of the time is the API. Each child's peak RSS
comes from ``os.wait4`` (its ``getrusage``). This process stays small and holds
no sandbox, because a child's ``ru_maxrss`` includes what it was forked from.

Usage: .venv/bin/python benchmarks/export_benchmark.py [--sizes 100000 1000000]
Targets: >= 10,000 rows/s end to end; peak RSS(1M) <= 1.2 x peak RSS(100k).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from airflow_provider_enkash.sandbox.app import connection_json_from_line

PER_DAY = 100_000
SEED_END = datetime(2025, 1, 1, tzinfo=timezone.utc)


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1024**2:.1f} GiB RAM, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def child(args: argparse.Namespace) -> None:
    """Run one export (or one read-only pass) of ``[start, end)`` and print its summary as JSON."""
    from airflow_provider_enkash.export.records import RowStats, window_rows
    from airflow_provider_enkash.export.windows import Window, WindowReader
    from airflow_provider_enkash.hooks.enkash import EnKashHook
    from airflow_provider_enkash.operators.transactions import (
        EnKashTransactionsToSqlOperator,
    )

    start, end = datetime.fromisoformat(args.start), datetime.fromisoformat(args.end)
    began = time.monotonic()
    if args.read_only:
        reader, stats = WindowReader(EnKashHook()), RowStats()
        for _ in window_rows(
            reader.batches(Window(start, end)),
            Window(start, end),
            exported_at=start,
            stats=stats,
        ):
            pass
        summary = {"fetched": stats.rows, "requests": reader.stats.requests}
    else:
        operator = EnKashTransactionsToSqlOperator(
            task_id="export", conn_id="enkash_warehouse", lookback=timedelta(0)
        )
        summary = operator.execute(
            {"data_interval_start": start, "data_interval_end": end}
        )  # type: ignore[arg-type]
    summary["elapsed_s"] = time.monotonic() - began
    summary["vm_hwm_mib"] = (
        int(
            next(
                l.split()[1]
                for l in Path("/proc/self/status").read_text().splitlines()
                if l.startswith("VmHWM")
            )
        )
        / 1024
    )
    print(json.dumps(summary))


def start_sandbox(size: int, days: int) -> tuple[subprocess.Popen, str]:
    """A seeded sandbox process and its connection JSON (printed once seeding is done)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_enkash.sandbox", "--port", "0", "--settle-delay-s", "0",
         "--seed-transactions", str(size), "--days", str(days), "--seed-end", SEED_END.isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    line = proc.stdout.readline()  # type: ignore[union-attr]
    try:
        conn = connection_json_from_line(line)
    except ValueError:
        proc.kill()
        raise SystemExit(f"the sandbox did not start: {line!r}") from None
    return proc, conn


def run_child(
    connection: str, start: datetime, end: datetime, workdir: Path, *, read_only: bool
) -> tuple[dict, float]:
    """(summary, peak RSS in MiB) of one child run."""
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(workdir / "airflow"),
        "AIRFLOW_CONN_ENKASH_DEFAULT": connection,
        "AIRFLOW_CONN_ENKASH_WAREHOUSE": json.dumps(
            {"conn_type": "sqlite", "host": str(workdir / "warehouse.db")}
        ),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--start",
        start.isoformat(),
        "--end",
        end.isoformat(),
    ]
    if read_only:
        cmd.append("--read-only")
    with open(workdir / "child.log", "ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log)
        out = proc.stdout.read()  # type: ignore[union-attr]
        _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"child failed ({status}); see {workdir / 'child.log'}")
    return json.loads(
        out.decode().strip().splitlines()[-1]
    ), usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--read-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    parser.add_argument("--end", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    print(f"Machine: {machine()}")
    print(f"Command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    rows = []
    for size in args.sizes:
        days = max(1, round(size / PER_DAY))
        start = SEED_END - timedelta(days=days)
        seeded = time.monotonic()
        sandbox, connection = start_sandbox(size, days)
        seed_s = time.monotonic() - seeded
        try:
            with tempfile.TemporaryDirectory(prefix="enkash-export-bench-") as tmp:
                export, rss = run_child(
                    connection, start, SEED_END, Path(tmp), read_only=False
                )
                read, read_rss = run_child(
                    connection, start, SEED_END, Path(tmp), read_only=True
                )
        finally:
            sandbox.terminate()
            sandbox.wait()
        if export["fetched"] != size:
            raise SystemExit(f"exported {export['fetched']} rows, expected {size}")
        rows.append((size, days, seed_s, export, rss, read, read_rss))

    print()
    header = (
        "transactions",
        "days",
        "seed s",
        "export s",
        "rows/s",
        "requests",
        "peak RSS MiB",
        "VmHWM MiB",
        "read-only rows/s",
        "read-only RSS MiB",
    )
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for size, days, seed_s, export, rss, read, read_rss in rows:
        print(" | ".join(str(v) for v in (
            f"{size:,}", days, f"{seed_s:.1f}", f"{export['elapsed_s']:.1f}", f"{export['fetched'] / export['elapsed_s']:,.0f}",
            export["requests"], f"{rss:.0f}", f"{export['vm_hwm_mib']:.0f}", f"{read['fetched'] / read['elapsed_s']:,.0f}", f"{read_rss:.0f}",
        )))  # fmt: skip
    if len(rows) >= 2:
        ratio = rows[-1][4] / rows[0][4]
        print(
            f"\npeak RSS ratio {rows[-1][0]:,} / {rows[0][0]:,}: {ratio:.2f} (target <= 1.20)"
        )
    slowest = min(r[3]["fetched"] / r[3]["elapsed_s"] for r in rows)
    print(f"slowest end-to-end rate: {slowest:,.0f} rows/s (target >= 10,000)")


if __name__ == "__main__":
    main()
