"""One live attempt per batch: a lease in the ledger store (DESIGN.md decision 1).

Before anything is sent, an attempt claims the lease of its batch (or batch chunk). A second
attempt while the lease is live fails fast, naming the holder (:class:`EnKashLeaseHeld`). A lease
lives ``ttl_s`` seconds past its holder's last heartbeat; the holder renews it while it works and
releases it when it stops or defers. An expired lease (a killed worker) may be taken over:
:attr:`LeaseClaim.took_over` tells the new holder to treat every row still marked ``sending`` as
unclear.

- SQL: a claims table (``<ledger table>_leases``) with the lease key as primary key; a claim is
  an INSERT, a take-over an UPDATE guarded by the old holder and expiry (compare-and-swap).
- Files: a lock file per batch folder, claimed under an exclusive ``flock``; local files only.
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
from dataclasses import dataclass
from typing import Any

from airflow_provider_enkash.exceptions import EnKashConfigError, EnKashError

DEFAULT_LEASE_TTL_S = 300.0


class EnKashLeaseHeld(EnKashError):
    """Another live attempt holds the batch's lease; nothing was sent. Retried by Airflow as usual.

    :param holder: who holds it. :param expires_at: Unix time (s) it expires unless renewed.
    """

    def __init__(self, message: str, *, holder: str, expires_at: float) -> None:
        self.holder = holder
        self.expires_at = expires_at
        super().__init__(message)


@dataclass(frozen=True)
class LeaseClaim:
    """A held lease. :param took_over: the previous holder's lease had expired (it died)."""

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


class FileLeaseStore:
    """Leases as small JSON lock files, claimed under ``flock`` (local filesystems only)."""

    def __init__(self, folder_of: Any, *, protocol: str) -> None:
        if protocol not in ("file", "local", ""):
            raise EnKashConfigError(
                f"ledger_path on {protocol!r} storage cannot hold a batch lease (no atomic create-if-absent "
                "through fsspec); use a local ledger_path or a SQL ledger (ledger_conn_id)"
            )
        self._folder_of = folder_of

    def _path(self, key: str) -> str:
        folder = self._folder_of(key)
        folder.mkdir(parents=True, exist_ok=True)
        return os.path.join(folder.path, "lease.lock")

    @contextlib.contextmanager
    def _locked(self, key: str) -> Any:
        fd = os.open(self._path(key), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(os.dup(fd), "r+", encoding="utf-8") as handle:
                text = handle.read()
                current = json.loads(text) if text.strip() else None

                def write(record: dict[str, Any] | None) -> None:
                    handle.seek(0)
                    handle.truncate()
                    if record is not None:
                        handle.write(json.dumps(record))
                    handle.flush()
                    os.fsync(handle.fileno())

                yield current, write
        finally:
            os.close(fd)  # closing the descriptor drops the flock

    def claim(self, key: str, owner: str, ttl_s: float) -> LeaseClaim:
        with self._locked(key) as (current, write):
            now = time.time()
            if current and current["owner"] != owner and current["expires_at"] > now:
                raise _held(key, current["owner"], current["expires_at"])
            took_over = bool(current) and current["owner"] != owner
            write({"owner": owner, "expires_at": now + ttl_s, "heartbeat_at": now})
            return LeaseClaim(key, owner, took_over, current["owner"] if took_over else None)

    def renew(self, key: str, owner: str, ttl_s: float) -> bool:
        with self._locked(key) as (current, write):
            if not current or current["owner"] != owner:
                return False
            now = time.time()
            write({"owner": owner, "expires_at": now + ttl_s, "heartbeat_at": now})
            return True

    def release(self, key: str, owner: str) -> None:
        with self._locked(key) as (current, write):
            if current and current["owner"] == owner:
                write(None)


class SqlLeaseStore:
    """Leases in a claims table: ``lease_key`` primary key, ``owner``, ``expires_at``, ``heartbeat_at``."""

    def __init__(self, db_hook_of: Any, table: str) -> None:
        self._db_hook_of = db_hook_of
        self.table = table
        self._created = False

    def _conn(self) -> Any:
        hook = self._db_hook_of()
        if not self._created:
            hook.run(
                f"CREATE TABLE IF NOT EXISTS {self.table} (lease_key VARCHAR(255) NOT NULL PRIMARY KEY, "
                "owner VARCHAR(512) NOT NULL, expires_at DOUBLE PRECISION NOT NULL, heartbeat_at DOUBLE PRECISION NOT NULL)"
            )
            self._created = True
        return hook

    def _execute(self, sql: str, parameters: tuple[Any, ...]) -> int:
        """Run one statement in its own transaction; return the rows it changed (raises on a key clash)."""
        hook = self._conn()
        sql = sql.replace("?", hook.placeholder)
        with contextlib.closing(hook.get_conn()) as conn:
            try:
                with contextlib.closing(conn.cursor()) as cursor:
                    cursor.execute(sql, parameters)
                    changed = cursor.rowcount
                conn.commit()
            except Exception:
                conn.rollback()
                raise
        return changed

    def _current(self, key: str) -> tuple[str, float] | None:
        hook = self._conn()
        rows = hook.get_records(
            f"SELECT owner, expires_at FROM {self.table} WHERE lease_key = {hook.placeholder}",
            parameters=(key,),
        )
        return (rows[0][0], float(rows[0][1])) if rows else None

    def claim(self, key: str, owner: str, ttl_s: float) -> LeaseClaim:
        now = time.time()
        try:
            self._execute(
                f"INSERT INTO {self.table} (lease_key, owner, expires_at, heartbeat_at) VALUES (?, ?, ?, ?)",
                (key, owner, now + ttl_s, now),
            )
            return LeaseClaim(key, owner, took_over=False)
        except Exception:  # noqa: BLE001 - a key clash in any driver's words: read who holds it
            current = self._current(key)
            if current is None:
                raise
        holder, expires_at = current
        if holder != owner and expires_at > now:
            raise _held(key, holder, expires_at)
        changed = self._execute(
            f"UPDATE {self.table} SET owner = ?, expires_at = ?, heartbeat_at = ? "
            "WHERE lease_key = ? AND owner = ? AND expires_at = ?",
            (owner, now + ttl_s, now, key, holder, expires_at),
        )
        if changed != 1:  # someone else took it over between our read and our update
            current = self._current(key)
            raise _held(key, *(current or (holder, expires_at)))
        took_over = holder != owner and holder != ""
        return LeaseClaim(key, owner, took_over, holder if took_over else None)

    def renew(self, key: str, owner: str, ttl_s: float) -> bool:
        now = time.time()
        return (
            self._execute(
                f"UPDATE {self.table} SET expires_at = ?, heartbeat_at = ? WHERE lease_key = ? AND owner = ?",
                (now + ttl_s, now, key, owner),
            )
            == 1
        )

    def release(self, key: str, owner: str) -> None:
        # an empty owner with expiry 0: free, and not a dead holder to take over from
        self._execute(
            f"UPDATE {self.table} SET owner = '', expires_at = 0 WHERE lease_key = ? AND owner = ?",
            (key, owner),
        )


class HeldLease:
    """A claimed lease, renewed every ``ttl_s / 3`` in a daemon thread until :meth:`release`.

    :param store: a :class:`FileLeaseStore` or :class:`SqlLeaseStore`.
    """

    def __init__(self, store: Any, key: str, owner: str, *, ttl_s: float = DEFAULT_LEASE_TTL_S) -> None:
        self.store = store
        self.key = key
        self.owner = owner
        self.ttl_s = ttl_s
        self.claim = store.claim(key, owner, ttl_s)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="enkash-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                if not self.store.renew(self.key, self.owner, self.ttl_s):
                    self.lost.set()
                    return
            except Exception:  # noqa: BLE001 - a store hiccup: try again next beat, the ttl has slack
                continue

    def release(self) -> None:
        """Stop renewing and free the lease (a no-op if another holder took it)."""
        self._stop.set()
        self._thread.join()
        self.store.release(self.key, self.owner)
