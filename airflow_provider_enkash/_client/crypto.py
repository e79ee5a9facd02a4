"""EnKash payload encryption: AES-128-ECB with PKCS#7 padding, standard base64.

The key is derived from the client secret. EnKash documents one derivation
(its NodeJS sample: the first 16 bytes of SHA-256 of the UTF-8 secret); the
other language samples could not be read, so ``sha1`` and ``raw`` are offered
as configurable alternatives (REFERENCE.md section 4).

Errors never echo the key, the secret or any plaintext.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from airflow_provider_enkash.exceptions import EnKashCryptoError

KEY_DERIVATIONS = ("sha256", "sha1", "raw")
ENVELOPE_KEY = "request"
_BLOCK_BITS = 128


@functools.lru_cache(maxsize=32)
def derive_key(secret: str, key_derivation: str = "sha256") -> bytes:
    """Return the 16-byte AES key for ``secret``.

    :param secret: the EnKash client secret.
    :param key_derivation: ``sha256`` (default, documented), ``sha1`` or
        ``raw`` (the secret itself, which must be exactly 16 bytes).
    """
    raw = secret.encode("utf-8")
    if key_derivation == "sha256":
        return hashlib.sha256(raw).digest()[:16]
    if key_derivation == "sha1":
        return hashlib.sha1(raw).digest()[:16]  # noqa: S324 - a key derivation the portal may use, not a signature
    if key_derivation == "raw":
        if len(raw) != 16:
            raise EnKashCryptoError(f"key_derivation 'raw' needs a 16-byte secret, got {len(raw)} bytes")
        return raw
    raise EnKashCryptoError(
        f"key_derivation must be one of {', '.join(KEY_DERIVATIONS)}, got {key_derivation!r}"
    )


@functools.lru_cache(maxsize=32)
def _cipher(secret: str, key_derivation: str) -> Cipher[modes.ECB]:
    """The AES-128-ECB cipher for ``secret`` (reusable: each call to it makes a fresh context)."""
    return Cipher(algorithms.AES(derive_key(secret, key_derivation)), modes.ECB())  # noqa: S305 - EnKash's protocol


def encrypt_text(text: str, secret: str, *, key_derivation: str = "sha256") -> str:
    """Encrypt UTF-8 ``text`` and return standard base64 (with ``=`` padding)."""
    padder = padding.PKCS7(_BLOCK_BITS).padder()
    padded = padder.update(text.encode("utf-8")) + padder.finalize()
    encryptor = _cipher(secret, key_derivation).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def decrypt_text(ciphertext: str | bytes, secret: str, *, key_derivation: str = "sha256") -> str:
    """Decrypt standard-base64 ``ciphertext`` (text or ASCII bytes) back to text.

    :raises EnKashCryptoError: not base64, not whole AES blocks, wrong key,
        bad padding or not UTF-8.
    """
    try:
        data = base64.b64decode(ciphertext, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise EnKashCryptoError("encrypted body is not valid standard base64") from None
    if not data or len(data) % 16:
        raise EnKashCryptoError(
            f"encrypted body is {len(data)} bytes, not a whole number of 16-byte AES blocks"
        )
    decryptor = _cipher(secret, key_derivation).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(_BLOCK_BITS).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
        return plain.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise EnKashCryptoError(
            "encrypted body did not decrypt (bad padding or not UTF-8): wrong client secret or key_derivation?"
        ) from None


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Amounts are validated to <= 2 dp and <= 1e7, i.e. < 15 significant digits, where
        # float's shortest repr round-trips exactly: the JSON number is the Decimal's digits.
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Answer fields that carry rupees (REFERENCE.md sections 9.6, 9.7, 9.10, 9.16).
AMOUNT_FIELDS = frozenset(
    {
        "amount", "loadAmount", "availableBalance", "availableCardBalance", "creditLimit", "dynamicLimit",
        "usedCreditLimit", "otbBalance", "balance", "principalAmount", "fcyAmount", "transactionFees",
        "perTxnLimit", "dtd", "mtd", "ytd", "posDailyLimit", "ecomDailyLimit", "contactLessDailyLimit",
        "totalAllocationPoint", "totalRedemptionPoint", "currentMonthAllocationPoint", "currentMonthRedemptionPoint",
    }
)  # fmt: skip


def _whole_amounts_as_decimal(obj: dict[str, Any]) -> dict[str, Any]:
    """JSON object hook: a whole-number amount (``898138``) becomes ``Decimal`` like a fractional one."""
    for key in AMOUNT_FIELDS.intersection(obj):
        if obj[key].__class__ is int:
            obj[key] = Decimal(obj[key])
    return obj


# Built once: json.dumps/json.loads with options build a new encoder/decoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_json_number)
_DECODER = json.JSONDecoder(parse_float=Decimal, object_hook=_whole_amounts_as_decimal)


def dumps_payload(payload: Any) -> str:
    """Serialise a payload the way EnKash's samples do (compact JSON, UTF-8, Decimal as a JSON number)."""
    return _ENCODER.encode(payload)


def loads_payload(text: str | bytes) -> Any:
    """Parse JSON with every fractional number, and every whole number under an amount field
    (:data:`AMOUNT_FIELDS`), as Decimal: money never passes through float, and an amount is always
    ``Decimal`` in the hook (and a string in XCom)."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode(json.detect_encoding(text), "surrogatepass")  # as json.loads does
    return _DECODER.decode(text)


def seal(payload: Any, secret: str, *, key_derivation: str = "sha256") -> dict[str, str]:
    """Return the wire envelope ``{"request": "<base64>"}`` for a JSON payload."""
    return {ENVELOPE_KEY: encrypt_text(dumps_payload(payload), secret, key_derivation=key_derivation)}


def sealed_body(payload: Any, secret: str, *, key_derivation: str = "sha256") -> bytes:
    """``dumps_payload(seal(...))`` as UTF-8 bytes, without serialising twice (base64 needs no JSON escaping)."""
    ciphertext = encrypt_text(dumps_payload(payload), secret, key_derivation=key_derivation)
    return f'{{"{ENVELOPE_KEY}":"{ciphertext}"}}'.encode("ascii")


def is_envelope(body: Any) -> bool:
    """True when ``body`` is an encrypted wrapper: one key, ``request`` or ``response``, holding a string."""
    return (
        isinstance(body, dict)
        and len(body) == 1
        and next(iter(body)) in (ENVELOPE_KEY, "response")
        and isinstance(next(iter(body.values())), str)
    )


def open_envelope(body: Any, secret: str, *, key_derivation: str = "sha256") -> Any:
    """Decrypt and parse an encrypted wrapper; return ``body`` unchanged when it is plaintext JSON."""
    if not is_envelope(body):
        return body
    text = decrypt_text(next(iter(body.values())), secret, key_derivation=key_derivation)
    try:
        return loads_payload(text)
    except ValueError:
        raise EnKashCryptoError("decrypted body is not JSON") from None


# A wrapper as EnKash and the sandbox send it: one key, then a string without escapes (base64 needs none).
_WRAPPER_HEAD = re.compile(rb'\s*\{\s*"(?:request|response)"\s*:\s*"')
_WRAPPER_TAIL = re.compile(rb'"\s*\}\s*')


def _wrapped_ciphertext(content: bytes) -> bytes | None:
    """The string of a ``{"response": "..."}`` wrapper, found without a regex over the whole (megabyte) body;
    None when the body is anything else (the base64 alphabet is checked when it is decoded)."""
    head = _WRAPPER_HEAD.match(content)
    if head is None:
        return None
    start, end = head.end(), content.rfind(b'"')
    if end < start or _WRAPPER_TAIL.fullmatch(content, end) is None:
        return None
    if content.find(b'"', start, end) != -1 or content.find(b"\\", start, end) != -1:
        return None  # a second string or a JSON escape: parse it as JSON
    return content[start:end]


def open_body(content: bytes, secret: str, *, key_derivation: str = "sha256") -> Any:
    """``open_envelope(loads_payload(content), ...)`` for a response body, without parsing the wrapper as JSON.

    :raises ValueError: the body is not JSON. :raises EnKashCryptoError: the wrapper did not decrypt.
    """
    ciphertext = _wrapped_ciphertext(content)
    if ciphertext is None:
        return open_envelope(loads_payload(content), secret, key_derivation=key_derivation)
    text = decrypt_text(ciphertext, secret, key_derivation=key_derivation)
    try:
        return loads_payload(text)
    except ValueError:
        raise EnKashCryptoError("decrypted body is not JSON") from None
