"""Pure functions of the export: timestamps, windows, record flattening (no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.export.errors import EnKashRecordError
from airflow_provider_enkash.export.records import (
    COLUMN_NAMES,
    RowStats,
    mask_card_number,
    to_row,
    window_rows,
)
from airflow_provider_enkash.export.timestamps import format_utc, parse_timestamp
from airflow_provider_enkash.export.windows import Window, export_window

UTC = UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2025-01-24T08:47:01.505Z",
            datetime(2025, 1, 24, 8, 47, 1, 505000, tzinfo=UTC),
        ),
        (
            "2025-01-24T08:47:01",
            datetime(2025, 1, 24, 8, 47, 1, tzinfo=UTC),
        ),  # naive ISO is UTC
        ("2025-01-24T14:17:01+05:30", datetime(2025, 1, 24, 8, 47, 1, tzinfo=UTC)),
        (
            "Jan 23, 2025 4:38:36 PM",
            datetime(2025, 1, 23, 11, 8, 36, tzinfo=UTC),
        ),  # IST -> UTC
        (
            "Jan 1, 2025 12:00:00 AM",
            datetime(2024, 12, 31, 18, 30, tzinfo=UTC),
        ),  # midnight IST, previous UTC day
        (
            "Jan 1, 2025 12:05:09 PM",
            datetime(2025, 1, 1, 6, 35, 9, tzinfo=UTC),
        ),  # noon is PM
        ("Dec 31, 2024 11:59:59 PM", datetime(2024, 12, 31, 18, 29, 59, tzinfo=UTC)),
        (None, None),
        ("", None),
    ],
)
def test_parse_timestamp_reads_both_documented_formats_into_utc(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Foo 1, 2025 1:00:00 PM",
        "Jan 32, 2025 1:00:00 PM",
        "Jan 1, 2025 13:00:00 PM",
        "yesterday",
        "2025-13-01",
    ],
)
def test_parse_timestamp_rejects_other_text_and_quotes_it(text):
    with pytest.raises(ValueError, match="2025|yesterday"):
        parse_timestamp(text)


def test_format_utc_is_fixed_width_and_sorts_like_time():
    times = [
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(2025, 1, 1, 0, 0, 0, 500000, tzinfo=UTC),
        datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC),
    ]
    texts = [format_utc(t) for t in times]
    assert texts == [
        "2025-01-01T00:00:00.000Z",
        "2025-01-01T00:00:00.500Z",
        "2025-01-01T00:00:01.000Z",
    ]
    assert sorted(texts) == texts and {len(t) for t in texts} == {24}


def test_export_window_utc_days_with_lookback():
    window = export_window(
        datetime(2025, 1, 23, tzinfo=UTC),
        datetime(2025, 1, 24, tzinfo=UTC),
        lookback=timedelta(days=1),
    )
    assert (window.start, window.end) == (
        datetime(2025, 1, 22, tzinfo=UTC),
        datetime(2025, 1, 24, tzinfo=UTC),
    )
    assert window.label() == "20250122T000000Z_20250124T000000Z"


def test_export_window_ist_days():
    window = export_window(
        datetime(2025, 1, 23, tzinfo=UTC),
        datetime(2025, 1, 24, tzinfo=UTC),
        day_boundaries="Asia/Kolkata",
    )
    assert (window.start, window.end) == (
        datetime(2025, 1, 22, 18, 30, tzinfo=UTC),
        datetime(2025, 1, 23, 18, 30, tzinfo=UTC),
    )


def test_export_window_as_is_for_sub_daily_intervals_and_refuses_bad_input():
    start = datetime(2025, 1, 23, 5, tzinfo=UTC)
    assert export_window(start, start + timedelta(hours=1), day_boundaries=None) == Window(
        start, start + timedelta(hours=1)
    )
    with pytest.raises(EnKashValidationError, match="day_boundaries"):
        export_window(start, start + timedelta(hours=1))
    with pytest.raises(EnKashValidationError, match="day_boundaries"):
        export_window(start, start + timedelta(days=1), day_boundaries="Mars/Olympus")
    with pytest.raises(EnKashValidationError, match="lookback"):
        export_window(start, start + timedelta(days=1), lookback=timedelta(hours=-1))
    with pytest.raises(EnKashValidationError, match="start"):
        Window(datetime(2025, 1, 1), datetime(2025, 1, 2, tzinfo=UTC))
    with pytest.raises(EnKashValidationError, match="end"):
        Window(start, start)


RECORD = {
    "enKashCardTransactionId": "ECTR000000001",
    "maskedCard": "XXXX XXXX XXXX 8867",
    "enkashCardId": "EKCMB7KAEW",
    "principalAmount": Decimal("250.75"),
    "balance": 1000,
    "status": "SUCCESS",
    "cardTransactionType": "DR",
    "type": "SALE",
    "txnDate": "Jan 23, 2025 4:38:36 PM",
    "createdOn": "Jan 23, 2025 4:38:36 PM",
    "modifiedOn": "2025-01-23T11:08:40.120Z",
    "txnDetails": {
        "id": 17,
        "mcc": 5411,
        "merchantName": "Kirana",
        "transactionFees": Decimal("1.50"),
    },
}


def test_to_row_flattens_and_types_a_record():
    exported = datetime(2025, 1, 24, tzinfo=UTC)
    row = dict(zip(COLUMN_NAMES, to_row(RECORD, exported_at=exported), strict=False))
    assert row["enkash_transaction_id"] == "ECTR000000001"
    assert row["txn_date"] == datetime(2025, 1, 23, 11, 8, 36, tzinfo=UTC)
    assert row["modified_on"] == datetime(2025, 1, 23, 11, 8, 40, 120000, tzinfo=UTC)
    assert (row["principal_amount"], row["principal_amount_paise"], row["balance"]) == (
        Decimal("250.75"),
        25075,
        Decimal(1000),
    )
    assert (
        row["txn_details_id"],
        row["mcc"],
        row["merchant_name"],
        row["transaction_fees"],
    ) == ("17", "5411", "Kirana", Decimal("1.50"))
    assert (row["masked_card"], row["exported_at"], row["description"]) == (
        "XXXX XXXX XXXX 8867",
        exported,
        None,
    )


def test_an_unmasked_card_number_never_leaves_to_row():
    row = dict(
        zip(
            COLUMN_NAMES,
            to_row(
                {**RECORD, "maskedCard": "4111 1111 1111 1234"},
                exported_at=datetime.now(UTC),
            ),
            strict=False,
        )
    )
    assert row["masked_card"] == "XXXX XXXX XXXX 1234"
    assert mask_card_number("2004 01XX XXXX XX87") == "2004 01XX XXXX XX87"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"enKashCardTransactionId": None}, "enKashCardTransactionId"),
        ({"principalAmount": "12,00"}, "principalAmount"),
        ({"principalAmount": Decimal("1.005")}, "principalAmount"),
        ({"txnDate": "tomorrow"}, "txnDate"),
        ({"status": {"code": 1}}, "status"),
        ({"txnDetails": "x"}, "txnDetails"),
    ],
)
def test_unreadable_records_fail_naming_the_field_and_transaction(change, field):
    with pytest.raises(EnKashRecordError, match=field) as info:
        to_row({**RECORD, **change}, exported_at=datetime.now(UTC))
    assert info.value.field == field


def test_window_rows_skip_repeats_and_the_next_windows_boundary_but_keep_other_strays():
    window = Window(datetime(2025, 1, 23, tzinfo=UTC), datetime(2025, 1, 24, tzinfo=UTC))

    def record(txn_id: str, when: str) -> dict:
        return {**RECORD, "enKashCardTransactionId": txn_id, "txnDate": when}

    batches = [
        [
            record("A", "2025-01-23T00:00:00.000Z"),
            record("B", "2025-01-23T10:00:00.000Z"),
            record("B", "2025-01-23T10:00:00.000Z"),
        ],
        [
            record("B", "2025-01-23T10:00:00.000Z"),
            record("C", "2025-01-24T00:00:00.000Z"),
            record("D", "2025-01-22T23:59:59.999Z"),
        ],
    ]
    stats = RowStats()
    rows = [
        row[0] for batch in window_rows(batches, window, exported_at=window.end, stats=stats) for row in batch
    ]
    assert rows == ["A", "B", "D"]  # D: returned for this window, kept though it parses 1 ms early
    assert stats.to_xcom() == {"rows": 3, "repeats": 2, "outside_window": 1, "next_window": 1}


def test_zoneless_timestamps_are_read_in_the_configured_response_timezone():
    from zoneinfo import ZoneInfo

    from airflow_provider_enkash.export.records import COLUMNS, to_row

    record = {"enKashCardTransactionId": "ECTR000000001", "txnDate": "Jan 23, 2025 4:38:36 PM"}
    at = [c.name for c in COLUMNS].index("txn_date")
    now = datetime(2025, 2, 1, tzinfo=UTC)
    ist = to_row(record, exported_at=now)[at]
    utc = to_row(record, exported_at=now, local_tz=ZoneInfo("UTC"))[at]
    assert ist == datetime(2025, 1, 23, 11, 8, 36, tzinfo=UTC)
    assert utc == datetime(2025, 1, 23, 16, 38, 36, tzinfo=UTC)
