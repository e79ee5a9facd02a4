"""Transaction export: the provider's operators against a plain loop and dlt, on the same sandbox.

Each round starts a fresh sandbox process seeded with ``--rows`` settled transactions in one day, then
runs every client once, each in a fresh process (order alternates between rounds); the kernel gives
each child's wall time, CPU time and peak RSS (``wait4``). Clients:

- ``provider SQL``: ``EnKashTransactionsToSqlOperator`` into a fresh SQLite file;
- ``plain loop``: ``requests`` (one Session, trust_env=False) + AES + ``json`` with Decimal, the same
  34 columns (flattened, masked card, paise, UTC timestamps), ``INSERT OR REPLACE`` through sqlite3's
  ``executemany``, 10-minute windows (it knows the data's density, so it never needs to bisect);
- ``dlt``: the same requests feeding a ``dlt`` resource, to DuckDB, ``merge`` on the transaction id,
  Parquet loader files (the ``bench`` extra);
- ``provider JSONL`` / ``provider Parquet``: ``EnKashTransactionsToStorageOperator`` to local files;

With ``--large`` (default 1,000,000) one more sandbox holds that many transactions over 10 days and
each provider format runs once more, for RSS(large) / RSS(rows).

    .venv/bin/python benchmarks/export_benchmark.py [--rows 100000] [--repeats 3] [--large 1000000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PYTHON, Sandbox, machine_line, run_child, spread, table

SEED_END = datetime(2025, 1, 1, tzinfo=UTC)
PER_DAY = 100_000
CLIENTS = (
    "provider SQL",
    "plain loop",
    "dlt",
    "provider JSONL",
    "provider Parquet",
)
LARGE_CLIENTS = ("provider SQL", "provider JSONL", "provider Parquet")


# -- the clients (each runs in its own child process) --------------------------------------------


def _provider(kind: str, start: datetime, end: datetime, workdir: Path) -> int:
    from airflow_provider_enkash.transfers.enkash_to_sql import EnKashTransactionsToSqlOperator
    from airflow_provider_enkash.transfers.enkash_to_storage import EnKashTransactionsToStorageOperator

    if kind.startswith("provider SQL"):
        operator = EnKashTransactionsToSqlOperator(
            task_id="export", conn_id="warehouse", lookback=timedelta(0)
        )
    else:
        operator = EnKashTransactionsToStorageOperator(
            task_id="export", destination=f"file://{workdir}/files",
            formats=("jsonl",) if kind == "provider JSONL" else ("parquet",),
        )  # fmt: skip
    return operator.execute({"data_interval_start": start, "data_interval_end": end})["fetched"]  # type: ignore[arg-type]


def _windows(start: datetime, end: datetime, span: timedelta = timedelta(minutes=10)):
    while start < end:
        yield start, min(start + span, end)
        start += span


def _search_pages(connection: str, start: datetime, end: datetime):
    """The plain loop's reading: one encrypted search per 10-minute window."""
    from _common import MinimalEnKash

    client = MinimalEnKash(connection)

    def iso(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

    for lo, hi in _windows(start, end):
        body = client.encrypt({"companyId": client.company_id, "cardAccountId": client.card_account_id,
                               "txnDateFrom": iso(lo), "txnDateTo": iso(hi)})  # fmt: skip
        records = client.post("/api/v0/partner/enKashCard/transaction/all", body)["data"]
        if len(records) >= 1000:
            raise SystemExit("a 10-minute window hit the response cap: the plain loop would lose rows")
        yield records


_PLAIN_COLUMNS = (
    "enkash_transaction_id", "txn_date", "created_on", "modified_on", "status", "card_transaction_type",
    "transaction_type", "principal_amount", "principal_amount_paise", "currency", "balance", "fcy_amount",
    "fcy_currency", "enkash_card_id", "masked_card", "card_kit_number", "card_holder_name", "user_id",
    "company_id", "company_name", "pg_reference_number", "description", "txn_details_id", "txn_ref_no",
    "merchant_name", "txn_details_transaction_type", "mcc", "channel", "retrieval_ref_no", "trace_no",
    "txn_currency", "network", "transaction_fees", "exported_at",
)  # fmt: skip


def _plain(connection: str, start: datetime, end: datetime, workdir: Path) -> int:
    import functools
    import sqlite3

    ist = timezone(timedelta(hours=5, minutes=30))

    @functools.lru_cache(maxsize=4096)
    def utc(text: str | None) -> str | None:
        if not text:
            return None
        local = datetime.strptime(text, "%b %d, %Y %I:%M:%S %p").replace(tzinfo=ist)
        return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def money(value) -> str | None:
        return None if value is None else str(value)

    exported_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    db = sqlite3.connect(workdir / "plain.db")
    db.execute(
        f"CREATE TABLE IF NOT EXISTS t ({', '.join(_PLAIN_COLUMNS)}, PRIMARY KEY (enkash_transaction_id))"
    )
    sql = f"INSERT OR REPLACE INTO t ({', '.join(_PLAIN_COLUMNS)}) VALUES ({', '.join('?' * len(_PLAIN_COLUMNS))})"
    written = pending = 0
    for records in _search_pages(connection, start, end):
        rows = []
        for r in records:
            d = r.get("txnDetails") or {}
            amount = r.get("principalAmount")
            rows.append((
                r["enKashCardTransactionId"], utc(r.get("txnDate")), utc(r.get("createdOn")), utc(r.get("modifiedOn")),
                r.get("status"), r.get("cardTransactionType"), r.get("type"), money(amount),
                None if amount is None else int(amount * 100), r.get("currency"), money(r.get("balance")),
                money(r.get("fcyAmount")), r.get("fcyCurrency"), r.get("enkashCardId"), r.get("maskedCard"),
                r.get("cardKitNumber"), r.get("cardHolderName"), r.get("userId"), r.get("companyId"),
                r.get("companyName"), r.get("pgReferenceNumber"), r.get("description"), d.get("id"),
                d.get("txnRefNo"), d.get("merchantName"), d.get("transactionType"), d.get("mcc"), d.get("channel"),
                d.get("retrievalRefNo"), d.get("traceNo"), d.get("txnCurrency"), d.get("network"),
                money(d.get("transactionFees")), exported_at,
            ))  # fmt: skip
        db.executemany(sql, rows)
        written, pending = written + len(rows), pending + len(rows)
        if pending >= 5000:
            db.commit()
            pending = 0
    db.commit()
    db.close()
    return written


def _dlt(connection: str, start: datetime, end: datetime, workdir: Path) -> int:
    import dlt

    @dlt.resource(
        name="enkash_transactions",
        write_disposition="merge",
        primary_key="enKashCardTransactionId",
    )
    def transactions():
        yield from _search_pages(connection, start, end)

    pipeline = dlt.pipeline(
        pipeline_name="enkash_bench", pipelines_dir=str(workdir / "dlt"),
        destination=dlt.destinations.duckdb(str(workdir / "dlt.duckdb")), dataset_name="enkash",
    )  # fmt: skip
    pipeline.run(transactions(), loader_file_format="parquet")
    with pipeline.sql_client() as client:
        return client.execute_sql("SELECT COUNT(*) FROM enkash_transactions")[0][0]


def child(args: argparse.Namespace) -> None:
    start, end, workdir = (
        datetime.fromisoformat(args.start),
        datetime.fromisoformat(args.end),
        Path(args.workdir),
    )
    connection = json.loads(args.connection_file.read_text())
    # Steady-state throughput: what each client imports is imported before the clock starts (an Airflow
    # worker has most of it loaded already; the plain loop's imports are cheap, dlt's are not).
    if args.client.startswith("provider"):
        import airflow.providers.sqlite.hooks.sqlite  # noqa: F401
        from airflow.sdk.listener import get_listener_manager

        import airflow_provider_enkash.export.sql_sink
        import airflow_provider_enkash.hooks.enkash
        import airflow_provider_enkash.transfers.enkash_to_sql  # noqa: F401

        # A task process calls the listeners before execute(), which loads Airflow's plugins (as the batch
        # benchmark does); else the first hook-lineage report would load them inside the timed export.
        get_listener_manager()

        if args.client == "provider Parquet":
            before_parquet = _peak_rss_mib()
            import airflow_provider_enkash.export.parquet  # noqa: F401  (the Parquet library: arro3)

            parquet_mib = _peak_rss_mib() - before_parquet
    elif args.client == "dlt":
        import dlt  # noqa: F401
        import duckdb  # noqa: F401
    else:
        import requests  # noqa: F401
    rss_at_start = _peak_rss_mib()  # what the process holds before exporting: interpreter + imports
    began = time.perf_counter()
    if args.client.startswith("provider"):
        rows = _provider(args.client, start, end, workdir)
    elif args.client == "plain loop":
        rows = _plain(connection, start, end, workdir)
    else:
        rows = _dlt(connection, start, end, workdir)
    seconds = time.perf_counter() - began
    print(json.dumps({"rows": rows, "seconds": seconds, "rss_at_start": rss_at_start,
                      "parquet_mib": locals().get("parquet_mib", 0.0)}))  # fmt: skip


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the driver ----------------------------------------------------------------------------------


def run_client(client: str, sandbox: Sandbox, start: datetime, end: datetime) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="enkash-export-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "conn.json").write_text(json.dumps(sandbox.connection))
        env = {
            "AIRFLOW_HOME": str(workdir / "airflow"),
            "AIRFLOW_CONN_ENKASH_DEFAULT": sandbox.connection,
            "AIRFLOW_CONN_WAREHOUSE": json.dumps(
                {"conn_type": "sqlite", "host": str(workdir / "warehouse.db")}
            ),
        }
        run = run_child([PYTHON, __file__, "--child", client, "--start", start.isoformat(), "--end", end.isoformat(),
                         "--workdir", tmp, "--connection-file", str(workdir / "conn.json")],
                        env=env, log=Path(tempfile.gettempdir()) / "enkash-export-bench.log")  # fmt: skip
    return {
        "rows": run.result["rows"],
        "seconds": run.result["seconds"],
        "cpu_s": run.cpu_s,
        "rss": run.peak_rss_mib,
        "rss_at_start": run.result["rss_at_start"],
        "parquet_mib": run.result["parquet_mib"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--large", type=int, default=1_000_000, help="0 skips the large run")
    parser.add_argument(
        "--clients", nargs="+", choices=CLIENTS, default=CLIENTS, help="a subset, for development"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    parser.add_argument("--end", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--connection-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.client = args.child
        child(args)
        return

    machine = machine_line()
    clients = tuple(c for c in CLIENTS if c in args.clients)
    start = SEED_END - timedelta(days=1)
    runs: dict[str, list[dict[str, float]]] = {c: [] for c in clients}
    for round_no in range(args.repeats):
        with Sandbox("--settle-delay-s", "0", "--seed-transactions", str(args.rows), "--days", "1",
                     "--seed-end", SEED_END.isoformat()) as sandbox:  # fmt: skip
            for client in clients if round_no % 2 == 0 else tuple(reversed(clients)):
                result = run_client(client, sandbox, start, SEED_END)
                if result["rows"] != args.rows:
                    raise SystemExit(f"{client} exported {result['rows']} rows, expected {args.rows}")
                runs[client].append(result)
    large: dict[str, dict[str, float]] = {}
    if args.large:
        days = max(1, round(args.large / PER_DAY))
        with Sandbox("--settle-delay-s", "0", "--seed-transactions", str(args.large), "--days", str(days),
                     "--seed-end", SEED_END.isoformat()) as sandbox:  # fmt: skip
            for client in (c for c in LARGE_CLIENTS if c in clients):
                large[client] = run_client(client, sandbox, SEED_END - timedelta(days=days), SEED_END)
                if large[client]["rows"] != args.large:
                    raise SystemExit(f"{client} exported {large[client]['rows']} rows, expected {args.large}")
    report(args, machine, runs, large)


def report(args: argparse.Namespace, machine: str, runs: dict[str, list[dict[str, float]]],
           large: dict[str, dict[str, float]]) -> None:  # fmt: skip
    """The markdown section: one row per client, then every figure as a ratio of paired runs."""
    print("## Transaction export\n")
    print(f"Machine: {machine}.\n")
    print(f"{args.rows:,} transactions in one day; {args.repeats} rounds, each on a fresh sandbox, every client a fresh "
          "process, order alternating. Median (min-max) over the rounds. Peak RSS is the kernel's for the whole "
          "process; 'after imports' is the process's RSS when the export starts (interpreter, Airflow, the "
          "client's libraries), so 'export memory' = peak - after imports is what the export itself holds.\n")  # fmt: skip
    rows = [(c, spread([r["rows"] / r["seconds"] for r in runs[c]], "{:,.0f}"),
             spread([r["seconds"] for r in runs[c]], "{:.1f}"),
             spread([r["cpu_s"] / r["rows"] * 1e6 for r in runs[c]], "{:.0f}"),
             spread([r["rss"] for r in runs[c]], "{:.0f}"), spread([r["rss_at_start"] for r in runs[c]], "{:.0f}"),
             spread([r["rss"] - r["rss_at_start"] for r in runs[c]], "{:.0f}")) for c in runs]  # fmt: skip
    print(table(("client", "rows/s", "wall s", "client CPU µs/row", "peak RSS MiB", "RSS after imports MiB",
                 "export memory MiB"), rows))  # fmt: skip

    def paired(a: str, b: str, value: Callable[[dict[str, float]], float]) -> list[float] | None:
        """value(a) / value(b) per round, for clients a and b run in the same round."""
        if a not in runs or b not in runs:
            return None
        return [value(x) / value(y) for x, y in zip(runs[a], runs[b], strict=True)]

    def seconds(r: dict[str, float]) -> float:
        return r["seconds"]

    def growth(r: dict[str, float]) -> float:
        return r["rss"] - r["rss_at_start"]

    figures: list[tuple[str, list[float] | None, float | None, bool]] = [
        # a rows/s ratio is the inverse time ratio
        ("provider SQL rows/s / plain loop rows/s", paired("plain loop", "provider SQL", seconds), 0.85, False),
        ("provider SQL rows/s / dlt rows/s", paired("dlt", "provider SQL", seconds), 1.5, False),
        ("Parquet peak RSS / JSONL peak RSS", paired("provider Parquet", "provider JSONL", lambda r: r["rss"]),
         1.2, True),
        # informational: issue 15's goal is on whole-process peak RSS; this isolates what the writer holds
        ("Parquet export memory / JSONL export memory (peak - after imports)",
         paired("provider Parquet", "provider JSONL", growth), None, True),
    ]  # fmt: skip
    print()
    print("| figure (ratios of paired runs in the same round) | median (min-max) | goal |")
    print("|---|---|---|")
    for name, values, goal, upper in figures:
        if values is None:
            continue
        if goal is None:
            print(f"| {name} | {ratio_line(values)} | informational (the goal is on peak RSS) |")
        else:
            sign = "<=" if upper else ">="
            print(f"| {name} | {ratio_line(values)} | {sign} {goal}: {verdict(values, goal, upper=upper)} |")
    for client, big in large.items():
        small = statistics.median(r["rss"] for r in runs[client])
        r_ = big["rss"] / small
        print(f"| {client}: RSS({args.large:,}) / RSS({args.rows:,}) | **{r_:.2f}** "
              f"({big['rss']:.0f} / {small:.0f} MiB; {args.large / big['seconds']:,.0f} rows/s) "
              f"| <= 1.2: {'met' if r_ <= 1.2 else 'NOT met'} |")  # fmt: skip
    if "provider Parquet" in runs:
        library = statistics.median(r["parquet_mib"] for r in runs["provider Parquet"])
        print(f"\nImporting the Parquet writer (arro3) alone adds {library:.0f} MiB to the Parquet process (median), "
              "memory the JSONL process never needs; it is in the peak-RSS ratio and not in the export-memory one.")  # fmt: skip


def ratio_line(values: list[float]) -> str:
    return f"**{statistics.median(values):.2f}** ({min(values):.2f}-{max(values):.2f})"


def verdict(values: list[float], goal: float, *, upper: bool = False) -> str:
    median = statistics.median(values)
    return "met" if (median <= goal if upper else median >= goal) else "NOT met"


if __name__ == "__main__":
    main()
