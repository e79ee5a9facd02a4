"""Read ahead: produce the next batches in a background thread while the caller writes this one.

EnKash reads wait on the network and the destination waits on its database or
file system; overlapping the two roughly halves an export's wall time. The
queue is bounded (``depth`` batches), so memory stays flat.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
_POLL_S = 0.1


def prefetched(source: Iterable[T], *, depth: int = 2) -> Iterator[T]:
    """Iterate ``source`` in a daemon thread, at most ``depth`` items ahead of the caller.

    An exception in ``source`` is re-raised in the caller; when the caller stops early (or fails),
    the thread stops at its next item.
    """
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    failure: list[BaseException] = []

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            failure.append(exc)
        put(_DONE)

    thread = threading.Thread(target=produce, name="enkash-export-prefetch", daemon=True)
    thread.start()
    try:
        while (item := items.get()) is not _DONE:
            yield item  # type: ignore[misc]
        if failure:
            raise failure[0]
    finally:
        stop.set()
        thread.join()
