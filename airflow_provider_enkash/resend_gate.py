"""When an unclear load reference may be sent again: the quiet period (DESIGN.md decision 1).

A send whose outcome is unclear (timeout, dropped connection, 5xx, a task killed mid-send) may
still be committed by EnKash later: a queued backend, a lagging search. EnKash documents no
de-duplication of ``uniqueReferenceNumber``, so a resend is a second payment unless the first
truly never happened. A reference sent at time ``T`` with an unclear outcome is therefore resent
only when both hold:

- the quiet period ``Q`` (``resend_quiet_period``; default 15 minutes) has passed since ``T``;
- at least two look-ups proved it *absent*, spaced at least ``Q / 2`` apart, the last one at or
  after ``T + Q``. The natural schedule is one look-up at ``T + Q/2`` and one at ``T + Q``.

A *found* look-up settles the reference; an *unknown* one proves nothing and does not count.
What this cannot rule out, and no client can: a credit EnKash commits after ``T + Q``.
When look-ups stay unknown until ``T + 3Q``, waiting longer is pointless: a human decides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from airflow_provider_enkash.exceptions import (
    EnKashOutcomeUnknown,
    EnKashValidationError,
)

if TYPE_CHECKING:
    from airflow_provider_enkash.hooks.enkash import EnKashHook
    from airflow_provider_enkash.models import LoadResult

GIVE_UP_AFTER_QUIET_PERIODS = 3


def quiet_period_seconds(value: float | timedelta | None, *, default: float) -> float:
    """``resend_quiet_period`` in seconds (a number or a ``timedelta``; None = ``default``)."""
    if value is None:
        return default
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
        raise EnKashValidationError(
            "resend_quiet_period", f"must be seconds >= 0 or a timedelta, got {value!r}"
        )
    return float(seconds)


@dataclass(frozen=True)
class UnclearSend:
    """What is known about one unclear send (persisted in the ledger, or in the deferral).

    :param sent_at: Unix time (s) of the send whose outcome is unclear (``T``).
    :param absent_checks: absent look-ups counted so far (spaced apart).
    :param last_absent_at: Unix time (s) of the latest counted absent look-up.
    """

    reference: str
    sent_at: float
    absent_checks: int = 0
    last_absent_at: float | None = None

    def after_lookup(self, state: str, *, at: float, quiet_period_s: float) -> UnclearSend:
        """This record after a look-up that answered ``state`` at ``at``: an absent one counts when spaced apart."""
        # imported here: the reader builds request models, too slow for a DAG file's parse (check_on_unknown)
        from airflow_provider_enkash.transaction_reader import ABSENT

        if state != ABSENT or at < self.sent_at:
            return self
        if self.last_absent_at is not None and at - self.last_absent_at < quiet_period_s / 2:
            return self
        return replace(self, absent_checks=self.absent_checks + 1, last_absent_at=at)

    def may_resend(self, *, now: float, quiet_period_s: float) -> bool:
        """True when the quiet period has passed and two spaced absent look-ups, the last after it, agree."""
        quiet_end = self.sent_at + quiet_period_s
        return (
            now >= quiet_end
            and self.absent_checks >= 2
            and self.last_absent_at is not None
            and self.last_absent_at >= quiet_end
        )

    def next_lookup_at(self, *, quiet_period_s: float) -> float:
        """The earliest Unix time a look-up can bring the resend closer."""
        half = quiet_period_s / 2
        if self.last_absent_at is None:
            return self.sent_at + half
        return max(self.last_absent_at + half, self.sent_at + quiet_period_s)

    def gave_up(self, *, now: float, quiet_period_s: float) -> bool:
        """True once look-ups have had ``GIVE_UP_AFTER_QUIET_PERIODS`` quiet periods to prove absence and did not."""
        return now >= self.sent_at + GIVE_UP_AFTER_QUIET_PERIODS * quiet_period_s


def now_s() -> float:
    """Unix time in seconds (one clock for every record of the gate)."""
    return time.time()


@dataclass(frozen=True)
class GateStep:
    """What one look-up (and, when allowed, one resend) did for an unclear reference.

    :param result: the settled load (``already_loaded`` or ``resent_after_unknown``), else None.
    :param unclear: the record to keep when still unclear (a fresh ``sent_at`` after an unclear resend).
    :param reason: why it is still unclear.
    """

    result: LoadResult | None
    unclear: UnclearSend
    reason: str | None = None


def step_unclear(
    hook: EnKashHook,
    unclear: UnclearSend,
    *,
    enkash_card_id: str,
    amount: Decimal,
    quiet_period_s: float,
    resend: Callable[[], LoadResult],
) -> GateStep:
    """Look ``unclear.reference`` up; found settles it, absent counts towards the resend, which
    ``resend`` performs once :meth:`UnclearSend.may_resend` allows.

    :raises EnKashAmountMismatch: found with another amount. :raises EnKashTransactionFailed: found failed.
    :raises EnKashOutcomeUnknown: found in a status word that is neither success, failure nor pending.
    """
    at = now_s()
    lookup = hook.look_up_load(enkash_card_id=enkash_card_id, unique_reference_number=unclear.reference)
    if lookup.found:
        return GateStep(hook.settle_found_load(lookup, card_id=enkash_card_id, amount=amount), unclear)
    unclear = unclear.after_lookup(lookup.state, at=at, quiet_period_s=quiet_period_s)
    if not unclear.may_resend(now=at, quiet_period_s=quiet_period_s):
        reason = lookup.reason or f"{unclear.absent_checks} spaced absent look-up(s) so far"
        return GateStep(None, unclear, f"look-up {lookup.state}: {reason}")
    try:
        return GateStep(resend(), unclear)
    except EnKashOutcomeUnknown as exc:
        return GateStep(None, UnclearSend(unclear.reference, sent_at=now_s()), str(exc))
