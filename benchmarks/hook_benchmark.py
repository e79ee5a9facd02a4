"""EnKashHook.call versus a bare requests.Session POST of the same pre-encrypted body.

Starts the sandbox in a child process on 127.0.0.1, then makes N calls of each kind,
interleaved (hook, bare, hook, bare, ...) so machine noise hits both alike, and prints
the median latency of each, their ratio (target <= 1.15) and the cost of encrypting
plus decrypting a typical payload.

    .venv/bin/python benchmarks/hook_benchmark.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_line  # noqa: E402

from airflow_provider_enkash.crypto import decrypt_text, dumps_payload, encrypt_text, seal  # noqa: E402
from airflow_provider_enkash.sandbox.app import connection_json_from_line  # noqa: E402

OPERATION = "get_card_account_details"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_sandbox() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_enkash.sandbox", "--port", str(port)],
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
    return proc, conn


def _crypto_microseconds(secret: str, rounds: int = 5000) -> float:
    request = {"companyId": "CEKSANDBOX", "cardAccountId": "CASANDBOX1", "enKashCardId": "EKC1234567",
               "amount": Decimal("1500.00"), "transactionType": "CR", "type": "LOAD_MONEY",
               "uniqueReferenceNumber": "AF0123456789ABCDEF0123456789AB", "remarks": "payroll"}
    text = dumps_payload(request)
    start = time.perf_counter()
    for _ in range(rounds):
        decrypt_text(encrypt_text(text, secret), secret)
    return (time.perf_counter() - start) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls of each kind (default 2000)")
    args = parser.parse_args()

    proc, conn_json = _start_sandbox()
    try:
        os.environ["AIRFLOW_CONN_ENKASH_DEFAULT"] = conn_json
        from airflow_provider_enkash.hooks.enkash import EnKashHook

        hook = EnKashHook()
        hook.call(OPERATION, {})  # token + connection warm-up
        settings = hook.settings
        body = json.dumps(seal({"companyId": settings.company_id, "cardAccountId": settings.card_account_id},
                               settings.client_secret)).encode()
        headers = {"Authorization": f"Bearer {hook.get_token()}", "partnerId": settings.partner_id,
                   "Content-Type": "application/json"}
        url = settings.url_for(OPERATION)
        bare = requests.Session()
        bare.post(url, data=body, headers=headers, timeout=10).raise_for_status()

        hook_times, bare_times = [], []
        for _ in range(args.calls):
            t0 = time.perf_counter()
            hook.call(OPERATION, {})
            t1 = time.perf_counter()
            bare.post(url, data=body, headers=headers, timeout=10).raise_for_status()
            t2 = time.perf_counter()
            hook_times.append(t1 - t0)
            bare_times.append(t2 - t1)
        crypto_us = _crypto_microseconds(settings.client_secret)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    hook_ms = statistics.median(hook_times) * 1e3
    bare_ms = statistics.median(bare_times) * 1e3
    print(f"machine: {machine_line()}")
    print(f"calls: {args.calls} of each, interleaved, against the sandbox on 127.0.0.1 ({OPERATION})")
    print()
    print("| client | median ms/call | p90 ms/call |")
    print("|---|---|---|")
    for name, times in (("EnKashHook.call", hook_times), ("bare requests.Session.post", bare_times)):
        p90 = statistics.quantiles(times, n=10)[-1] * 1e3
        print(f"| {name} | {statistics.median(times) * 1e3:.3f} | {p90:.3f} |")
    print()
    print(f"median ratio hook/bare: {hook_ms / bare_ms:.3f} (target <= 1.15)")
    print(f"encrypt + decrypt of a typical load payload: {crypto_us:.1f} µs")


if __name__ == "__main__":
    main()
