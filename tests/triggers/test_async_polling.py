"""The trigger's native async path against the sandbox: shared client, bound in flight, coalesced searches."""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.server
import os
import subprocess
import sys
import threading
import time
from typing import Any, ClassVar

import pytest

from airflow_provider_enkash.async_client import AsyncEnKashClient
from airflow_provider_enkash.coalesced_poll import poll_coalesced
from airflow_provider_enkash.exceptions import EnKashHTTPError
from airflow_provider_enkash.triggers.transaction_watch import TransactionWatch
from airflow_provider_enkash.triggers.transactions import EnKashTransactionTrigger


def _trigger(**kwargs: Any) -> EnKashTransactionTrigger:
    defaults = {"enkash_conn_id": "enkash_default", "end_time": time.time() + 30, "poll_interval": 0.3}
    return EnKashTransactionTrigger(**{**defaults, **kwargs})


def _searches(sandbox) -> int:
    return sandbox.get("counters")["operations"].get("get_all_transactions", 0)


async def _events_of(trigger: EnKashTransactionTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


async def _settle_after(sandbox, seconds: float) -> None:
    await asyncio.sleep(seconds)
    await asyncio.to_thread(sandbox.post, "settle")


def _pending_loads(sandbox, load, count: int) -> list[str]:
    sandbox.post("config", {"settle_delay_s": 3600})
    return [load("1.00").enkash_transaction_id for _ in range(count)]


def _searches_until_timeout(sandbox, ids: list[str], seconds: float) -> int:
    """Run one trigger per id until they all time out after ``seconds``; return the searches made."""
    before = _searches(sandbox)

    async def main() -> list[list[dict[str, Any]]]:
        end = time.time() + seconds
        return await asyncio.gather(
            *(_events_of(_trigger(enkash_transaction_id=i, end_time=end)) for i in ids)
        )

    assert [e[0]["status"] for e in asyncio.run(main())] == ["timeout"] * len(ids)
    return _searches(sandbox) - before


def test_a_trigger_stored_by_an_earlier_release_resumes_and_serializes_its_watch_as_one_value():
    stored_kwargs = {  # what the previous release's serialize() wrote to the metadata database
        "enkash_conn_id": "enkash_payroll",
        "end_time": 1_900_000_000.0,
        "poll_interval": 30.0,
        "enkash_transaction_id": "ECTR123",
        "pg_reference_number": None,
        "enkash_card_id": "EKC1234567",
        "txn_date_from": None,
        "txn_date_to": None,
        "user_id": None,
        "company_id": None,
        "card_account_id": None,
        "target_statuses": ["SETTLED"],
        "failure_statuses": ["FAILED", "REJECTED", "REVERSED"],
        "not_found_deadline": 1_800_000_000.5,
        "max_records_per_response": 1000,
    }
    assert EnKashTransactionTrigger(**stored_kwargs).serialize() == (
        "airflow_provider_enkash.triggers.transactions.EnKashTransactionTrigger",
        {
            "enkash_conn_id": "enkash_payroll",
            "end_time": 1_900_000_000.0,
            "watch": {
                "kind": "transaction",
                "enkash_transaction_id": "ECTR123",
                "pg_reference_number": None,
                "enkash_card_id": "EKC1234567",
                "company_id": None,
                "card_account_id": None,
            },
            "poll_interval": 30.0,
            "target_statuses": ["SETTLED"],
            "failure_statuses": ["FAILED", "REJECTED", "REVERSED"],
            "pending_statuses": None,
            "not_found_deadline": 1_800_000_000.5,
        },
    )


def test_many_triggers_share_one_token_and_coalesce_their_searches(sandbox, load):
    ids = _pending_loads(sandbox, load, 30)
    before = _searches(sandbox)

    async def main() -> list[list[dict[str, Any]]]:
        settle = asyncio.create_task(_settle_after(sandbox, 1.0))
        events = await asyncio.gather(*(_events_of(_trigger(enkash_transaction_id=i)) for i in ids))
        await settle
        return events

    events = asyncio.run(main())
    assert [len(e) for e in events] == [1] * 30
    assert {e[0]["status"] for e in events} == {"success"}
    assert sorted(e[0]["transaction"]["enKashCardTransactionId"] for e in events) == sorted(ids)
    counters = sandbox.get("counters")["operations"]
    assert counters["auth_token"] == 1
    # ~4 rounds of 0.3 s until the settle at 1 s: one search per round instead of 30 per round
    searches = _searches(sandbox) - before
    assert 2 <= searches <= 8, searches


def test_batches_respect_poll_batch_size(sandbox, load, monkeypatch):
    monkeypatch.setenv("AIRFLOW__ENKASH__POLL_BATCH_SIZE", "7")
    ids = _pending_loads(sandbox, load, 20)
    before = _searches(sandbox)

    async def main() -> list[list[dict[str, Any]]]:
        client = await AsyncEnKashClient.for_connection("enkash_default")
        due = time.time()  # all due together: one round
        return await asyncio.gather(
            *(
                poll_coalesced(client, TransactionWatch(enkash_transaction_id=i), due=due, early_s=0)
                for i in ids
            )
        )

    found = asyncio.run(main())
    assert [[r["enKashCardTransactionId"] for r in records] for records in found] == [[i] for i in ids]
    assert _searches(sandbox) - before == 3  # ceil(20 / 7)


def test_without_coalescing_each_trigger_searches_alone(sandbox, load, monkeypatch):
    monkeypatch.setenv("AIRFLOW__ENKASH__COALESCE_POLLS", "false")
    ids = _pending_loads(sandbox, load, 10)
    assert _searches_until_timeout(sandbox, ids, 0.5) >= 20  # at least two polls each


def test_truncated_multi_id_responses_never_look_like_not_found(sandbox, load):
    """The server cuts every response at 4 records and reports only what it returned."""
    ids = _pending_loads(sandbox, load, 10)
    sandbox.post("settle")
    sandbox.post("config", {"max_records": 4, "records_count": "returned"})

    async def main() -> list[list[dict[str, Any]]]:
        # not found at the first poll would fail at once: the grace period is already over
        return await asyncio.gather(
            *(_events_of(_trigger(enkash_transaction_id=i, not_found_deadline=time.time())) for i in ids)
        )

    events = asyncio.run(main())
    assert [e[0]["status"] for e in events] == ["success"] * 10


def test_an_id_that_does_not_exist_is_not_found_within_a_batch(sandbox, load):
    ids = _pending_loads(sandbox, load, 3)
    sandbox.post("settle")

    async def main() -> list[list[dict[str, Any]]]:
        triggers = [_trigger(enkash_transaction_id=i) for i in ids]
        triggers.append(_trigger(enkash_transaction_id="ECTRNOSUCH01", not_found_deadline=time.time()))
        return await asyncio.gather(*(_events_of(t) for t in triggers))

    events = asyncio.run(main())
    assert [(e[0]["status"], e[0]["state"]) for e in events] == [("success", "success")] * 3 + [
        ("failure", "not_found")
    ]


def test_a_cancelled_trigger_leaves_its_batch_and_the_others_finish(sandbox, load):
    ids = _pending_loads(sandbox, load, 8)

    async def main() -> tuple[list[Any], list[bool]]:
        tasks = [asyncio.create_task(_events_of(_trigger(enkash_transaction_id=i))) for i in ids]
        await asyncio.sleep(0.7)  # a couple of rounds
        for task in tasks[:3]:
            task.cancel()
        settle = asyncio.create_task(_settle_after(sandbox, 0.4))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await settle
        return results, [t.cancelled() for t in tasks]

    results, cancelled = asyncio.run(main())
    assert cancelled == [True] * 3 + [False] * 5
    assert [r[0]["status"] for r in results[3:]] == ["success"] * 5


def test_requests_in_flight_are_bounded(sandbox, load, monkeypatch):
    monkeypatch.setenv("AIRFLOW__ENKASH__MAX_REQUESTS_IN_FLIGHT", "2")
    monkeypatch.setenv("AIRFLOW__ENKASH__COALESCE_POLLS", "false")
    ids = _pending_loads(sandbox, load, 8)
    sandbox.post("settle")
    sandbox.post("faults", {"mode": "latency", "operation": "get_all_transactions", "latency_ms": 200})

    async def main() -> float:
        started = time.monotonic()
        events = await asyncio.gather(*(_events_of(_trigger(enkash_transaction_id=i)) for i in ids))
        assert [e[0]["status"] for e in events] == ["success"] * 8
        return time.monotonic() - started

    # 8 searches of 200 ms, at most 2 at a time: at least 4 rounds of 200 ms
    assert asyncio.run(main()) >= 0.8


class _CountingExecutor(concurrent.futures.ThreadPoolExecutor):
    submitted = 0

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        type(self).submitted += 1
        return super().submit(*args, **kwargs)


@pytest.mark.parametrize("coalesce", ["true", "false"])
def test_polling_holds_no_thread(sandbox, load, monkeypatch, coalesce):
    """Retries and polls are awaited: the loop's thread pool is not used once per poll."""
    monkeypatch.setenv("AIRFLOW__ENKASH__COALESCE_POLLS", coalesce)
    ids = _pending_loads(sandbox, load, 1)
    sandbox.post(
        "faults", {"mode": "http_429", "operation": "get_all_transactions", "count": 3, "retry_after_s": 0}
    )
    _CountingExecutor.submitted = 0

    async def main() -> list[dict[str, Any]]:
        asyncio.get_running_loop().set_default_executor(_CountingExecutor(max_workers=2))
        return await _events_of(
            _trigger(enkash_transaction_id=ids[0], poll_interval=0.1, end_time=time.time() + 1.2)
        )

    before = _searches(sandbox)
    (event,) = asyncio.run(main())
    assert event["status"] == "timeout"
    polls = _searches(sandbox) - before
    assert polls >= 8  # 3 rate-limited answers plus at least 5 polls
    assert _CountingExecutor.submitted <= 2, _CountingExecutor.submitted  # connection lookup only


class _Redirector(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.1:9/stolen")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_redirects_are_not_followed(sandbox, hook):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook.get_token()  # the token comes from the sandbox; the card call goes to the redirector
        settings = hook.settings
        redirecting = type(settings)(
            **{**vars(settings), "base_url": f"http://127.0.0.1:{server.server_port}"}
        )
        hook._settings = redirecting
        client = AsyncEnKashClient(hook)
        with pytest.raises(EnKashHTTPError, match="HTTP 302"):
            asyncio.run(client.get_all_transactions(enkash_transaction_ids=["ECTR1"]))
        assert _Redirector.hits == ["/api/v0/partner/enKashCard/transaction/all"]
    finally:
        server.shutdown()
        server.server_close()


def test_triggers_of_one_loop_share_a_connection_but_not_a_failed_one(sandbox, load, monkeypatch):
    import os

    loaded = load()
    sandbox.post("settle")

    async def main() -> tuple[bool, list[dict[str, Any]], list[dict[str, Any]]]:
        shared = await AsyncEnKashClient.for_connection("enkash_default") is (
            await AsyncEnKashClient.for_connection("enkash_default")
        )
        missing = await _events_of(_trigger(enkash_conn_id="enkash_later", enkash_transaction_id="ECTR1"))
        monkeypatch.setenv("AIRFLOW_CONN_ENKASH_LATER", os.environ["AIRFLOW_CONN_ENKASH_DEFAULT"])
        defined = await _events_of(
            _trigger(enkash_conn_id="enkash_later", enkash_transaction_id=loaded.enkash_transaction_id)
        )
        return shared, missing, defined

    shared, missing, defined = asyncio.run(main())
    assert shared
    assert [e["status"] for e in missing] == ["error"]  # resolved again once it exists:
    assert [e["status"] for e in defined] == ["success"]


_FREEZE_PROBE = """
import asyncio, gc, sys, time
from airflow_provider_enkash.triggers.transactions import EnKashTransactionTrigger

async def main():
    trigger = EnKashTransactionTrigger(
        enkash_conn_id="enkash_default", end_time=time.time() + 30, poll_interval=0.3,
        enkash_transaction_id=sys.argv[1],
    )
    return [event.payload async for event in trigger.run()]

before = gc.get_freeze_count()
events = asyncio.run(main())
print(events[0]["status"], before, gc.get_freeze_count())
"""


@pytest.mark.parametrize(("setting", "frozen"), [(None, True), ("false", False)])
def test_a_triggerer_process_freezes_its_startup_objects_once(sandbox, load, setting, frozen):
    """``[enkash] freeze_gc`` (default true): the first trigger's poll moves startup objects out of
    the collector's view, so full collections in a busy triggerer scan only newer objects."""
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW__ENKASH__FREEZE_GC"}
    if setting is not None:
        env["AIRFLOW__ENKASH__FREEZE_GC"] = setting
    transaction_id = load("1.00").enkash_transaction_id
    out = subprocess.run(
        [sys.executable, "-c", _FREEZE_PROBE, transaction_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    status, before, after = out[-3], int(out[-2]), int(out[-1])
    assert status == "success"
    assert before == 0
    assert (after > 10_000) is frozen, after
