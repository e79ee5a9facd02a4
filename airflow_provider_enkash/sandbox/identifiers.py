"""Identifier formats of the sandbox, drawn from a seeded RNG (REFERENCE.md section 6).

Transaction ids encode their sequence number: ``ECTR`` + 9 base-36 digits,
fixed width, so their string order is their creation order and an id maps
back to its record without an index. Seeded loads carry the reference
``SEED`` + the same 9 digits.
"""

from __future__ import annotations

import random

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TXN_PREFIX = "ECTR"
_SEED_REF_PREFIX = "SEED"
_TXN_DIGITS = 9
_TXN_BASE = 10 * 36**8  # ids start at ECTRA00000000
CARD_BIN = "608326"  # a RuPay-like issuer prefix


def code(rng: random.Random, length: int) -> str:
    """``length`` random upper-case letters and digits."""
    return "".join(rng.choices(ALNUM, k=length))


def digits(rng: random.Random, length: int) -> str:
    return "".join(rng.choices("0123456789", k=length))


def _base36(number: int) -> str:
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(ALNUM[rest])
    return "".join(reversed(out)).rjust(_TXN_DIGITS, "0")


def txn_id(seq: int) -> str:
    """The ``enKashCardTransactionId`` of transaction number ``seq``."""
    return _TXN_PREFIX + _base36(_TXN_BASE + seq)


def _decode(text: str, prefix: str) -> int | None:
    if not isinstance(text, str) or len(text) != len(prefix) + _TXN_DIGITS or not text.startswith(prefix):
        return None
    try:
        return int(text[len(prefix) :], 36) - _TXN_BASE
    except ValueError:
        return None


def txn_seq(text: str) -> int | None:
    """The sequence number behind a transaction id, or None when it is not one of ours."""
    return _decode(text, _TXN_PREFIX)


def seed_reference(seq: int) -> str:
    """The ``pgReferenceNumber`` of seeded load number ``seq``."""
    return _SEED_REF_PREFIX + txn_id(seq)[len(_TXN_PREFIX) :]


def seed_reference_seq(text: str) -> int | None:
    return _decode(text, _SEED_REF_PREFIX)


def card_number(rng: random.Random) -> str:
    """A 16-digit card number with a valid Luhn check digit."""
    body = CARD_BIN + digits(rng, 9)
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def masked(number: str) -> str:
    """``XXXX XXXX XXXX 1234``."""
    return "XXXX XXXX XXXX " + number[-4:]
