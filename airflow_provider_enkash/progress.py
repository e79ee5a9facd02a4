"""Progress lines for long batch loads and exports, at a bounded rate.

A line is logged when ``interval_s`` (default 10 s) has passed since the last one, or when
another ``step`` (default 5 %) of the whole is done, never more than once per ``min_gap_s``
(default 1 s), and once at the end. Lines carry counts, rupees, rate and ETA: never a card
number, a reference or any other field of a row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_enkash.batch.outcomes import RowOutcome

DEFAULT_INTERVAL_S = 10.0
DEFAULT_STEP = 0.05
DEFAULT_MIN_GAP_S = 1.0


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class ProgressLog:
    """Decides when a progress line is due and writes it with rate and ETA.

    :param log: the logger (an operator's ``self.log``).
    :param label: what is progressing, e.g. ``"Batch payroll-2025-01"``.
    :param unit: what ``done`` counts, e.g. ``"rows"``.
    :param interval_s: seconds between lines at most (default 10).
    :param step: a line at each further fraction of the whole done (default 0.05).
    :param min_gap_s: seconds between lines at least (default 1).
    :param clock: monotonic seconds (default ``time.monotonic``).
    """

    def __init__(
        self,
        log: logging.Logger | logging.LoggerAdapter[Any] | Any,
        *,
        label: str,
        unit: str,
        interval_s: float = DEFAULT_INTERVAL_S,
        step: float = DEFAULT_STEP,
        min_gap_s: float = DEFAULT_MIN_GAP_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log, self.label, self.unit = log, label, unit
        self.interval_s, self.step, self.min_gap_s, self.clock = interval_s, step, min_gap_s, clock
        self.started = self.last_line = clock()
        self.next_step = step
        self.lines = 0

    def report(
        self,
        *,
        done: int,
        total: int | None = None,
        fraction: float | None = None,
        extra: str = "",
        final: bool = False,
    ) -> None:
        """Log a line if one is due (always when ``final``).

        :param done: units done so far (the rate is per unit).
        :param total: units in all, when known; ``fraction`` is then ``done / total``.
        :param fraction: share of the whole done, 0..1, when ``total`` is unknown (None: no % or ETA).
        :param extra: more counts for the line (no card data).
        """
        if total:
            fraction = done / total
        now = self.clock()
        stepped = fraction is not None and fraction >= self.next_step
        due = now - self.last_line >= self.interval_s or (stepped and now - self.last_line >= self.min_gap_s)
        if not (due or final):
            return
        if fraction is not None:
            self.next_step = (int(fraction / self.step) + 1) * self.step
        self.last_line, self.lines = now, self.lines + 1
        elapsed = now - self.started
        parts = [f"{done:,}" + (f" of {total:,}" if total is not None else "") + f" {self.unit}"]
        if fraction is not None:
            parts[0] += f" ({min(fraction, 1.0):.0%})"
        if extra:
            parts.append(extra)
        parts.append(f"{done / elapsed if elapsed > 0 else 0.0:,.1f} {self.unit}/s")
        if final:
            parts.append(f"took {_duration(elapsed)}")
        elif fraction:
            parts.append(f"ETA {_duration(elapsed * (1 - fraction) / fraction)}")
        self.log.info("%s: %s", self.label, ", ".join(parts))


class LoadProgress:
    """Progress of a batch load: rows done of total, rupees loaded, unclear and failed rows.

    :param log: the logger.
    :param batch_id: names the batch in each line.
    :param total: rows to load in this attempt.
    """

    def __init__(self, log: Any, *, batch_id: str, total: int, **timing: Any) -> None:
        self.total = total
        self.done = self.unclear = self.failed = 0
        self.rupees = Decimal("0.00")
        self._log = ProgressLog(log, label=f"Batch {batch_id}", unit="rows", **timing)

    def add(self, outcome: RowOutcome) -> None:
        """Count one finished row and log if a line is due."""
        from airflow_provider_enkash.batch.outcomes import ALREADY_LOADED, FAILED, LOADED, OUTCOME_UNKNOWN

        self.done += 1
        if outcome.outcome in (LOADED, ALREADY_LOADED):
            self.rupees += outcome.amount
        elif outcome.outcome == OUTCOME_UNKNOWN:
            self.unclear += 1
        elif outcome.outcome == FAILED:
            self.failed += 1
        self._report(final=self.done == self.total)

    def _report(self, *, final: bool) -> None:
        extra = f"INR {self.rupees:,.2f} loaded, {self.unclear} unclear, {self.failed} failed"
        self._log.report(done=self.done, total=self.total, extra=extra, final=final)


def export_progress(
    batches: Iterable[list[Any]], log: Any, *, label: str, covered: Callable[[], float | None], **timing: Any
) -> Iterator[list[Any]]:
    """Pass ``batches`` of rows through, logging rows so far and the share of the window covered.

    :param covered: the share of the export window read so far, 0..1 (None when unknown).
    """
    progress = ProgressLog(log, label=label, unit="rows", **timing)
    rows = 0
    for batch in batches:
        rows += len(batch)
        progress.report(done=rows, fraction=covered())
        yield batch
    progress.report(done=rows, fraction=1.0, final=True)
