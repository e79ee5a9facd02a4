"""One live attempt per row of a batch: a lease per batch id in the ledger store (DESIGN.md decision 1).

Before anything is sent, an attempt claims the lease of its batch id for its :class:`LeaseScope`: the
plan it belongs to (``<dag_id>/<run_id>/<task_id>``: the mapped chunks of one plan share it) and the
source row numbers it covers. Two live attempts of one batch id exclude each other unless they belong
to the same plan *and* cover disjoint rows, so the chunks of one plan load in parallel while a manual
run chunked differently, another DAG with the same batch id, or a zombie try next to its retry fail
fast naming the holder (:class:`EnKashLeaseHeld`).

A holder lives ``ttl_s`` seconds past its last heartbeat; it renews while it works and releases when
it stops or defers. An expired holder (a killed worker) whose rows overlap a new attempt's is taken
over: :attr:`LeaseClaim.took_over` names it. The lease of a batch is one record, changed atomically:

- SQL: a row per batch id in ``<ledger table>_batch_leases`` (holders as JSON, a version number),
  changed by compare-and-swap on the version.
- Files: ``lease.lock`` in the batch folder, changed under an exclusive ``flock``; local files only.
  Object stores cannot give that guarantee through fsspec, so they are refused: use a SQL ledger.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_provider_enkash.batch.arguments import DEFAULT_LEASE_TTL_S as DEFAULT_LEASE_TTL_S
from airflow_provider_enkash.exceptions import EnKashConfigError, EnKashError

_CAS_ATTEMPTS = 50

Holders = dict[str, dict[str, Any]]
"""A batch's lease record: owner -> ``{"plan", "rows": [first, last], "expires_at"}``."""


class EnKashLeaseHeld(EnKashError):
    """Another live attempt holds rows of the batch this one would load; nothing was sent. Retried by
    Airflow as usual.

    :param holder: who holds it. :param expires_at: Unix time (s) it expires unless renewed.
    """

    def __init__(self, message: str, *, holder: str, expires_at: float) -> None:
        self.holder = holder
        self.expires_at = expires_at
        super().__init__(message)


@dataclass(frozen=True)
class LeaseScope:
    """What an attempt may send: the rows numbered ``first_row``..``last_row`` of plan ``plan``."""

    plan: str
    first_row: int
    last_row: int

    def excludes(self, holder: dict[str, Any]) -> bool:
        """True when ``holder`` could send a row this scope could send (another plan, or overlapping rows)."""
        first, last = holder["rows"]
        return holder["plan"] != self.plan or not (last < self.first_row or self.last_row < first)


@dataclass(frozen=True)
class LeaseClaim:
    """A held lease. :param took_over: an expired holder of overlapping rows (it died) was replaced."""

    key: str
    owner: str
    took_over: bool
    previous_owner: str | None = None


def lease_owner(description: str) -> str:
    """A unique owner name: what runs (e.g. dag/run/task/try), where (host, pid), and a nonce."""
    return f"{description}@{socket.gethostname()}:{os.getpid()}#{uuid.uuid4().hex[:8]}"


def _held(key: str, holder: str, expires_at: float) -> EnKashLeaseHeld:
    return EnKashLeaseHeld(
        f"batch {key!r} is being loaded by another live attempt: {holder} (lease expires in "
        f"{max(0.0, expires_at - time.time()):.0f} s unless renewed). Nothing was sent. If that attempt "
        "is dead, a retry after the expiry takes over and settles its unclear rows",
        holder=holder,
        expires_at=expires_at,
    )


def claimed(
    holders: Holders, *, key: str, owner: str, scope: LeaseScope, ttl_s: float
) -> tuple[Holders, LeaseClaim]:
    """``holders`` with ``owner`` added for ``scope``; raises :class:`EnKashLeaseHeld` for a live conflict.

    Expired holders of overlapping rows are dropped (taken over); other expired holders stay until an
    attempt of their rows takes them over, so it learns whom it replaces.
    """
    now = time.time()
    conflicting = {o: h for o, h in holders.items() if o != owner and scope.excludes(h)}
    live = [(o, h) for o, h in conflicting.items() if h["expires_at"] > now]
    if live:
        holder, record = live[0]
        raise _held(key, holder, record["expires_at"])
    kept = {o: h for o, h in holders.items() if o not in conflicting}
    kept[owner] = {"plan": scope.plan, "rows": [scope.first_row, scope.last_row], "expires_at": now + ttl_s}
    previous = next(iter(conflicting), None)
    return kept, LeaseClaim(key, owner, took_over=previous is not None, previous_owner=previous)


class LeaseStore(Protocol):
    """One lease record per batch id, read and replaced atomically."""

    def update(self, key: str, change: Callable[[Holders], Holders]) -> Holders:
        """Apply ``change`` to the record of ``key`` atomically; return the new record."""


class FileLeaseStore:
    """Leases as small JSON lock files, changed under ``flock`` (local filesystems only)."""

    def __init__(self, folder_of: Any, *, protocol: str) -> None:
        if protocol not in ("file", "local", ""):
            raise EnKashConfigError(
                f"ledger_path on {protocol!r} storage cannot hold a batch lease (no atomic create-if-absent "
                "through fsspec); use a local ledger_path or a SQL ledger (ledger_conn_id)"
            )
        self._folder_of = folder_of

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[Any]:
        folder = self._folder_of(key)
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(os.path.join(folder.path, "lease.lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(os.dup(fd), "r+", encoding="utf-8") as handle:
                yield handle
        finally:
            os.close(fd)  # closing the descriptor drops the flock

    def update(self, key: str, change: Callable[[Holders], Holders]) -> Holders:
        with self._locked(key) as handle:
            text = handle.read()
            holders = change(json.loads(text) if text.strip() else {})
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(holders))
            handle.flush()
            os.fsync(handle.fileno())
            return holders


class SqlLeaseStore:
    """Leases in a table: ``batch_id`` primary key, ``holders`` (JSON), ``version`` (compare-and-swap)."""

    def __init__(self, db_hook_of: Any, table: str) -> None:
        self._db_hook_of = db_hook_of
        self.table = table
        self._created = False

    def _hook(self) -> Any:
        hook = self._db_hook_of()
        if not self._created:
            hook.run(
                f"CREATE TABLE IF NOT EXISTS {self.table} (batch_id VARCHAR(255) NOT NULL PRIMARY KEY, "
                "holders TEXT NOT NULL, version INTEGER NOT NULL)"
            )
            self._created = True
        return hook

    def _execute(self, sql: str, parameters: tuple[Any, ...]) -> int:
        """Run one statement in its own transaction; return the rows it changed (raises on a key clash)."""
        hook = self._hook()
        with contextlib.closing(hook.get_conn()) as conn:
            try:
                with contextlib.closing(conn.cursor()) as cursor:
                    cursor.execute(sql.replace("?", hook.placeholder), parameters)
                    changed: int = cursor.rowcount
                conn.commit()
            except Exception:
                conn.rollback()
                raise
        return changed

    def update(self, key: str, change: Callable[[Holders], Holders]) -> Holders:
        for _ in range(_CAS_ATTEMPTS):
            hook = self._hook()
            rows = hook.get_records(
                f"SELECT holders, version FROM {self.table} WHERE batch_id = {hook.placeholder}",
                parameters=(key,),
            )
            if not rows:
                holders = change({})
                with contextlib.suppress(Exception):  # a key clash in any driver's words: read again
                    self._execute(
                        f"INSERT INTO {self.table} (batch_id, holders, version) VALUES (?, ?, 1)",
                        (key, json.dumps(holders)),
                    )
                    return holders
                continue
            holders = change(json.loads(rows[0][0]))
            changed = self._execute(
                f"UPDATE {self.table} SET holders = ?, version = version + 1 WHERE batch_id = ? AND version = ?",
                (json.dumps(holders), key, int(rows[0][1])),
            )
            if changed == 1:
                return holders
        raise EnKashError(f"batch {key!r}: the lease record kept changing under {_CAS_ATTEMPTS} attempts")


class HeldLease:
    """A claimed lease, renewed every ``ttl_s / 3`` in a daemon thread until :meth:`release`.

    :param store: a :class:`FileLeaseStore` or :class:`SqlLeaseStore`.
    :param key: the batch id. :param scope: the plan and rows this attempt may send.
    """

    def __init__(
        self,
        store: LeaseStore,
        key: str,
        owner: str,
        *,
        scope: LeaseScope,
        ttl_s: float = DEFAULT_LEASE_TTL_S,
    ) -> None:
        self.store = store
        self.key = key
        self.owner = owner
        self.ttl_s = ttl_s
        result: list[LeaseClaim] = []

        def claim(holders: Holders) -> Holders:
            kept, lease_claim = claimed(holders, key=key, owner=owner, scope=scope, ttl_s=ttl_s)
            result[:] = [lease_claim]
            return kept

        store.update(key, claim)
        self.claim = result[0]
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="enkash-lease", daemon=True)
        self._thread.start()

    def _renew_once(self) -> bool:
        """Extend this holder's expiry; False when it is no longer a holder (another attempt took over)."""

        def renew(holders: Holders) -> Holders:
            if self.owner in holders:
                holders[self.owner]["expires_at"] = time.time() + self.ttl_s
            return holders

        return self.owner in self.store.update(self.key, renew)

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                if not self._renew_once():
                    self.lost.set()
                    return
            except Exception:  # noqa: BLE001 - a store hiccup: try again next beat, the ttl has slack
                continue

    def release(self) -> None:
        """Stop renewing and leave the lease (a no-op if another attempt took this holder over)."""
        self._stop.set()
        self._thread.join()
        self.store.update(self.key, lambda holders: {o: h for o, h in holders.items() if o != self.owner})
