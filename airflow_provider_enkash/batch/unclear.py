"""Unclear rows of a batch: the quiet period, row by row, from what the ledger remembers.

A row is unclear when its send may have reached EnKash and no look-up has settled it
(``outcome_unknown``), or when its attempt died while sending it (``sending``). Its ``sent_at``
starts the quiet period; :func:`settle_due_rows` looks up each row whose next look-up is due and
resends it only when :mod:`~airflow_provider_enkash.resend_gate` allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from airflow_provider_enkash.batch.outcomes import (
    ALREADY_LOADED,
    AMOUNT_MISMATCH,
    FAILED,
    OUTCOME_UNKNOWN,
    RESENT_AFTER_UNKNOWN,
    RowOutcome,
)
from airflow_provider_enkash.exceptions import (
    EnKashAmountMismatch,
    EnKashAuthError,
    EnKashBusinessError,
    EnKashError,
    EnKashOutcomeUnknown,
)
from airflow_provider_enkash.resend_gate import UnclearSend, now_s, step_unclear

if TYPE_CHECKING:
    from airflow_provider_enkash.batch.rows import BatchRow
    from airflow_provider_enkash.batch.runner import BatchRunner

WHAT_A_HUMAN_DOES = (
    "For each unclear reference: look it up in EnKash (Get Transaction Details, pgReferenceNumber=<reference>) "
    "or run reconcile_ledger on the batch. If the credit is there, nothing is owed. If it is truly absent, rerun "
    "the task with on_unknown='wait': it resends only after the quiet period and two absent look-ups, and reports "
    "the row as resent_after_unknown."
)


def gate_state(record: RowOutcome, *, now: float) -> UnclearSend:
    """The quiet-period record of an unclear row (a row without ``sent_at`` counts from ``now``)."""
    return UnclearSend(
        record.reference,
        sent_at=record.sent_at if record.sent_at is not None else now,
        absent_checks=record.absent_checks,
        last_absent_at=record.last_absent_at,
    )


def _with_state(record: RowOutcome, state: UnclearSend, reason: str | None) -> RowOutcome:
    return replace(
        record,
        outcome=OUTCOME_UNKNOWN,
        sent_at=state.sent_at,
        absent_checks=state.absent_checks,
        last_absent_at=state.last_absent_at,
        error_message=reason or record.error_message,
    )


def _settle_row(
    runner: BatchRunner, row: BatchRow, record: RowOutcome, *, batch_id: str, quiet_period_s: float
) -> RowOutcome:
    state = gate_state(record, now=now_s())
    try:
        step = step_unclear(
            runner.hook,
            state,
            enkash_card_id=row.enkash_card_id,
            amount=row.amount,
            quiet_period_s=quiet_period_s,
            resend=lambda: runner.send(row, batch_id=batch_id, lookup_first=True, resend_after_unknown=True),
        )
    except EnKashAmountMismatch as exc:
        return replace(
            record,
            outcome=AMOUNT_MISMATCH,
            enkash_amount=exc.found,
            enkash_transaction_id=exc.transaction_id,
            error_code=type(exc).__name__,
            error_message=str(exc),
        )
    except EnKashOutcomeUnknown as exc:  # found in a status word nobody configured
        return replace(_with_state(record, state, str(exc)), error_code=type(exc).__name__)
    except EnKashAuthError as exc:  # no login: nothing proven, nothing resent
        return _with_state(record, state, f"look-up impossible: {exc}")
    except EnKashBusinessError as exc:
        return replace(record, outcome=FAILED, error_code=str(exc.code), error_message=exc.enkash_message)
    except EnKashError as exc:  # a failure before the resend left (refused, 429, login): nothing moved
        return replace(record, outcome=FAILED, error_code=type(exc).__name__, error_message=str(exc))
    if step.result is None:
        return _with_state(record, step.unclear, step.reason)
    outcome = RESENT_AFTER_UNKNOWN if step.result.outcome == RESENT_AFTER_UNKNOWN else ALREADY_LOADED
    return replace(
        record,
        outcome=outcome,
        enkash_transaction_id=step.result.enkash_transaction_id,
        error_code=None,
        error_message="resent after the quiet period and two absent look-ups"
        if outcome == RESENT_AFTER_UNKNOWN
        else None,
    )


def settle_due_rows(
    runner: BatchRunner,
    rows: Mapping[str, BatchRow],
    unclear: Sequence[RowOutcome],
    *,
    batch_id: str,
    quiet_period_s: float,
) -> list[RowOutcome]:
    """One quiet-period step for every unclear row whose next look-up is due (``runner.concurrency`` at once);
    rows not due yet come back unchanged."""
    now = now_s()
    due = [r for r in unclear if now >= gate_state(r, now=now).next_lookup_at(quiet_period_s=quiet_period_s)]
    waiting = [r for r in unclear if r not in due]
    with ThreadPoolExecutor(max_workers=runner.concurrency, thread_name_prefix="enkash-unclear") as pool:
        settled = list(
            pool.map(
                lambda r: _settle_row(
                    runner, rows[r.row_key], r, batch_id=batch_id, quiet_period_s=quiet_period_s
                ),
                due,
            )
        )
    return [*settled, *waiting]


def next_wake(unclear: Iterable[RowOutcome], *, quiet_period_s: float) -> float:
    """The earliest Unix time a look-up of one of ``unclear`` is due."""
    now = now_s()
    return min(gate_state(r, now=now).next_lookup_at(quiet_period_s=quiet_period_s) for r in unclear)


def gave_up(unclear: Iterable[RowOutcome], *, quiet_period_s: float) -> list[RowOutcome]:
    """Unclear rows whose look-ups have had long enough (three quiet periods) and still prove nothing."""
    now = now_s()
    return [r for r in unclear if gate_state(r, now=now).gave_up(now=now, quiet_period_s=quiet_period_s)]


def unclear_report(unclear: Iterable[RowOutcome], *, batch_id: str, why: str) -> str:
    """The failure message naming every unclear reference and what a human does next."""
    lines = [
        f"row {r.row_number} ({r.row_key}): reference {r.reference}, card {r.enkash_card_id}, {r.amount} rupees"
        f"{f' - {r.error_message}' if r.error_message else ''}"
        for r in sorted(unclear, key=lambda r: r.row_number)
    ]
    return (
        f"batch {batch_id}: {len(lines)} row(s) with an unclear outcome ({why}):\n  "
        + "\n  ".join(lines)
        + (f"\n{WHAT_A_HUMAN_DOES}")
    )
