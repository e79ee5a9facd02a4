"""Fault injection: rules that delay, refuse, drop or corrupt matching requests.

A rule matches one operation (``operation``) or, when ``operation`` is None,
every card operation (the token call ``auth_token`` only when named). It fires
with probability ``rate`` and/or for the next ``count`` matching requests
(a rule with neither fires on every match). Decisions come from one seeded
``random.Random``, so a sequential client sees the same faults on every run.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

LATENCY = "latency"
# Refused before any processing: the request had no effect.
BEFORE_PROCESSING = ("http_500", "http_502", "http_503", "http_429", "drop_before", "revoke_token")
# Applied after the request was fully processed and committed.
AFTER_PROCESSING = ("drop_after_commit", "undecryptable", "malformed")
# Accepted but committed ``commit_after_s`` later, after the connection was dropped or answered 503.
QUEUED = ("queued_commit", "queued_commit_503")
FAULT_MODES = (LATENCY, *BEFORE_PROCESSING, *AFTER_PROCESSING, *QUEUED)


@dataclass(frozen=True)
class FaultRule:
    """One fault.

    :param mode: one of ``FAULT_MODES``.
    :param operation: operation name (e.g. ``load_card_balance``, ``auth_token``); None = every card operation.
    :param rate: probability 0..1 per matching request (None = always, within ``count``).
    :param count: fire on at most this many matching requests, then retire (None = unlimited).
    :param latency_ms: fixed delay for ``latency``, milliseconds (default 0).
    :param jitter_ms: extra uniform random delay 0..jitter_ms for ``latency`` (default 0).
    :param retry_after_s: ``Retry-After`` header value for ``http_429``, seconds (default 1).
    :param commit_after_s: for ``queued_commit``/``queued_commit_503``, seconds after the reply
        (a dropped connection or a 503) that the request is processed and committed (default 5).
    """

    mode: str
    operation: str | None = None
    rate: float | None = None
    count: int | None = None
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    retry_after_s: int = 1
    commit_after_s: float = 5.0

    def __post_init__(self) -> None:
        if self.mode not in FAULT_MODES:
            raise ValueError(f"fault mode: {self.mode!r} is not one of {', '.join(FAULT_MODES)}")
        for name in ("latency_ms", "jitter_ms", "commit_after_s"):  # admin JSON numbers arrive as Decimal
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.rate is not None and not 0.0 <= float(self.rate) <= 1.0:
            raise ValueError(f"fault rate: {self.rate!r} must be between 0 and 1")
        if self.count is not None and (
            isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0
        ):
            raise ValueError(f"fault count: {self.count!r} must be a whole number >= 0")
        if min(self.latency_ms, self.jitter_ms, self.commit_after_s) < 0 or self.retry_after_s < 0:
            raise ValueError("fault latency_ms, jitter_ms, commit_after_s and retry_after_s must be >= 0")

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> FaultRule:
        """Build a rule from a JSON object; unknown keys are an error."""
        unknown = set(spec) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(
                f"fault: unknown key(s) {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}"
            )
        return cls(**spec)

    def matches(self, operation: str) -> bool:
        if self.operation is None:
            return operation != "auth_token"
        return self.operation == operation


@dataclass
class FaultDecision:
    """What to do to one request: sleep, then maybe refuse it, corrupt its answer or queue its commit."""

    delay_s: float = 0.0
    before: str | None = None
    after: str | None = None
    retry_after_s: int = 1
    queued: str | None = None
    commit_after_s: float = 0.0


@dataclass
class _Armed:
    rule: FaultRule
    remaining: int | None = field(default=None)


class FaultInjector:
    """Thread-safe set of active rules.

    :param rules: initial rules (from the config or CLI).
    :param seed: seed of the decision RNG (default 0).
    """

    def __init__(self, rules: Iterable[FaultRule] = (), *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self.reset(rules, seed=seed)

    def reset(self, rules: Iterable[FaultRule], *, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)
            self._armed = [_Armed(rule, rule.count) for rule in rules]
            self._fired: Counter[str] = Counter()

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._armed.append(_Armed(rule, rule.count))

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def active(self) -> list[dict[str, Any]]:
        """The live rules with how many firings each has left (None = unlimited)."""
        with self._lock:
            return [{**asdict(a.rule), "remaining": a.remaining} for a in self._armed]

    def fired(self) -> dict[str, int]:
        """How often each mode fired since the last reset (clearing rules keeps the tally)."""
        with self._lock:
            return dict(self._fired)

    def _fires(self, armed: _Armed) -> bool:
        if armed.remaining == 0:
            return False
        if armed.rule.rate is not None and self._rng.random() >= armed.rule.rate:
            return False
        if armed.remaining is not None:
            armed.remaining -= 1
        self._fired[armed.rule.mode] += 1
        return True

    def decide(self, operation: str) -> FaultDecision:
        """Roll every matching rule once; latencies add up, the first refusal or corruption wins."""
        decision = FaultDecision()
        with self._lock:
            matching = [a for a in self._armed if a.rule.matches(operation)]
            for armed in (a for a in matching if a.rule.mode == LATENCY):
                if self._fires(armed):
                    jitter = self._rng.uniform(0.0, armed.rule.jitter_ms)
                    decision.delay_s += (armed.rule.latency_ms + jitter) / 1000.0
            for armed in (a for a in matching if a.rule.mode in BEFORE_PROCESSING):
                if self._fires(armed):
                    decision.before = armed.rule.mode
                    decision.retry_after_s = armed.rule.retry_after_s
                    break
            if decision.before is None:
                for armed in (a for a in matching if a.rule.mode in QUEUED):
                    if self._fires(armed):
                        decision.queued = armed.rule.mode
                        decision.commit_after_s = armed.rule.commit_after_s
                        break
            if decision.before is None and decision.queued is None:
                for armed in (a for a in matching if a.rule.mode in AFTER_PROCESSING):
                    if self._fires(armed):
                        decision.after = armed.rule.mode
                        break
            self._armed = [a for a in self._armed if a.remaining != 0]
        return decision


def parse_fault_spec(text: str) -> FaultRule:
    """Parse a CLI ``--fault`` value: a JSON object or ``key=value,key=value`` (e.g. ``mode=http_500,rate=0.1``)."""
    text = text.strip()
    if text.startswith("{"):
        return FaultRule.from_dict(json.loads(text))
    spec: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"fault: {part!r} is not key=value")
        key = key.strip()
        if key in ("rate", "latency_ms", "jitter_ms", "commit_after_s"):
            spec[key] = float(value)
        elif key in ("count", "retry_after_s"):
            spec[key] = int(value)
        else:
            spec[key] = value.strip()
    return FaultRule.from_dict(spec)
