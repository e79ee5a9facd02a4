"""How many waiting EnKash sensors one triggerer serves: thread-pool trigger vs native async vs coalesced.

N real ``EnKashTransactionTrigger`` s run in one asyncio loop, as Airflow's triggerer runs
them, each watching its own pending load in the sandbox (a child process on 127.0.0.1 with
an injected search latency). Three implementations, each run in a fresh child process:

* ``threads``   - the trigger as it was before issue 18 (kept here only, as the baseline):
  every poll is ``asyncio.to_thread(watch.poll, hook)`` on the loop's default thread pool;
* ``async``     - today's trigger with ``[enkash] coalesce_polls = false``: one shared
  ``httpx.AsyncClient``, at most ``[enkash] max_requests_in_flight`` requests at once;
* ``coalesced`` - today's trigger as shipped: triggers of one account share multi-id searches.

Steady state: triggers start spread over one interval (as in a running triggerer), then
one measurement window. Restart burst: all triggers start at once; the time until every
one has its first poll result. Reported: polls/s against the ideal N/interval, lateness
(result time - due time - API latency) p50/p99/max, event-loop lag p50/p99/max (a 50 ms
ticker), CPU (% of one core), peak RSS, threads, and search requests per interval.
Runs alternate the order of implementations and repeat; the table shows min/median/max.

    .venv/bin/python benchmarks/trigger_benchmark.py                # the issue's matrix, ~50 min
    .venv/bin/python benchmarks/trigger_benchmark.py --quick        # a 3-minute smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_line  # noqa: E402

from airflow_provider_enkash.sandbox import connection_json_from_line  # noqa: E402

IMPLEMENTATIONS = ("threads", "async", "coalesced")
LAG_TICK_S = 0.05


# -- the child process: one run of one implementation ----------------------------------------


def _baseline_trigger_class() -> type:
    """The trigger as it was before native async polling: a thread per round trip."""
    from airflow.sdk import BaseHook

    from airflow_provider_enkash.hooks.enkash import EnKashHook
    from airflow_provider_enkash.retry import RETRYABLE_READ_ERRORS
    from airflow_provider_enkash.triggers.transactions import EnKashTransactionTrigger

    class ThreadPoolTrigger(EnKashTransactionTrigger):
        polls: list[tuple[float, float]]

        async def run(self):  # type: ignore[override]
            hook = EnKashHook.from_connection(await BaseHook.aget_connection(self.enkash_conn_id))
            try:
                yield await self._wait_in_threads(hook)
            finally:
                hook.get_conn().close()

        async def _wait_in_threads(self, hook: Any) -> Any:
            transient_failures = 0
            while True:
                deadline_reached = time.time() >= self.end_time
                due = self.pending_due = time.time()
                try:
                    result = await asyncio.to_thread(self.watch.poll, hook, self.statuses)
                except RETRYABLE_READ_ERRORS as exc:
                    self.pending_due = None
                    transient_failures += 1
                    result, wait_s = (
                        None,
                        self._backoff_s(transient_failures, getattr(exc, "retry_after", None)),
                    )
                else:
                    transient_failures, wait_s = 0, self.poll_interval
                    self.polls.append((due, time.time()))
                    self.pending_due = None
                    if (event := self._terminal_event(result)) is not None:
                        return event
                if deadline_reached:
                    return self._event("timeout", "deadline", result)
                self.log.info(
                    "%s; next poll in %.1f s", result.message if result else self.watch.describe(), wait_s
                )
                await asyncio.sleep(max(0.0, min(wait_s, self.end_time - time.time())))

    return ThreadPoolTrigger


def _async_trigger_class() -> type:
    """The shipped trigger, its polls timed (``_poll`` is the one place a poll happens)."""
    from airflow_provider_enkash.triggers.transactions import EnKashTransactionTrigger

    class TimedTrigger(EnKashTransactionTrigger):
        polls: list[tuple[float, float]]

        async def _poll(self, client: Any, *, due: float, may_run_early: bool) -> Any:
            self.pending_due = due
            result = await super()._poll(client, due=due, may_run_early=may_run_early)
            self.polls.append((due, time.time()))
            self.pending_due = None
            return result

    return TimedTrigger


class _Monitor:
    """Event-loop lag (a 50 ms ticker) and the most threads seen."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.max_threads = threading.active_count()
        self.recording = False

    async def run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(LAG_TICK_S)
            if self.recording:
                self.lags.append(time.perf_counter() - started - LAG_TICK_S)
                self.max_threads = max(self.max_threads, threading.active_count())


def _searches(admin_url: str) -> int:
    import requests

    for _attempt in range(3):  # a sandbox busy with thousands of requests may answer an admin call late
        response = requests.get(f"{admin_url}/_sandbox/counters", timeout=30)
        if response.status_code == 200 and "operations" in response.json():
            return int(response.json()["operations"].get("get_all_transactions", 0))
        time.sleep(1)
    raise RuntimeError(f"sandbox counters unavailable: HTTP {response.status_code} {response.text[:200]}")


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _child(spec: dict[str, Any]) -> dict[str, Any]:
    impl, ids, interval = spec["impl"], spec["ids"], spec["interval"]
    trigger_class = _baseline_trigger_class() if impl == "threads" else _async_trigger_class()
    monitor = _Monitor()
    monitor_task = asyncio.create_task(monitor.run())
    end_time = time.time() + 10 * 3600
    triggers = []
    for transaction_id in ids:
        trigger = trigger_class(
            enkash_conn_id="enkash_default",
            end_time=end_time,
            poll_interval=interval,
            enkash_transaction_id=transaction_id,
        )
        trigger.polls, trigger.pending_due = [], None
        triggers.append(trigger)

    async def drive(trigger: Any) -> None:
        async for _event in trigger.run():
            raise RuntimeError(f"unexpected event {_event}")  # loads stay pending for the whole run

    tasks: list[asyncio.Task[None]] = []
    started = time.time()
    if spec["scenario"] == "burst":
        monitor.recording = True
        before, cpu0 = _searches(spec["admin_url"]), _cpu_s()
        tasks = [asyncio.create_task(drive(t)) for t in triggers]
        limit = started + spec["burst_limit_s"]
        while time.time() < limit and not all(t.polls for t in triggers):
            await asyncio.sleep(0.05)
        window = time.time() - started
        firsts = [t.polls[0][1] - started for t in triggers if t.polls]
        summary = {
            "first_polls_done": len(firsts),
            "all_first_polls_s": max(firsts) if len(firsts) == len(ids) else None,
        }
    else:
        spread = interval / len(triggers)
        pending = iter(enumerate(triggers))
        # arrivals spread over one interval (as in a triggerer that has been running), on a fixed
        # schedule, so a busy loop starts late ones together instead of stretching the spread
        for index, trigger in pending:
            tasks.append(asyncio.create_task(drive(trigger)))
            while (index := index + 1) < len(triggers) and started + index * spread <= time.time():
                tasks.append(asyncio.create_task(drive(next(pending)[1])))
            await asyncio.sleep(max(0.0, started + index * spread - time.time()))
        monitor.recording = True
        window_start, before, cpu0 = time.time(), _searches(spec["admin_url"]), _cpu_s()
        await asyncio.sleep(spec["window_s"])
        window = time.time() - window_start
        summary = {}
    cpu = _cpu_s() - cpu0
    searches = _searches(spec["admin_url"]) - before
    monitor.recording = False
    ended = time.time()
    latency_s = spec["latency_ms"] / 1000
    # a poll still waiting at the end is at least this late (the backlog a thread pool builds up)
    overdue = [ended - t.pending_due - latency_s for t in triggers if t.pending_due is not None]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    monitor_task.cancel()
    if spec["scenario"] == "burst":
        polls = [p for t in triggers for p in t.polls[:1]]
    else:
        polls = [p for t in triggers for p in t.polls if window_start <= p[1] < window_start + window]
    lateness = sorted(
        [max(0.0, done - due - latency_s) for due, done in polls] + [max(0.0, o) for o in overdue]
    )
    return {
        **summary,
        "behind": sum(1 for t in triggers if _is_behind(t, ended, latency_s)),
        "polls_per_s": len(polls) / window,
        "ideal_polls_per_s": len(ids) / interval,
        "late_p50": _pct(lateness, 50),
        "late_p99": _pct(lateness, 99),
        "late_max": lateness[-1] if lateness else None,
        "lag_p50": _pct(sorted(monitor.lags), 50),
        "lag_p99": _pct(sorted(monitor.lags), 99),
        "lag_max": max(monitor.lags, default=None),
        "cpu_pct": 100 * cpu / window,
        "rss_mib": _peak_rss_mib(),
        "threads": monitor.max_threads,
        "searches_per_interval": searches / (window / interval) if spec["scenario"] != "burst" else searches,
    }


def _is_behind(trigger: Any, now: float, latency_s: float) -> bool:
    """More than 1 s late on its last completed poll or on the one it is still waiting for."""
    if trigger.pending_due is not None and now - trigger.pending_due - latency_s > 1.0:
        return True
    return bool(trigger.polls) and trigger.polls[-1][1] - trigger.polls[-1][0] - latency_s > 1.0


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def child_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    os.environ["AIRFLOW_CONN_ENKASH_DEFAULT"] = spec["conn"]
    os.environ["AIRFLOW__ENKASH__COALESCE_POLLS"] = "true" if spec["impl"] == "coalesced" else "false"
    os.environ["AIRFLOW__ENKASH__MAX_REQUESTS_IN_FLIGHT"] = str(spec["max_in_flight"])
    print(json.dumps(asyncio.run(_child(spec))), flush=True)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of thousands of sockets; the result is printed


# -- the parent: sandbox, pending loads, the matrix, the table ------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_enkash.sandbox",
            "--port",
            str(_free_port()),
            "--settle-delay-s",
            "86400",
            # the thread-pool baseline keeps one idle keep-alive session per trigger: more than the default 256
            "--max-connections",
            "20000",
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
    return proc, conn


def _pending_loads(conn: str, count: int) -> list[str]:
    os.environ["AIRFLOW_CONN_ENKASH_DEFAULT"] = conn
    from airflow_provider_enkash.hooks.enkash import EnKashHook

    hook = EnKashHook()
    card = hook.create_prepaid_card(first_name="Bench", mobile="9123456780")["enKashCardId"]
    return [
        hook.load_card_balance(
            enkash_card_id=card, amount="1.00", unique_reference_number=f"TRGBENCH{i:06d}"
        ).enkash_transaction_id
        for i in range(count)
    ]


def _admin(url: str, name: str, body: dict[str, Any]) -> None:
    import requests

    requests.post(f"{url}/_sandbox/{name}", json=body, timeout=30).raise_for_status()


def _run_child(spec: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"run {spec['impl']} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt(values: list[float | None], digits: int = 2) -> str:
    known = [v for v in values if v is not None]
    if len(known) < len(values):
        return "not all done"
    if len(known) == 1:
        return f"{known[0]:.{digits}f}"
    return f"{min(known):.{digits}f} / {statistics.median(known):.{digits}f} / {max(known):.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--interval", type=float, default=60.0, help="poll interval, seconds (default 60)")
    parser.add_argument(
        "--window", type=float, default=30.0, help="steady-state measurement window, s (default 30)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell, order alternating (default 3)")
    parser.add_argument(
        "--max-in-flight", type=int, default=64, help="[enkash] max_requests_in_flight (default 64)"
    )
    parser.add_argument(
        "--cells",
        nargs="+",
        default=["steady:20:5000", "steady:500:1000", "steady:500:5000", "burst:500:1000"],
        help="scenario:latency_ms:N cells (default: the issue's matrix)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small smoke matrix (N 200, interval 10 s, 1 repeat)"
    )
    args = parser.parse_args()
    if args.child:
        child_main(args.child)
        return

    if args.quick:
        args.cells = ["steady:20:200", "steady:500:200", "burst:500:200"]
        args.interval, args.window, args.repeats = 10.0, 5.0, 1
    cells = [(kind, int(latency), int(n)) for kind, latency, n in (c.split(":") for c in args.cells)]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the sandbox on kill, too
    proc, conn = _start_sandbox()
    admin_url = json.loads(conn)["host"]
    try:
        ids = _pending_loads(conn, max(n for _, _, n in cells))
        print(
            f"## Trigger benchmark (issue 18: waiting sensors in the triggerer)\n\n{machine_line()}; interval {args.interval:g} s, window {args.window:g} s, "
            f"max_requests_in_flight {args.max_in_flight}, {args.repeats} repeat(s), order alternating\n"
        )
        print(
            "| scenario | impl | polls/s (ideal) | late p50 s | late p99 s | late max s | > 1 s behind "
            "| loop lag p99 ms | loop lag max ms | CPU % core | peak RSS MiB | threads | searches/interval |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for scenario, latency_ms, n in cells:
            _admin(admin_url, "faults", {"clear": True})
            _admin(
                admin_url,
                "faults",
                {"mode": "latency", "operation": "get_all_transactions", "latency_ms": latency_ms},
            )
            results: dict[str, list[dict[str, Any]]] = {impl: [] for impl in IMPLEMENTATIONS}
            for repeat in range(args.repeats):
                order = IMPLEMENTATIONS if repeat % 2 == 0 else tuple(reversed(IMPLEMENTATIONS))
                for impl in order:
                    spec = {
                        "impl": impl,
                        "ids": ids[:n],
                        "interval": args.interval,
                        "window_s": args.window,
                        "scenario": scenario,
                        "latency_ms": latency_ms,
                        "conn": conn,
                        "admin_url": admin_url,
                        "max_in_flight": args.max_in_flight,
                        "burst_limit_s": args.interval,
                    }
                    results[impl].append(_run_child(spec))
                    print(
                        f"  ({scenario} {latency_ms} ms N={n} {impl} run {repeat + 1} done)", file=sys.stderr
                    )
            for impl in IMPLEMENTATIONS:
                runs = results[impl]

                def col(key: str, scale: float = 1.0, runs: list[dict] = runs) -> list[float | None]:
                    return [None if r[key] is None else r[key] * scale for r in runs]

                label = f"{scenario} {latency_ms} ms, N={n}"
                if scenario == "burst":
                    label += f"; all first polls s: {_fmt(col('all_first_polls_s'), 1)}"
                print(
                    f"| {label} | {impl} | {_fmt(col('polls_per_s'), 1)} ({runs[0]['ideal_polls_per_s']:.1f}) "
                    f"| {_fmt(col('late_p50'))} | {_fmt(col('late_p99'))} | {_fmt(col('late_max'))} | {_fmt(col('behind'), 0)} "
                    f"| {_fmt(col('lag_p99', 1000), 1)} | {_fmt(col('lag_max', 1000), 1)} | {_fmt(col('cpu_pct'), 1)} "
                    f"| {_fmt(col('rss_mib'), 0)} | {_fmt(col('threads'), 0)} | {_fmt(col('searches_per_interval'), 1)} |",
                    flush=True,
                )
            base = statistics.median(r["polls_per_s"] for r in results["threads"])
            for impl in ("async", "coalesced"):
                ratio = (
                    statistics.median(r["polls_per_s"] for r in results[impl]) / base
                    if base
                    else float("inf")
                )
                print(f"|  | {impl} / threads polls/s: {ratio:.2f}x | | | | | | | | | | | |", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
