"""Transaction search (``/transaction/all``): Get Transaction Details and Get All Transaction details.

Candidates come from the narrowest index (transaction ids or references, else
the card's or the account's seq array), cut to the date window by
``bisect``; only the remaining filters (status, DR/CR, amount range) scan, and
only returned rows are rendered. Results are in ``txnDate`` then id order.
At most ``max_records`` rows are returned (optionally a ``page`` of
``size``), silently; ``recordsCount`` is the number of matches (or of
returned rows when ``records_count`` is ``returned``).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

from airflow_provider_enkash.sandbox import clock
from airflow_provider_enkash.sandbox.config import SandboxConfig
from airflow_provider_enkash.sandbox.model import Account, to_paise, txn_seq
from airflow_provider_enkash.sandbox.state import State
from airflow_provider_enkash.sandbox.transactions import CREDIT

_EMPTY = array("q")


def page_bounds(config: SandboxConfig, page: int | None, size: int | None) -> tuple[int, int]:
    """The ``[start, stop)`` row range of ``page`` (0-based) of ``size`` rows, capped at ``max_records`` rows."""
    size = size if size is not None else config.max_records
    start = (page or 0) * size
    return start, start + min(size, config.max_records)


def _listed(body: dict[str, Any], one: str, many: str) -> list[str]:
    return ([body[one]] if body.get(one) else []) + list(body.get(many) or [])


def _slice(seqs: Sequence[int], lo: int, hi: int) -> Sequence[int]:
    return seqs[bisect_left(seqs, lo) : bisect_left(seqs, hi)]


def _card_ixs(state: State, body: dict[str, Any]) -> set[int] | None:
    """Card positions allowed by ``enKashCardId``/``userId`` (None = no card filter)."""
    allowed: set[int] | None = None
    if body.get("enKashCardId"):
        card = state.cards.get(body["enKashCardId"])
        allowed = {card.ix} if card else set()
    if body.get("userId"):
        of_user = {state.cards[c].ix for c in state.users.get(body["userId"], ())}
        allowed = of_user if allowed is None else allowed & of_user
    return allowed


def _candidates(
    state: State, body: dict[str, Any], account: Account, lo: int, hi: int
) -> tuple[Sequence[int], bool]:
    """Seqs to consider in ``[lo, hi)``, and whether they still need the account/card check."""
    txns = state.txns
    explicit: set[int] | None = None
    ids = _listed(body, "enKashTransactionId", "enKashTransactionIds")
    if state.config.ignore_transaction_ids:
        ids = [body["enKashTransactionId"]] if body.get("enKashTransactionId") else []
    if ids:
        explicit = {s for s in map(txn_seq, ids) if s is not None and 0 <= s < len(txns)}
    references = _listed(body, "pgReferenceNumber", "pgReferenceNumbers")
    if references:
        found = {s for r in references for s in txns.with_reference(r)}
        explicit = found if explicit is None else explicit & found
    if explicit is not None:
        return sorted(s for s in explicit if lo <= s < hi), True
    card_ixs = _card_ixs(state, body)
    if card_ixs is None:
        return _slice(txns.by_account.get(account.card_account_id, _EMPTY), lo, hi), False
    parts = [_slice(txns.by_card.get(ix, _EMPTY), lo, hi) for ix in sorted(card_ixs)]
    return (parts[0] if len(parts) == 1 else sorted(chain.from_iterable(parts))), True


def _filters(
    state: State, body: dict[str, Any], account: Account, check_owner: bool, now: int
) -> list[Callable[[int], bool]]:
    txns = state.txns
    tests: list[Callable[[int], bool]] = []
    if check_owner:
        card_ixs = _card_ixs(state, body)
        owned = {state.cards[c].ix for c in account.card_ids}
        allowed = owned if card_ixs is None else owned & card_ixs
        tests.append(lambda s: txns.card_ix[s] in allowed)
    if body.get("status"):
        renamed = {word: status for status, word in state.config.status_words.items()}
        wanted = renamed.get(body["status"], body["status"])
        tests.append(lambda s: txns.status(s, now)[0] == wanted)
    lag_ms = round(state.config.search_lag_s * 1000)
    if lag_ms:  # live transactions newer than the lag are not indexed yet
        tests.append(lambda s: s < txns.seeded or txns.t_ms[s] <= now - lag_ms)
    if body.get("cardTransactionType"):
        credit = body["cardTransactionType"] == "CR"
        tests.append(lambda s: bool(txns.flags[s] & CREDIT) == credit)
    if body.get("amountFrom") is not None:
        low = to_paise(body["amountFrom"])
        tests.append(lambda s: txns.amount[s] >= low)
    if body.get("amountTo") is not None:
        high = to_paise(body["amountTo"])
        tests.append(lambda s: txns.amount[s] <= high)
    return tests


def search_transactions(state: State, body: dict[str, Any], now: int) -> dict[str, Any]:
    """The ``{recordsCount, data}`` payload for a validated search body."""
    cfg = state.config
    account = state.account(body["companyId"], body["cardAccountId"])
    txns = state.txns
    if cfg.ignore_search_filters:
        body = {"companyId": body["companyId"], "cardAccountId": body["cardAccountId"]}
    start_ms = clock.parse_iso(body["txnDateFrom"]) if body.get("txnDateFrom") else None
    end_ms = clock.parse_iso(body["txnDateTo"]) if body.get("txnDateTo") else None
    lo, hi = txns.window(start_ms, end_ms, end_inclusive=cfg.date_to_inclusive)
    candidates, check_owner = _candidates(state, body, account, lo, hi)
    tests = _filters(state, body, account, check_owner, now)
    if cfg.ignore_paging:
        start, stop = page_bounds(cfg, None, None)
    else:
        start, stop = page_bounds(cfg, body.get("page"), body.get("size"))
    if tests:
        total, rows = 0, []
        for seq in candidates:
            if all(test(seq) for test in tests):
                if start <= total < stop:
                    rows.append(seq)
                total += 1
    else:
        total, rows = len(candidates), list(candidates[start:stop])
    data = []
    for seq in rows:
        card = state.card_list[txns.card_ix[seq]]
        data.append(
            _variant(
                cfg, txns.render(seq, now, cfg.timestamp_format, card, state.accounts[card.card_account_id])
            )
        )
    return {"recordsCount": total if cfg.records_count == "total" else len(data), "data": data}


def _variant(cfg: SandboxConfig, record: dict[str, Any]) -> dict[str, Any]:
    """The record as the configured variant shows it: the reference under another name, other status words."""
    if cfg.reference_field != "pgReferenceNumber":
        record[cfg.reference_field] = record.pop("pgReferenceNumber")
    record["status"] = cfg.status_words.get(record["status"], record["status"])
    return record
