"""The sandbox's side of EnKash's payload encryption and JSON, written from the API reference alone.

AES-128-ECB, PKCS#7 padding, standard base64, key derived from the client secret
(``sha256``: first 16 bytes of SHA-256, the documented NodeJS sample; ``sha1`` and
``raw`` are the plausible alternatives). Kept apart from the provider's crypto on
purpose: the sandbox is an independent oracle, so a mistake in the client's
cipher fails the wire tests instead of being mirrored here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_DERIVATIONS = ("sha256", "sha1", "raw")
WRAPPER_KEYS = ("request", "response")


class Undecryptable(Exception):
    """A body that looked encrypted did not decrypt to JSON with the configured key."""


def key_for(secret: str, key_derivation: str) -> bytes:
    """The 16-byte AES key of ``secret`` under ``key_derivation`` (``raw`` needs a 16-byte secret)."""
    raw = secret.encode("utf-8")
    if key_derivation == "sha256":
        return hashlib.sha256(raw).digest()[:16]
    if key_derivation == "sha1":
        return hashlib.sha1(raw).digest()[:16]  # noqa: S324 - a key derivation EnKash may use
    if key_derivation == "raw" and len(raw) == 16:
        return raw
    raise ValueError(f"key_derivation {key_derivation!r} cannot key a {len(raw)}-byte secret")


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(obj: Any) -> str:
    """Compact JSON, Decimal as a JSON number (as EnKash's samples serialise)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=_json_number)


def loads(text: str | bytes) -> Any:
    """Parse JSON with fractional numbers as Decimal."""
    return json.loads(text, parse_float=Decimal)


def seal(obj: Any, secret: str, key_derivation: str) -> dict[str, str]:
    """``{"request": base64(AES-128-ECB(key, PKCS#7(JSON)))}``."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(dumps(obj).encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key_for(secret, key_derivation)), modes.ECB()).encryptor()  # noqa: S305
    return {"request": base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")}


def is_wrapped(body: Any) -> bool:
    """True for ``{"request": "<text>"}`` (or ``response``): one key holding a string."""
    return (
        isinstance(body, dict)
        and len(body) == 1
        and next(iter(body)) in WRAPPER_KEYS
        and isinstance(next(iter(body.values())), str)
    )


def unseal(body: dict[str, str], secret: str, key_derivation: str) -> Any:
    """The JSON inside a wrapper; :class:`Undecryptable` when it does not decrypt to JSON."""
    try:
        data = base64.b64decode(next(iter(body.values())), validate=True)
        decryptor = Cipher(algorithms.AES(key_for(secret, key_derivation)), modes.ECB()).decryptor()  # noqa: S305
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return loads((unpadder.update(padded) + unpadder.finalize()).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Undecryptable(type(exc).__name__) from None
