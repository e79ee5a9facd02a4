"""Identifier and timestamp formats."""

from __future__ import annotations

import random
import re

from airflow_provider_enkash.sandbox import clock, model


def test_enkash_and_iso_timestamps():
    ms = clock.parse_iso("2025-01-23T11:08:36.505Z")
    assert clock.render(ms, "enkash") == "Jan 23, 2025 4:38:36 PM"  # IST, as the portal shows
    assert clock.render(ms, "iso") == "2025-01-23T11:08:36.505Z"
    assert clock.render(clock.parse_iso("2025-01-23T18:30:00Z"), "enkash") == "Jan 24, 2025 12:00:00 AM"
    assert clock.parse_iso("2025-01-23T11:08:36.505") == ms  # naive means UTC


def test_transaction_ids_round_trip_and_sort_like_their_sequence():
    ids = [model.txn_id(seq) for seq in (0, 1, 35, 36, 999_999, 10**7)]
    assert all(re.fullmatch(r"ECTR[A-Z0-9]{9}", i) for i in ids)
    assert ids == sorted(ids)
    assert [model.txn_seq(i) for i in ids] == [0, 1, 35, 36, 999_999, 10**7]
    assert model.txn_seq("ECTRSZJ8CRJ2") is None and model.txn_seq(42) is None
    assert model.seed_reference_seq(model.seed_reference(77)) == 77


def test_card_numbers_pass_luhn_and_mask():
    rng = random.Random(1)
    for _ in range(50):
        number = model.card_number(rng)
        digits = [int(d) for d in reversed(number)]
        total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
        assert len(number) == 16 and total % 10 == 0
    assert model.masked("6083261234567890") == "XXXX XXXX XXXX 7890"
