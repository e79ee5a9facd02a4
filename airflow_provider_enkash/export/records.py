"""One EnKash transaction record -> one typed, flat row (masked card number only).

The record fields are those of REFERENCE.md section 9.16. Nested
``txnDetails`` is flattened into ``txn_*`` columns. Amounts are ``Decimal``
rupees (plus ``principal_amount_paise``, exact in every database, since
SQLite keeps NUMERIC as a binary float); timestamps are aware UTC datetimes.
A card number that arrives unmasked is masked to its last four digits before
it goes anywhere.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from airflow_provider_enkash.export.errors import EnKashRecordError
from airflow_provider_enkash.export.timestamps import IST, parse_timestamp
from airflow_provider_enkash.export.windows import Window

ID_KEYS = ("enKashCardTransactionId", "enkashCardTransactionId", "enkashCardTxnId")
_MASK_CHARS = re.compile(r"[Xx*•]")
_NON_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class Column:
    """A column of the export: its name, its kind (``id``, ``text``, ``amount`` (INR, 2 decimals),
    ``foreign_amount``, ``paise``, ``card``, ``timestamp``, ``export_time``) and the record field it comes from (``txnDetails.mcc`` for
    nested ones). The first column is the key; the last is the export time."""

    name: str
    kind: str
    source: str | None


COLUMNS: tuple[Column, ...] = (
    Column("enkash_transaction_id", "id", "enKashCardTransactionId"),
    Column("txn_date", "timestamp", "txnDate"),
    Column("created_on", "timestamp", "createdOn"),
    Column("modified_on", "timestamp", "modifiedOn"),
    Column("status", "text", "status"),
    Column("card_transaction_type", "text", "cardTransactionType"),
    Column("transaction_type", "text", "type"),
    Column("principal_amount", "amount", "principalAmount"),
    Column("principal_amount_paise", "paise", "principalAmount"),
    Column("currency", "text", "currency"),
    Column("balance", "amount", "balance"),
    Column("fcy_amount", "foreign_amount", "fcyAmount"),
    Column("fcy_currency", "text", "fcyCurrency"),
    Column("enkash_card_id", "id", "enkashCardId"),
    Column("masked_card", "card", "maskedCard"),
    Column("card_kit_number", "text", "cardKitNumber"),
    Column("card_holder_name", "text", "cardHolderName"),
    Column("user_id", "id", "userId"),
    Column("company_id", "id", "companyId"),
    Column("company_name", "text", "companyName"),
    Column("pg_reference_number", "text", "pgReferenceNumber"),
    Column("description", "text", "description"),
    Column("txn_details_id", "text", "txnDetails.id"),
    Column("txn_ref_no", "text", "txnDetails.txnRefNo"),
    Column("merchant_name", "text", "txnDetails.merchantName"),
    Column("txn_details_transaction_type", "text", "txnDetails.transactionType"),
    Column("mcc", "text", "txnDetails.mcc"),
    Column("channel", "text", "txnDetails.channel"),
    Column("retrieval_ref_no", "text", "txnDetails.retrievalRefNo"),
    Column("trace_no", "text", "txnDetails.traceNo"),
    Column("txn_currency", "text", "txnDetails.txnCurrency"),
    Column("network", "text", "txnDetails.network"),
    Column("transaction_fees", "amount", "txnDetails.transactionFees"),
    Column("exported_at", "export_time", None),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
KEY_COLUMN = "enkash_transaction_id"
TIME_COLUMN = "txn_date"
_TXN_DATE = COLUMN_NAMES.index(TIME_COLUMN)


def transaction_id(record: Mapping[str, Any]) -> str:
    """The record's EnKash transaction id (the portal spells it three ways)."""
    for key in ID_KEYS:
        value = record.get(key)
        if value not in (None, ""):
            return str(value)
    raise EnKashRecordError(
        transaction_id=None,
        field=ID_KEYS[0],
        problem="missing: a transaction needs an id",
    )


def mask_card_number(value: Any) -> str | None:
    """The masked card number as sent; an unmasked one (12+ digits, no mask characters) is cut to its last 4."""
    if value in (None, ""):
        return None
    if value.__class__ is str:
        return _mask_text(value)
    return _mask_text(str(value))


@functools.lru_cache(maxsize=4096)  # a card's transactions repeat its masked number
def _mask_text(text: str) -> str:
    digits = _NON_DIGITS.sub("", text)
    if len(digits) >= 12 and not _MASK_CHARS.search(text):
        return "XXXX XXXX XXXX " + digits[-4:]
    return text


def _text(value: Any, txn_id: str, field: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        raise EnKashRecordError(
            transaction_id=txn_id,
            field=field,
            problem=f"expected a scalar, got {type(value).__name__}",
        )
    return str(value)


def _amount(value: Any, txn_id: str, field: str) -> Decimal | None:
    if value.__class__ is Decimal and value.is_finite():
        return value
    if value is None or value == "":
        return None
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise EnKashRecordError(
            transaction_id=txn_id, field=field, problem=f"{value!r} is not an amount"
        ) from None
    if isinstance(value, bool) or not amount.is_finite():
        raise EnKashRecordError(transaction_id=txn_id, field=field, problem=f"{value!r} is not an amount")
    return amount


@functools.lru_cache(maxsize=4096)
def _parse_text_timestamp(text: str, local_tz: tzinfo) -> datetime | None:
    return parse_timestamp(
        text, local_tz=local_tz
    )  # cached: createdOn usually equals txnDate, and busy seconds repeat


def _timestamp(value: Any, txn_id: str, field: str, local_tz: tzinfo = IST) -> datetime | None:
    try:
        return _parse_text_timestamp(value, local_tz) if value.__class__ is str else parse_timestamp(value)
    except (ValueError, TypeError) as exc:
        raise EnKashRecordError(transaction_id=txn_id, field=field, problem=str(exc)) from None


def _paise(value: Any, txn_id: str, field: str) -> int | None:
    amount = _amount(value, txn_id, field)
    if amount is None:
        return None
    paise = amount.scaleb(2)
    if paise != paise.to_integral_value():
        raise EnKashRecordError(transaction_id=txn_id, field=field, problem=f"{amount} is not whole paise")
    return int(paise)


_TEXT_KINDS = ("id", "text")
_MIDDLE = COLUMNS[1:-1]  # between the key and exported_at
# (read from txnDetails?, field) per middle column; text columns only need a type check, the rest a converter
_SOURCES = [
    (s.startswith("txnDetails."), s.removeprefix("txnDetails.")) for s in (c.source or "" for c in _MIDDLE)
]


def _at(*kinds: str) -> list[tuple[int, str]]:
    """``(index in _MIDDLE, record field)`` of the middle columns of these kinds."""
    return [(i, _SOURCES[i][1]) for i, c in enumerate(_MIDDLE) if c.kind in kinds]


_TEXT_AT = _at(*_TEXT_KINDS)
_TIMESTAMP_AT = _at("timestamp")
_AMOUNT_AT = _at("amount", "foreign_amount")
_PAISE_AT = _at("paise")
_CARD_AT = [i for i, _ in _at("card")]
# Gathering in C: the record's fields, then txnDetails' fields (the middle columns are in that order).
_TOP_KEYS = [key for nested, key in _SOURCES if not nested]
_NESTED_KEYS = [key for nested, key in _SOURCES if nested]
_TOP_FIELDS = operator.itemgetter(*_TOP_KEYS)
_NESTED_FIELDS = operator.itemgetter(*_NESTED_KEYS)


def _fields(record: Mapping[str, Any], details: Mapping[str, Any]) -> list[Any]:
    """The middle columns' raw values, None for a field the record lacks."""
    try:
        return [*_TOP_FIELDS(record), *_NESTED_FIELDS(details)]
    except KeyError:  # a record without some field: the slower lookup that defaults to None
        return [*map(record.get, _TOP_KEYS), *map(details.get, _NESTED_KEYS)]


_TEXTS = operator.itemgetter(*(i for i, _ in _TEXT_AT))
_PLAIN_TEXT_TYPES = frozenset({str, type(None)})


def to_row(record: Mapping[str, Any], *, exported_at: datetime, local_tz: tzinfo = IST) -> tuple[Any, ...]:
    """The record as a tuple in :data:`COLUMNS` order.

    :param exported_at: the export's timestamp (aware UTC), stored in ``exported_at``.
    :param local_tz: zone of zoneless ``Jan 23, 2025 4:38:36 PM`` timestamps (the connection's
        ``response_timezone``; default IST).
    :raises EnKashRecordError: no id, or a field that cannot be read (names the field and the id).
    """
    txn_id = transaction_id(record)
    details = record.get("txnDetails") or {}
    if not isinstance(details, Mapping):
        raise EnKashRecordError(transaction_id=txn_id, field="txnDetails", problem="expected an object")
    values = _fields(record, details)
    texts = _TEXTS(values)
    if "" in texts or not _PLAIN_TEXT_TYPES.issuperset(map(type, texts)):
        for i, field in _TEXT_AT:  # an empty string, or a value that is not text (e.g. txnDetails.id)
            value = values[i]
            if value is not None and (value.__class__ is not str or not value):
                values[i] = _text(value, txn_id, field)
    # Per kind of column, without a call where none is needed (amounts the JSON parser made Decimal).
    for i, field in _TIMESTAMP_AT:
        value = values[i]
        if value is not None:
            values[i] = _timestamp(value, txn_id, field, local_tz)
    for i, field in _AMOUNT_AT:
        value = values[i]
        if value is not None and (value.__class__ is not Decimal or not value.is_finite()):
            values[i] = _amount(value, txn_id, field)
    for i, field in _PAISE_AT:
        values[i] = _paise(values[i], txn_id, field)
    for i in _CARD_AT:
        values[i] = mask_card_number(values[i])
    return (txn_id, *values, exported_at)


@dataclass
class RowStats:
    """What turning records into rows did: rows kept, repeats skipped, records outside the window dropped."""

    rows: int = 0
    repeats: int = 0
    outside_window: int = 0
    next_window: int = 0

    def to_xcom(self) -> dict[str, int]:
        return dict(self.__dict__)


_NEXT_WINDOW_SLACK = timedelta(seconds=1)


def window_rows(
    batches: Iterable[Sequence[Mapping[str, Any]]],
    window: Window,
    *,
    exported_at: datetime,
    stats: RowStats,
    local_tz: tzinfo = IST,
) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of ``window``, batch by batch, each transaction once.

    A record repeated within a batch or from the previous batch (an API that reads ``txnDateTo``
    inclusively returns a boundary record twice) is skipped, keeping memory to two batches of ids.
    A record within one second at or after the window's end is the next window's (an API reading
    ``txnDateTo`` inclusively, at second precision) and is skipped (``next_window``). Any other
    record whose ``txnDate`` parses outside the window is kept and counted (``outside_window``):
    EnKash returned it for this window, so dropping it would lose it if the assumed time zone of
    its timestamp is wrong; the upsert makes keeping it harmless.
    """
    lower, upper = (
        window.start - timedelta(microseconds=window.start.microsecond),
        window.end,
    )
    previous: set[str] = set()
    for batch in batches:
        current: set[str] = set()
        rows = []
        for record in batch:
            row = to_row(record, exported_at=exported_at, local_tz=local_tz)
            txn_id, when = row[0], row[_TXN_DATE]
            if txn_id in current or txn_id in previous:
                stats.repeats += 1
                continue
            current.add(txn_id)
            if when is not None and not lower <= when < upper:
                if upper <= when < upper + _NEXT_WINDOW_SLACK:
                    stats.next_window += 1
                    continue
                stats.outside_window += 1
            rows.append(row)
        stats.rows += len(rows)
        previous = current
        if rows:
            yield rows
