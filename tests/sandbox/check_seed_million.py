"""Manual check (not part of the test suite): seeding 1,000,000 transactions takes < 60 s and windows stay fast.

Run: ``.venv/bin/python -m tests.sandbox.check_seed_million [COUNT]``.
"""

from __future__ import annotations

import resource
import sys
import time

from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig
from airflow_provider_enkash.sandbox.clock import render
from tests.sandbox.conftest import RawClient

LIMIT_S = 60.0


def main(count: int = 1_000_000) -> int:
    started = time.perf_counter()
    sandbox = Sandbox(SandboxConfig(seed_cards=1000, seed_transactions=count, days=30, random_seed=7))
    seeded_s = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"seeded {count:,} transactions on 1,000 cards in {seeded_s:.1f} s (peak RSS {rss_mb:.0f} MB)")
    with sandbox.start():
        client = RawClient(sandbox)
        t_ms = sandbox.state.txns.t_ms
        start, end = t_ms[len(t_ms) // 2], t_ms[len(t_ms) // 2] + 3_600_000
        window = {"txnDateFrom": render(start, "iso"), "txnDateTo": render(end, "iso"), "size": 1000}
        for label, filters in (
            ("1-hour window", window),
            ("1-hour window, status SUCCESS", {**window, "status": "SUCCESS"}),
        ):
            began = time.perf_counter()
            payload = client.search(**filters)
            took = time.perf_counter() - began
            print(
                f"{label}: {payload['recordsCount']:,} matches, {len(payload['data'])} returned in {took:.3f} s"
            )
    ok = seeded_s < LIMIT_S
    print("PASS" if ok else f"FAIL: seeding took {seeded_s:.1f} s (limit {LIMIT_S:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
