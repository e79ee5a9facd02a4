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

    .venv/bin/python benchmarks/trigger_benchmark.py --goals        # the issue's goals, ~12 min
    .venv/bin/python benchmarks/trigger_benchmark.py                # the issue's matrix, ~50 min
    .venv/bin/python benchmarks/trigger_benchmark.py --quick        # a 3-minute smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import gc
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
from dataclasses import dataclass
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
    """Event-loop lag (a 50 ms ticker), the most threads seen and the longest full garbage collection."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.max_threads = threading.active_count()
        self.recording = False
        self.gc_max_s = 0.0
        self._gc_started = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self.recording:
            self.gc_max_s = max(self.gc_max_s, time.perf_counter() - self._gc_started)

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
            "burst_cap_s": spec["burst_limit_s"],
            # not all done within the cap: the time the first-poll rate so far would need
            "estimated_all_first_polls_s": len(ids) / (len(firsts) / window) if firsts else None,
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
        "gc_max": monitor.gc_max_s,
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


@dataclass(frozen=True)
class Cell:
    """One row group of the table: a scenario at one latency and N, run by each of ``impls``.

    :param interval: poll interval, s; ``window``: steady-state measurement window, s (after one
        interval of arrivals); ``burst_cap``: per implementation, s a burst is watched (default one interval).
    """

    scenario: str
    latency_ms: int
    n: int
    interval: float
    window: float
    impls: tuple[str, ...] = IMPLEMENTATIONS
    burst_cap: tuple[tuple[str, float], ...] = ()

    def label(self) -> str:
        return f"{self.scenario} {self.latency_ms} ms, N={self.n}, interval {self.interval:g} s"


# The issue-18 goals in about 12 minutes (``--goals``, what run_all.py runs). Every steady run
# costs one interval of arrivals before its window, so the 60 s cells are few:
# * goal 1 at its own setting (5,000 sensors, 500 ms, 60 s) against the thread pool; 15 s windows
#   hold ~1,250 polls each, enough for a p99. 20 ms cells are left out: there the pool's capacity
#   (6 threads / 20 ms = 300 polls/s) exceeds the 83 polls/s 5,000 sensors need, and no goal is set.
# * the restart burst of 1,000; the thread pool is watched for 15 s only and its time to clear the
#   burst is extrapolated from its first-poll rate (it needs ~84 s by arithmetic: 1,000 x 0.5 s / 6).
# * coalescing at a 12 s interval: its rounds are a fixed share of the interval (a poll may run
#   a quarter interval early), so requests per interval do not depend on the interval's length,
#   and a shorter interval adds rounds rather than hiding them. Two intervals are counted. The
#   uncoalesced baseline is goal 1's async run: one search per sensor per interval.
GOAL_CELLS = (
    Cell("steady", 500, 5000, interval=60.0, window=15.0, impls=("threads", "async")),
    Cell(
        "burst",
        500,
        1000,
        interval=60.0,
        window=0.0,
        impls=("threads", "async"),
        burst_cap=(("threads", 15.0),),
    ),
    Cell("steady", 500, 1000, interval=12.0, window=24.0, impls=("coalesced",)),
)
GOAL_LATE_P99_S, GOAL_LAG_P99_MS, GOAL_SEARCHES_PER_INTERVAL = 1.0, 50.0, 10.0


def _cells_from(args: argparse.Namespace) -> tuple[Cell, ...]:
    if args.goals:
        return GOAL_CELLS
    if args.quick:
        return (
            Cell("steady", 20, 200, 10.0, 5.0),
            Cell("steady", 500, 200, 10.0, 5.0),
            Cell("burst", 500, 200, 10.0, 0.0),
        )
    cells = []
    for text in args.cells:
        kind, latency, n = text.split(":")
        cells.append(Cell(kind, int(latency), int(n), args.interval, args.window, tuple(args.impls)))
    return tuple(cells)


def _col(runs: list[dict[str, Any]], key: str, scale: float = 1.0) -> list[float | None]:
    return [None if r.get(key) is None else r[key] * scale for r in runs]


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    known = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(known) if len(known) == len(runs) else None


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None:
        return "n/a"
    return f"{numerator / denominator:.1f}x" if denominator else "inf"


def _print_cell(cell: Cell, results: dict[str, list[dict[str, Any]]]) -> None:
    for impl in cell.impls:
        runs = results[impl]
        label = cell.label()
        if cell.scenario == "burst":
            done = _fmt(_col(runs, "all_first_polls_s"), 1)
            if "not all" in done:
                done = f"> {runs[0]['burst_cap_s']:g} (at its rate: {_fmt(_col(runs, 'estimated_all_first_polls_s'), 0)})"
            label += f"; all first polls s: {done}"
        print(
            f"| {label} | {impl} | {_fmt(_col(runs, 'polls_per_s'), 1)} ({runs[0]['ideal_polls_per_s']:.1f}) "
            f"| {_fmt(_col(runs, 'late_p50'))} | {_fmt(_col(runs, 'late_p99'))} | {_fmt(_col(runs, 'late_max'))} "
            f"| {_fmt(_col(runs, 'behind'), 0)} | {_fmt(_col(runs, 'lag_p99', 1000), 1)} "
            f"| {_fmt(_col(runs, 'lag_max', 1000), 1)} | {_fmt(_col(runs, 'gc_max', 1000), 0)} "
            f"| {_fmt(_col(runs, 'cpu_pct'), 1)} "
            f"| {_fmt(_col(runs, 'rss_mib'), 0)} | {_fmt(_col(runs, 'threads'), 0)} "
            f"| {_fmt(_col(runs, 'searches_per_interval'), 1)} |",
            flush=True,
        )
    if "threads" in cell.impls:
        base = results["threads"]
        for impl in (i for i in cell.impls if i != "threads"):
            runs = results[impl]
            parts = [
                f"polls/s {_ratio(_median(runs, 'polls_per_s'), _median(base, 'polls_per_s'))}",
                f"late p99 threads/{impl} {_ratio(_median(base, 'late_p99'), _median(runs, 'late_p99'))}",
            ]
            if cell.scenario == "burst":
                base_s = _median(base, "all_first_polls_s") or _median(base, "estimated_all_first_polls_s")
                parts.append(
                    f"burst time threads/{impl} {_ratio(base_s, _median(runs, 'all_first_polls_s'))}"
                )
            print(
                f"|  | {impl} vs threads (medians): {'; '.join(parts)} | | | | | | | | | | | | |", flush=True
            )


def _goal_lines(results: dict[Cell, dict[str, list[dict[str, Any]]]]) -> list[str]:
    steady, burst, coalesced = (results[c] for c in GOAL_CELLS)

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    runs = steady["async"]
    late = [r["late_p99"] for r in runs]
    lag = [r["lag_p99"] * 1000 for r in runs]
    ok1 = all(v is not None and v <= GOAL_LATE_P99_S for v in late) and all(v <= GOAL_LAG_P99_MS for v in lag)
    runs = burst["async"]
    firsts = [r["all_first_polls_s"] for r in runs]
    blag = [r["lag_p99"] * 1000 for r in runs]
    ok2 = all(v is not None and v <= GOAL_CELLS[1].interval for v in firsts) and all(
        v <= GOAL_LAG_P99_MS for v in blag
    )
    searches = [r["searches_per_interval"] for r in coalesced["coalesced"]]
    per_sensor = _median(steady["async"], "searches_per_interval")
    ok3 = all(v <= GOAL_SEARCHES_PER_INTERVAL for v in searches)
    return [
        "| goal (issue 18) | measured, every run (worst) | verdict |",
        "|---|---|---|",
        f"| 5,000 sensors, 500 ms, 60 s: lateness p99 <= {GOAL_LATE_P99_S:g} s and loop lag p99 <= "
        f"{GOAL_LAG_P99_MS:g} ms (async) | late p99 {_fmt(late)} s; lag p99 {_fmt(lag, 1)} ms "
        f"| {verdict(ok1)} |",
        f"| restart burst of 1,000: first polls within one interval (60 s), loop lag p99 <= "
        f"{GOAL_LAG_P99_MS:g} ms (async) | all first polls {_fmt(firsts, 1)} s; lag p99 {_fmt(blag, 1)} ms "
        f"| {verdict(ok2)} |",
        f"| 1,000 sensors on one account, coalesced: requests per interval <= {GOAL_SEARCHES_PER_INTERVAL:g} "
        f"| {_fmt(searches, 1)} (uncoalesced: {per_sensor and per_sensor / GOAL_CELLS[0].n:.2f} per sensor, "
        f"i.e. ~1,000) | {verdict(ok3)} |",
    ]


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
        "--impls",
        nargs="+",
        choices=IMPLEMENTATIONS,
        default=IMPLEMENTATIONS,
        help="with --cells (default all)",
    )
    parser.add_argument(
        "--goals", action="store_true", help="the issue-18 goals and their baselines in ~12 minutes"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small smoke matrix (N 200, interval 10 s, 1 repeat)"
    )
    args = parser.parse_args()
    if args.child:
        child_main(args.child)
        return

    if args.quick:
        args.repeats = 1
    cells = _cells_from(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the sandbox on kill, too
    proc, conn = _start_sandbox()
    admin_url = json.loads(conn)["host"]
    try:
        ids = _pending_loads(conn, max(c.n for c in cells))
        print(
            f"## Trigger benchmark (issue 18: waiting sensors in the triggerer)\n\n{machine_line()}; "
            f"load average at start {os.getloadavg()[0]:.1f}; "
            f"max_requests_in_flight {args.max_in_flight}, {args.repeats} repeat(s) per cell, each run a fresh "
            "process, order alternating; cells show min / median / max over the runs.\n"
        )
        print(
            "| scenario | impl | polls/s (ideal) | late p50 s | late p99 s | late max s | > 1 s behind "
            "| loop lag p99 ms | loop lag max ms | full GC max ms | CPU % core | peak RSS MiB | threads | searches/interval |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        all_results: dict[Cell, dict[str, list[dict[str, Any]]]] = {}
        for cell in cells:
            _admin(admin_url, "faults", {"clear": True})
            _admin(
                admin_url,
                "faults",
                {"mode": "latency", "operation": "get_all_transactions", "latency_ms": cell.latency_ms},
            )
            results: dict[str, list[dict[str, Any]]] = {impl: [] for impl in cell.impls}
            for repeat in range(args.repeats):
                order = cell.impls if repeat % 2 == 0 else tuple(reversed(cell.impls))
                for impl in order:
                    spec = {
                        "impl": impl,
                        "ids": ids[: cell.n],
                        "interval": cell.interval,
                        "window_s": cell.window,
                        "scenario": cell.scenario,
                        "latency_ms": cell.latency_ms,
                        "conn": conn,
                        "admin_url": admin_url,
                        "max_in_flight": args.max_in_flight,
                        "burst_limit_s": dict(cell.burst_cap).get(impl, cell.interval),
                    }
                    results[impl].append(_run_child(spec))
                    print(f"  ({cell.label()} {impl} run {repeat + 1} done)", file=sys.stderr, flush=True)
            _print_cell(cell, results)
            all_results[cell] = results
        print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f} (1 min).", flush=True)
        if args.goals:
            print("\n" + "\n".join(_goal_lines(all_results)), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
