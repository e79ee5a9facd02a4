"""Coalesced polls: triggers watching transactions of one card account share one search per round.

Per event loop (one triggerer process) and per (login, company, card account, card filter),
a group collects the transaction ids its triggers want polled and asks for them together
through the documented multi-id search (``enKashTransactionIds``), at most
``[enkash] poll_batch_size`` ids per request (default 500; EnKash documents no limit, the
hook accepts 1000). A poll may happen up to a quarter of an interval early, so that
waiters' rounds fall together: after one interval, 1,000 sensors on one account cost a
handful of requests per interval instead of 1,000. Each trigger still gets its own records
and yields its own event; a cancelled trigger leaves its group without touching the others.

A multi-id response can be cut short (more ids than the server returns): an id absent from
a response that returned records is asked again; absence is believed only from an empty
response. A response holding none of the ids asked for (the filter was not applied) makes
each remaining id be asked alone, as an uncoalesced poll would; an id whose own search
answers other transactions only is *unknown* (``None``): never "not found", never settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.async_client import PerLoop
from airflow_provider_enkash.triggers.settings import coalescing_enabled, poll_batch_size

if TYPE_CHECKING:
    from airflow_provider_enkash.async_client import AsyncEnKashClient
    from airflow_provider_enkash.triggers.transaction_watch import TransactionWatch

EARLY_FRACTION = 0.25  # a poll may run this share of its interval early to join a round
GATHER_S = 0.1  # a round waits this long for triggers starting together (a triggerer restart)

__all__ = ["coalescing_enabled", "poll_batch_size", "poll_coalesced"]

Records = list[dict[str, Any]]
Answer = Records | None  # None: the search could not tell (it ignored the id filter)


@dataclass(eq=False)
class _Waiter:
    transaction_id: str
    due: float  # epoch seconds the poll is due
    earliest: float  # epoch seconds before which it must not run
    future: asyncio.Future[Answer]


@dataclass(eq=False)
class _Group:
    """The waiters of one account; one task sends their rounds while any are waiting."""

    client: AsyncEnKashClient
    filters: dict[str, Any]
    waiters: set[_Waiter] = field(default_factory=set)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    next_round: float = float("inf")
    task: asyncio.Task[None] | None = None
    sending: set[asyncio.Task[None]] = field(default_factory=set)

    def add(self, waiter: _Waiter) -> None:
        self.waiters.add(waiter)
        if waiter.due < self.next_round:
            self.wake.set()
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._rounds(), name="enkash-coalesced-poll")

    async def _rounds(self) -> None:
        while self.waiters:
            now = time.time()
            self.next_round = min(w.due for w in self.waiters)
            if self.next_round > now:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.next_round - now)
                continue
            await asyncio.sleep(GATHER_S)
            now = time.time()
            ready = [w for w in self.waiters if w.earliest <= now]
            self.waiters.difference_update(ready)
            self.next_round = float("inf")
            by_id: dict[str, list[_Waiter]] = defaultdict(list)
            for waiter in ready:
                by_id[waiter.transaction_id].append(waiter)
            ids = sorted(by_id)
            size = poll_batch_size()
            for start in range(0, len(ids), size):
                chunk = {i: by_id[i] for i in ids[start : start + size]}
                task = asyncio.create_task(self._send(chunk), name="enkash-coalesced-search")
                self.sending.add(task)
                task.add_done_callback(self.sending.discard)

    async def _send(self, waiters_by_id: dict[str, list[_Waiter]]) -> None:
        try:
            found = await self._records_for(list(waiters_by_id))
        except Exception as exc:  # every waiter of this search sees the failure and decides itself
            for waiters in waiters_by_id.values():
                for waiter in waiters:
                    if not waiter.future.done():
                        waiter.future.set_exception(exc)
            return
        for transaction_id, waiters in waiters_by_id.items():
            for waiter in waiters:
                if not waiter.future.done():
                    waiter.future.set_result(found[transaction_id])

    async def _search(self, ids: list[str]) -> tuple[dict[str, Records], bool]:
        """Records by asked id, and whether the response was empty."""
        result = await self.client.get_all_transactions(enkash_transaction_ids=ids, **self.filters)
        asked = set(ids)
        found: dict[str, Records] = defaultdict(list)
        for record in result["data"]:
            if record.get("enKashCardTransactionId") in asked:
                found[record["enKashCardTransactionId"]].append(record)
        return found, not result["data"]

    async def _records_for(self, ids: list[str]) -> dict[str, Answer]:
        """Every asked id's records; ``[]`` only where an empty response proves absence."""
        found: dict[str, Answer] = {}
        remaining = ids
        while remaining:
            answered, empty = await self._search(remaining)
            found.update(answered)
            remaining = [i for i in remaining if i not in answered]
            if empty:
                break
            if remaining and not answered:  # records, but none of ours: the id filter did not apply
                singles = await asyncio.gather(*(self._search([i]) for i in remaining))
                for transaction_id, (single, single_empty) in zip(remaining, singles, strict=True):
                    found[transaction_id] = single.get(transaction_id) or ([] if single_empty else None)
                remaining = []
        return {i: found.get(i, []) for i in ids}


def _new_registry() -> dict[tuple[Any, ...], _Group]:
    return {}


_GROUPS: PerLoop[dict[tuple[Any, ...], _Group]] = PerLoop(_new_registry)


async def poll_coalesced(
    client: AsyncEnKashClient, watch: TransactionWatch, *, due: float, early_s: float
) -> Answer:
    """The records of ``watch``'s transaction, searched together with other waiters of its account;
    None when the search answered other transactions only (it ignored the id filter).

    :param due: epoch seconds when the poll is due; it runs then (plus ~0.1 s gathering) or
        earlier, with a round of other waiters.
    :param early_s: how much earlier than ``due`` the poll may run, seconds.
    """
    assert watch.enkash_transaction_id is not None
    filters = {
        "enkash_card_id": watch.enkash_card_id,
        "company_id": watch.company_id,
        "card_account_id": watch.card_account_id,
    }
    key = (client.identity, *filters.values())
    groups = _GROUPS.get()
    group = groups.get(key)
    if group is None:
        group = groups[key] = _Group(client=client, filters=filters)
    waiter = _Waiter(
        watch.enkash_transaction_id, due, due - early_s, asyncio.get_running_loop().create_future()
    )
    group.add(waiter)
    try:
        return await waiter.future
    finally:
        group.waiters.discard(waiter)
