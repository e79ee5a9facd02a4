"""A client written only from REFERENCE.md (its own AES code, no provider imports) works against the sandbox."""

from __future__ import annotations

import base64
import hashlib
import json

import requests
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SECRET = "sandbox-client-secret"


def _key(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()[:16]  # REFERENCE.md 4.3 step 2


def encrypt(obj: dict, secret: str = SECRET) -> str:
    padder = padding.PKCS7(128).padder()
    data = padder.update(json.dumps(obj, separators=(",", ":")).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_key(secret)), modes.ECB()).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def decrypt(text: str, secret: str = SECRET) -> dict:
    decryptor = Cipher(algorithms.AES(_key(secret)), modes.ECB()).decryptor()
    padded = decryptor.update(base64.b64decode(text)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return json.loads(unpadder.update(padded) + unpadder.finalize())


def test_reference_vector():
    plain = {"companyId": "CEKEP5GSGP", "cardAccountId": "CABFIPS"}
    assert encrypt(plain, "example-client-secret") == (
        "1xjnREEnA/G5RHO3m6rVBQDMyauBdxLtIq75uqiofb+loxTZfbwpTD9XyxSa1dRHphpAyC2FLX9cn7Tb7ls5Zg=="
    )


def test_token_create_card_load_and_search_by_reference(sandbox, sandbox_server):
    base = sandbox_server.url
    token = requests.post(
        f"{base}/oauth/token",
        data={
            "username": "9999999999",
            "password": "sandbox-password",
            "grant_type": "password",
            "clientId": "CEKSANDBOX",
        },
        auth=("CEKSANDBOX", SECRET),
        timeout=10,
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "partnerId": "CRSANDBOX",
        "Content-Type": "application/json",
    }
    account = {"companyId": "CEKSANDBOX", "cardAccountId": "CASANDBOX1"}

    def call(path: str, body: dict) -> dict:
        response = requests.post(
            f"{base}/api/v0/partner/enKashCard{path}",
            json={"request": encrypt(body)},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        envelope = decrypt(response.json()["request"])
        assert envelope["code"] == 0, envelope
        return envelope["payload"]

    card = call("", {**account, "firstName": "Ref", "mobile": "9000000000"})["enKashCardId"]
    load = {
        **account,
        "enKashCardId": card,
        "amount": 10,
        "transactionType": "CR",
        "uniqueReferenceNumber": "REF-DOC-1",
    }
    loaded = call("/balance", {**load, "type": "LOAD_MONEY", "transactionCode": "PRINCIPLE"})
    assert loaded["pgReferenceNumber"] == "REF-DOC-1" and loaded["otbBalance"] == 10
    found = call("/transaction/all", {**account, "enKashCardId": card, "pgReferenceNumber": "REF-DOC-1"})
    assert found["recordsCount"] == 1
    assert found["data"][0]["enKashCardTransactionId"] == loaded["enkashCardTxnId"]
