"""Whole-batch validation before any load (DESIGN.md decision 5).

Every row is checked and every problem collected; a batch with any problem
raises :class:`BatchValidationError` carrying a row-level report (row number,
field, problem) and nothing is loaded. Checks: required columns, card id
format, ``Decimal`` amounts (whole paise), remarks, duplicate row keys, a
per-card cap and a batch-total cap, and optionally (one look-up per unknown
card) cards that EnKash does not know or that are blocked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_enkash.batch.arguments import check_batch_arguments as check_batch_arguments
from airflow_provider_enkash.batch.arguments import optional_cap
from airflow_provider_enkash.batch.rows import (
    CARD_ID_COLUMNS,
    READ_PROBLEM,
    ROW_NUMBER,
    BatchRow,
    number_rows,
)
from airflow_provider_enkash.exceptions import (
    EnKashBusinessError,
    EnKashValidationError,
)
from airflow_provider_enkash.models import (
    MAX_AMOUNT,
    optional_text,
    parse_amount,
    require_id,
    require_text,
)

if TYPE_CHECKING:
    from airflow_provider_enkash.hooks.enkash import EnKashHook

REPORT_LINES = 50
ROW_KEY_MAX_LENGTH = 255
# Card states that cannot take a load. The sandbox and the block codes of REFERENCE.md section 7.
UNLOADABLE_CARD_STATES = frozenset({"BL", "L", "BLOCKED", "LOCKED", "CLOSED", "INACTIVE", "EXPIRED"})


@dataclass(frozen=True)
class RowProblem:
    """One problem in a batch: ``row_number`` 0 means the batch as a whole."""

    row_number: int
    field: str
    problem: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "row_number": self.row_number,
            "field": self.field,
            "problem": self.problem,
        }

    def __str__(self) -> str:
        where = "batch" if self.row_number == 0 else f"row {self.row_number}"
        return f"{where}: {self.field}: {self.problem}"


class BatchValidationError(EnKashValidationError, AirflowFailException):
    """The batch has problems; nothing was loaded. ``problems`` is the full row-level report.

    Also an ``AirflowFailException``: the task fails without retries, since retrying cannot fix the input.
    """

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        lines = [str(p) for p in problems[:REPORT_LINES]]
        more = len(problems) - len(lines)
        if more:
            lines.append(f"... and {more} more")
        super().__init__(
            "rows",
            f"{len(problems)} problem(s), nothing loaded:\n  " + "\n  ".join(lines),
        )


def _card_id_of(raw: Mapping[str, Any]) -> Any:
    for column in CARD_ID_COLUMNS:
        if raw.get(column) not in (None, ""):
            return raw[column]
    return None


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _row_number(value: Any) -> int | None:
    """A row number given with the row (e.g. an XCom row), or None when it is not a whole number >= 1."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _check_row(
    raw: Mapping[str, Any], position: int, problems: list[RowProblem], max_load_amount: Decimal
) -> BatchRow | None:
    number = _row_number(raw.get(ROW_NUMBER, position))
    if number is None:
        problems.append(
            RowProblem(position, ROW_NUMBER, f"{raw.get(ROW_NUMBER)!r} is not a whole number >= 1")
        )
        return None
    if READ_PROBLEM in raw:
        field, problem = raw[READ_PROBLEM]
        problems.append(RowProblem(number, field, problem))
        return None
    found = len(problems)
    card_id = amount = row_key = remarks = None
    try:
        card_id = require_id(_card_id_of(raw), field="enkash_card_id")
    except EnKashValidationError as exc:
        problems.append(RowProblem(number, "enkash_card_id", exc.problem))
    try:
        amount = parse_amount(_blank_to_none(raw.get("amount")), field="amount", maximum=max_load_amount)
    except EnKashValidationError as exc:
        problems.append(RowProblem(number, "amount", exc.problem))
    reference = _blank_to_none(raw.get("reference"))
    try:
        row_key = (
            card_id
            if reference is None
            else require_text(str(reference), field="reference", max_length=ROW_KEY_MAX_LENGTH)
        )
    except EnKashValidationError as exc:
        problems.append(RowProblem(number, "reference", exc.problem))
    try:
        remarks = optional_text(_blank_to_none(raw.get("remarks")), field="remarks")
    except EnKashValidationError as exc:
        problems.append(RowProblem(number, "remarks", exc.problem))
    if len(problems) > found or card_id is None or amount is None or row_key is None:
        return None
    return BatchRow(
        row_number=number,
        row_key=row_key,
        enkash_card_id=card_id,
        amount=amount,
        remarks=remarks,
    )


def validate_rows(
    raw_rows: Iterable[Mapping[str, Any]],
    *,
    max_amount_per_card: Decimal | str | int | None = None,
    max_batch_total: Decimal | str | int | None = None,
    max_rows: int | None = None,
    max_load_amount: Decimal = MAX_AMOUNT,
) -> list[BatchRow]:
    """Check a whole batch and return its rows, or raise :class:`BatchValidationError` listing every problem.

    :param raw_rows: row dicts as returned by the readers of :mod:`~airflow_provider_enkash.batch.rows`
        (rows without a ``row_number`` are numbered from 1 in order).
    :param max_amount_per_card: largest total in rupees one card may receive in this batch (default no cap).
    :param max_batch_total: largest total in rupees of the whole batch (default no cap).
    :param max_rows: most rows accepted in one batch (default no limit).
    :param max_load_amount: largest amount of one row, rupees: the connection's ``max_load_amount``
        (default ₹1 crore).
    """
    per_card_cap = optional_cap(max_amount_per_card, "max_amount_per_card")
    total_cap = optional_cap(max_batch_total, "max_batch_total")
    raw = number_rows(raw_rows)
    problems: list[RowProblem] = []
    if not raw:
        raise BatchValidationError([RowProblem(0, "rows", "the batch is empty")])
    if max_rows is not None and len(raw) > max_rows:
        problems.append(RowProblem(0, "rows", f"{len(raw)} rows; at most {max_rows} are allowed per batch"))
    checked = (_check_row(r, position, problems, max_load_amount) for position, r in enumerate(raw, start=1))
    rows = [row for row in checked if row is not None]

    first_of_key: dict[str, int] = {}
    for row in rows:
        if row.row_key in first_of_key:
            problems.append(
                RowProblem(
                    row.row_number,
                    "reference",
                    f"duplicate row key {row.row_key!r} (first at row {first_of_key[row.row_key]}); "
                    "give each load of the same card its own reference",
                )
            )
        else:
            first_of_key[row.row_key] = row.row_number

    per_card: dict[str, list[BatchRow]] = defaultdict(list)
    for row in rows:
        per_card[row.enkash_card_id].append(row)
    if per_card_cap is not None:
        for card_id, card_rows in per_card.items():
            card_total = sum((r.amount for r in card_rows), Decimal(0))
            if card_total > per_card_cap:
                problems.extend(
                    RowProblem(
                        r.row_number,
                        "amount",
                        f"card {card_id} would receive {card_total} in this batch; the cap is {per_card_cap}",
                    )
                    for r in card_rows
                )
    total = sum((r.amount for r in rows), Decimal(0))
    if total_cap is not None and total > total_cap:
        problems.append(RowProblem(0, "amount", f"the batch totals {total}; the cap is {total_cap}"))
    if problems:
        raise BatchValidationError(sorted(problems, key=lambda p: p.row_number))
    return rows


def _card_state(record: Mapping[str, Any]) -> str | None:
    status = record.get("cardStatus")
    if isinstance(status, Mapping):
        status = status.get("label") or status.get("code") or status.get("status")
    status = status or record.get("blockCode") or record.get("status")
    return None if status is None else str(status).upper()


def check_cards(hook: EnKashHook, rows: Iterable[BatchRow]) -> None:
    """Raise :class:`BatchValidationError` for rows whose card EnKash does not know or that cannot take a load.

    Reads the card account's card list once, then looks up individually only the cards missing from it
    (the list may be truncated). Read-only calls; nothing is loaded.
    """
    rows = list(rows)
    listing = hook.get_card_details()
    records = listing.get("data", []) if isinstance(listing, Mapping) else (listing or [])
    known = {
        str(r.get("enKashCardId") or r.get("enkashCardId")): r for r in records if isinstance(r, Mapping)
    }
    problems: list[RowProblem] = []
    for card_id in sorted({r.enkash_card_id for r in rows} - set(known)):
        try:
            found = hook.get_card_details(enkash_card_id=card_id)
        except EnKashBusinessError:
            continue
        data = found.get("data", []) if isinstance(found, Mapping) else (found or [])
        records = [r for r in data if isinstance(r, Mapping)]
        if records:
            known[card_id] = records[0]
    for row in rows:
        record = known.get(row.enkash_card_id)
        if record is None:
            problems.append(
                RowProblem(
                    row.row_number,
                    "enkash_card_id",
                    f"card {row.enkash_card_id} is not known to EnKash",
                )
            )
        elif (state := _card_state(record)) in UNLOADABLE_CARD_STATES:
            problems.append(
                RowProblem(
                    row.row_number,
                    "enkash_card_id",
                    f"card {row.enkash_card_id} is {state} and cannot be loaded",
                )
            )
    if problems:
        raise BatchValidationError(problems)
