"""One batch-load attempt in its own process, as a worker would run it (tests/money/test_worker_processes.py).

``python -m tests.money.batch_worker '<json>'`` with ``rows``, ``batch_id``, the ledger (``ledger_path`` or
``ledger_conn_id``), ``try_number``, ``lease_ttl``, ``quiet_s``, optionally ``run_id``, ``map_index``,
``concurrency``, ``on_unknown``, and ``start_at`` (Unix time to
wait for, so two workers really overlap) or ``start_when`` (a file to wait for: the test starts the
worker early, so Airflow's import time does not count, and releases it at the moment it chooses;
``<start_when>.ready`` appears once the worker waits). Prints one JSON line: ``{"ok": true, "summary": ...}`` or
``{"ok": false, "error": <type>, "message": ...}``. The EnKash connection comes from the environment.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    from airflow_provider_enkash.operators.batch_load import EnKashBatchLoadOperator
    from tests.batch.helpers import context, execute_through_deferrals

    operator = EnKashBatchLoadOperator(
        task_id="load",
        rows=spec["rows"],
        batch_id=spec["batch_id"],
        ledger_path=spec.get("ledger_path"),
        ledger_conn_id=spec.get("ledger_conn_id"),
        concurrency=spec.get("concurrency", 4),
        lease_ttl=spec["lease_ttl"],
        resend_quiet_period=spec["quiet_s"],
        on_unknown=spec.get("on_unknown", "wait"),
    )
    # run_id and map_index place the attempt in a plan: chunks of one DAG run's task share it
    ti_fields = {k: spec[k] for k in ("run_id", "map_index") if k in spec}
    ctx = context(try_number=spec["try_number"], **ti_fields)
    time.sleep(max(0.0, spec.get("start_at", 0) - time.time()))
    if spec.get("start_when"):
        open(spec["start_when"] + ".ready", "w").close()  # imported: released, it starts at once
    while spec.get("start_when") and not os.path.exists(spec["start_when"]):
        time.sleep(0.02)
    try:
        summary = execute_through_deferrals(operator, ctx)
    except Exception as exc:  # noqa: BLE001 - reported to the test, which decides
        print(json.dumps({"ok": False, "error": type(exc).__name__, "message": str(exc)}), flush=True)
        return 1
    print(json.dumps({"ok": True, "summary": summary}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
