"""AES envelope: the reference's test vectors byte for byte, round trips, and secret-free failures."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_enkash.crypto import (
    decrypt_text,
    derive_key,
    dumps_payload,
    encrypt_text,
    open_envelope,
    seal,
)
from airflow_provider_enkash.exceptions import EnKashCryptoError

SECRET = "example-client-secret"
VECTORS = [
    (
        '{"companyId":"CEKEP5GSGP","cardAccountId":"CABFIPS"}',
        "1xjnREEnA/G5RHO3m6rVBQDMyauBdxLtIq75uqiofb+loxTZfbwpTD9XyxSa1dRHphpAyC2FLX9cn7Tb7ls5Zg==",
    ),
    (
        '{"code":0,"message":"Success","payload":"Success"}',
        "va+UgaBn4Xlzvia9Y0D4V2mFL4t1iDhKHZIuvwvgJKSQIynHvLAocCesALR+VCVjaqMG51KtvDWpmQamweg0lw==",
    ),
]


def test_derived_key_matches_reference():
    assert derive_key(SECRET).hex() == "ebeb00567df7cb6b061d997adf7d409b"


@pytest.mark.parametrize(("plaintext", "ciphertext"), VECTORS)
def test_reference_vectors_encrypt_and_decrypt(plaintext, ciphertext):
    assert encrypt_text(plaintext, SECRET) == ciphertext
    assert decrypt_text(ciphertext, SECRET) == plaintext


def test_seal_serialises_like_the_reference():
    payload = {"companyId": "CEKEP5GSGP", "cardAccountId": "CABFIPS"}
    assert seal(payload, SECRET) == {"request": VECTORS[0][1]}


def test_decimal_amounts_are_json_numbers_with_exact_digits():
    assert (
        dumps_payload({"amount": Decimal("1234567.89"), "n": Decimal("10")}) == '{"amount":1234567.89,"n":10}'
    )


def test_open_envelope_parses_money_as_decimal_and_passes_plaintext_through():
    sealed = seal({"code": 0, "payload": {"otbBalance": Decimal("10.10")}}, SECRET)
    assert open_envelope(sealed, SECRET)["payload"]["otbBalance"] == Decimal("10.10")
    assert open_envelope({"code": 0, "payload": "x"}, SECRET) == {"code": 0, "payload": "x"}


@pytest.mark.parametrize(
    ("derivation", "secret", "key_hex"),
    [
        ("sha1", SECRET, None),
        ("raw", "0123456789abcdef", b"0123456789abcdef".hex()),
    ],
)
def test_alternative_key_derivations_round_trip(derivation, secret, key_hex):
    if key_hex:
        assert derive_key(secret, derivation).hex() == key_hex
    token = encrypt_text('{"a":1}', secret, key_derivation=derivation)
    assert token != encrypt_text('{"a":1}', secret)
    assert decrypt_text(token, secret, key_derivation=derivation) == '{"a":1}'


def test_raw_derivation_needs_sixteen_bytes():
    with pytest.raises(EnKashCryptoError, match="16-byte"):
        derive_key("short", "raw")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(payload=st.dictionaries(st.text(), json_values, max_size=6), secret=st.text(min_size=1, max_size=50))
def test_any_unicode_json_round_trips(payload, secret):
    sealed = seal(payload, secret)
    assert json.loads(decrypt_text(sealed["request"], secret)) == payload
    assert open_envelope(sealed, secret) == payload


def _bad_inputs():
    good = VECTORS[0][1]
    raw = base64.b64decode(good)
    flipped_last_block = raw[:-1] + bytes([raw[-1] ^ 0x55])
    return {
        "not base64": "this is not base64!!",
        "truncated": good[:20],
        "not whole blocks": base64.b64encode(raw[:-3]).decode(),
        "corrupted padding": base64.b64encode(flipped_last_block).decode(),
        "empty": "",
    }


@pytest.mark.parametrize("case", sorted(_bad_inputs()))
def test_bad_ciphertext_raises_typed_error_without_secrets(case):
    with pytest.raises(EnKashCryptoError) as info:
        decrypt_text(_bad_inputs()[case], SECRET)
    message = str(info.value)
    assert SECRET not in message
    assert derive_key(SECRET).hex() not in message
    assert "companyId" not in message and "CEKEP5GSGP" not in message


def test_wrong_secret_is_a_crypto_error_not_garbage():
    with pytest.raises(EnKashCryptoError) as info:
        open_envelope({"request": VECTORS[0][1]}, "another-secret")
    assert "another-secret" not in str(info.value)


@pytest.mark.parametrize(
    "body",
    [
        b'{"response":"%s"}',  # as EnKash and the sandbox send it: read without a JSON parse
        b' \n{ "response" :\t"%s" }\n',
        b'{"request":"%s"}',
    ],
)
def test_a_response_body_opens_like_its_parsed_envelope(body):
    from airflow_provider_enkash._client.crypto import open_body

    ciphertext = VECTORS[1][1].encode()
    content = body % ciphertext
    assert (
        open_body(content, SECRET) == open_envelope(json.loads(content), SECRET) == json.loads(VECTORS[1][0])
    )


def test_a_response_body_the_quick_reader_declines_is_parsed_as_json():
    """JSON escapes in the string (``\\/``), a second key, or plaintext: the full JSON path, same answers."""
    from airflow_provider_enkash._client.crypto import open_body

    escaped = b'{"response":"%s"}' % VECTORS[0][1].replace("/", "\\/").encode()
    assert b"\\/" in escaped
    assert open_body(escaped, SECRET) == json.loads(VECTORS[0][0])
    plaintext = b'{"code":0,"message":"Success","payload":"a \\"quoted\\" word"}'
    assert open_body(plaintext, SECRET) == json.loads(plaintext)
    two_keys = b'{"response":"%s","extra":"x"}' % VECTORS[1][1].encode()
    assert open_body(two_keys, SECRET) == json.loads(two_keys)  # not an envelope: passed through as it is
    with pytest.raises(EnKashCryptoError, match="base64"):
        open_body(b'{"response":"not-base64!"}', SECRET)
    with pytest.raises(ValueError):
        open_body(b'{"response":"%s"} trailing' % VECTORS[1][1].encode(), SECRET)
