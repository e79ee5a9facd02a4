"""One hook call against bare ``requests``: latency and client CPU per call, on the same sandbox.

Each round starts a fresh sandbox process, then runs each client in a fresh process (order alternating
between rounds); a client makes ``--calls`` calls of ``get_card_account_details`` after one warm-up call
(token and connection). Clients:

- ``EnKashHook.call``: connection defaults, AES-encrypt, POST, decrypt, envelope, read-retry policy;
- ``bare requests``: a ``requests.Session`` with ``trust_env=False`` POSTing a body encrypted once
  before the loop, then decrypting and parsing each response (what the issue names as the baseline);
- ``bare requests + encrypt``: the same, encrypting the request on every call (as any real client
  must, since payloads differ);
- ``bare urllib3`` (informational, no goal): ``bare requests``' loop over a ``urllib3.PoolManager``,
  the library the hook sends through, so the table shows what part of the gap is ``requests``' own.

Latency is the median per-call wall time of the client's own loop; client CPU is the child's
user+system time over the loop (``time.process_time``) per call.

    .venv/bin/python benchmarks/hook_benchmark.py [--calls 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
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

OPERATION = "get_card_account_details"
PATH = "/api/v0/partner/enKashCard/cardAccount/get"
CLIENTS = ("EnKashHook.call", "bare requests", "bare requests + encrypt", "bare urllib3")
GOALS = {"bare requests": (1.05, 1.10), "bare requests + encrypt": (1.05, 1.10)}
"""Baseline -> (latency, client CPU) goals of the hook's ratio; the other baselines are informational."""


def child(client: str, calls: int, connection: str) -> None:
    if client == "EnKashHook.call":
        from airflow_provider_enkash.hooks.enkash import EnKashHook

        hook = EnKashHook()

        def once() -> object:
            return hook.call(OPERATION, {})
    elif client == "bare urllib3":
        import urllib3

        bare = MinimalEnKash(connection)
        pool = urllib3.PoolManager(maxsize=16)
        body = bare.encrypt({"companyId": bare.company_id, "cardAccountId": bare.card_account_id})

        def once() -> object:
            response = pool.request("POST", bare.base + PATH, body=body, headers=bare.headers, timeout=60)
            if response.status >= 400:
                raise RuntimeError(f"HTTP {response.status}")
            return bare.payload_of(response.data)
    else:
        bare = MinimalEnKash(connection)
        payload = {"companyId": bare.company_id, "cardAccountId": bare.card_account_id}
        body = bare.encrypt(payload)
        encrypt_each = client.endswith("encrypt")

        def once() -> object:
            return bare.post(PATH, bare.encrypt(payload) if encrypt_each else body)

    once()  # token, connection
    times = []
    cpu = time.process_time()
    for _ in range(calls):
        started = time.perf_counter()
        once()
        times.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    print(json.dumps({"median_ms": statistics.median(times) * 1e3, "cpu_ms": cpu / calls * 1e3}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--connection", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.calls, args.connection)
        return

    machine = machine_line()
    runs: dict[str, list[dict[str, float]]] = {c: [] for c in CLIENTS}
    for round_no in range(args.repeats):
        with Sandbox() as sandbox:
            for client in CLIENTS if round_no % 2 == 0 else tuple(reversed(CLIENTS)):
                run = run_child([PYTHON, __file__, "--child", client, "--calls", str(args.calls),
                                 "--connection", sandbox.connection],
                                env={"AIRFLOW_CONN_ENKASH_DEFAULT": sandbox.connection})  # fmt: skip
                runs[client].append(run.result)

    print("## Hook overhead\n")
    print(f"Machine: {machine}.\n")
    print(f"{args.calls:,} calls of `{OPERATION}` per client and round; {args.repeats} rounds, each on a fresh "
          "sandbox, every client a fresh process, order alternating. Median (min-max) over the rounds.\n")  # fmt: skip
    print(table(("client", "median latency ms/call", "client CPU ms/call"),
                [(c, spread([r["median_ms"] for r in runs[c]], "{:.3f}"), spread([r["cpu_ms"] for r in runs[c]], "{:.3f}"))
                 for c in CLIENTS]))  # fmt: skip
    print()
    print("| figure (ratios of paired runs in the same round) | median (min-max) | goal |")
    print("|---|---|---|")
    for base in CLIENTS[1:]:
        for index, (key, name) in enumerate((("median_ms", "latency"), ("cpu_ms", "client CPU"))):
            ratios = [h[key] / b[key] for h, b in zip(runs["EnKashHook.call"], runs[base], strict=False)]
            median = statistics.median(ratios)
            goal = GOALS[base][index] if base in GOALS else None
            verdict = f"<= {goal:.2f}: {'met' if median <= goal else 'NOT met'}" if goal else "informational"
            print(
                f"| hook / {base}: {name} | **{median:.2f}** ({min(ratios):.2f}-{max(ratios):.2f}) | {verdict} |"
            )


if __name__ == "__main__":
    main()
