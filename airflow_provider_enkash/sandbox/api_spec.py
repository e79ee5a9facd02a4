"""The API as its documentation describes it: the vendored endpoint list and the request rules.

``endpoints.json`` beside this file holds paths, methods, documented fields and
documented required fields per operation, vendored from the API reference. The
sandbox takes its routes from here and never from the provider, so a wrong path
in the provider fails the wire tests instead of being mirrored. Operations whose
path is unpublished carry a placeholder path (``path_documented`` false).

Validation: a missing required field is HTTP 400, an invalid value HTTP 422; the
message is ``<field>: <problem>``. Optional fields that are null or empty are
ignored, and unknown fields are accepted (as a lenient JSON server would) unless
``strict_fields``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow_provider_enkash.sandbox import clock
from airflow_provider_enkash.sandbox.model import CONTROL_LIMITS, CONTROL_SWITCHES, to_paise

# -- the endpoint list ------------------------------------------------------------------------

ENDPOINTS_FILE = Path(__file__).with_name("endpoints.json")


@dataclass(frozen=True)
class Endpoint:
    """One documented operation: where it lives and which request fields the docs list."""

    name: str
    path: str
    method: str
    path_documented: bool
    required: tuple[str, ...]
    fields: tuple[str, ...]


def _load() -> tuple[str, dict[str, Endpoint]]:
    raw = json.loads(ENDPOINTS_FILE.read_text(encoding="utf-8"))
    endpoints = {
        name: Endpoint(
            name=name,
            path=spec["path"],
            method=spec["method"],
            path_documented=spec["path_documented"],
            required=tuple(spec["required"]),
            fields=tuple(spec["fields"]),
        )
        for name, spec in raw["operations"].items()
    }
    return raw["token"]["path"], endpoints


TOKEN_PATH, ENDPOINTS = _load()


# -- a malformed request ------------------------------------------------------------------------


class RequestInvalid(Exception):
    """The request is malformed: HTTP 400 (a required field is missing) or 422 (a value is invalid).

    :param status: 400 or 422.
    :param field: the API field at fault (``request`` for the body as a whole).
    :param problem: what is wrong, in words.
    """

    def __init__(self, status: int, field: str, problem: str) -> None:
        self.status = status
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


# -- request rules per operation --------------------------------------------------------------

Check = Callable[[Any], "str | None"]  # returns the problem, or None when the value is fine

ACCOUNT_TYPES = (
    "RELOADABLE_GPR",
    "CORPORATE",
    "GIFT",
    "MEAL",
    "FUEL",
    "VIRTUAL_ACCOUNT",
    "INVOICE_DISCOUNTING",
    "EMPLOYEE_REWARDS",
    "CHANNEL_INCENTIVE",
    "ENKASH_COIN",
    "PETTY_CASH",
    "FREEDOM_REWARDS",
    "PAYOUT",
    "E_RUPI_VOUCHER",
)
LOAD_TYPES = (
    "SALE",
    "REPAYMENT",
    "RECOVERY",
    "LOAD_MONEY",
    "REFUND",
    "REVERSAL",
    "CREDIT",
    "FEE",
    "ALLOCATE_FUND",
    "ALLOCATE_POINT",
    "UNALLOCATE_POINT",
)
MAX_TEXT = 255


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    return None if len(value) <= MAX_TEXT else f"is longer than {MAX_TEXT} characters"


def _pattern(regex: str, rule: str) -> Check:
    compiled = re.compile(regex, re.ASCII)  # \d means 0-9, as in Java: no Arabic-Indic or full-width digits
    return lambda v: None if isinstance(v, str) and compiled.fullmatch(v) else f"{v!r} does not match {rule}"


def _enum(*allowed: str, rule: str | None = None) -> Check:
    return lambda v: (
        None if v in allowed else f"{v!r} is not allowed; {rule or 'one of ' + ', '.join(allowed)}"
    )


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"{value!r} must be true or false"


def _amount(minimum_paise: int) -> Check:
    def check(value: Any) -> str | None:
        try:
            paise = to_paise(value)
        except ValueError as exc:
            return str(exc)
        if paise < minimum_paise:
            return f"{value!r} must be {'greater than 0' if minimum_paise else 'at least 0'}"
        return None

    return check


def _whole(minimum: int) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            return f"{value!r} must be a whole number >= {minimum}"
        return None

    return check


def _text_list(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, list) or not all(_text(v) is None for v in value):
            return "must be a list of non-empty strings"
        return None if low <= len(value) <= high else f"has {len(value)} items; allowed {low} to {high}"

    return check


_REQUEST_DATES = {  # request_date_format -> (pattern, example); "any" takes every ISO-8601 date-time
    "millis": (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"), "2025-01-24T08:47:01.505Z"),
    "seconds": (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"), "2025-01-24T08:47:01Z"),
}


def _iso(value: Any, date_format: str = "any") -> str | None:
    pattern, example = _REQUEST_DATES.get(date_format, (None, "2025-01-24T08:47:01.505Z"))
    try:
        if pattern is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
            raise ValueError(value)
        clock.parse_iso(value)
    except (ValueError, AttributeError):
        return f"{value!r} is not a date-time like {example}"
    return None


def _id_or_list(value: Any) -> str | None:
    """``enKashCardIds``: a list of 1 to 100 ids, or one id as a string (the newer page's example)."""
    return _text(value) if isinstance(value, str) else _text_list(1, 100)(value)


def _special_date(value: Any) -> str | None:
    try:
        if not re.fullmatch(
            r"[0-9]{2}-[0-9]{2}-[0-9]{4}", value
        ):  # strptime takes "2-9-2001" and non-ASCII digits
            raise ValueError
        datetime.strptime(value, "%d-%m-%Y")
    except (TypeError, ValueError):
        return f"{value!r} is not a date in dd-MM-yyyy format"
    return None


def _documents(value: Any) -> str | None:
    ok = isinstance(value, list) and all(
        isinstance(d, dict) and _text(d.get("docType")) is None and _text(d.get("docNo")) is None
        for d in value
    )
    return None if ok else "must be a list of {docType, docNo} objects"


COMPANY_ID = _pattern(r"^CEK[A-Z0-9]{7}$", "CEK + 7 upper-case letters or digits")
MOBILE = _pattern(r"^\d{10}$", "^\\d{10}$ (exactly 10 digits)")
EMAIL = _pattern(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$", "an e-mail address")
PINCODE = _pattern(r"^\d{6}$", "6 digits")
OTP_MEDIUM = _enum("MOBILE", "MFA")
AMOUNT = _amount(1)
LIMIT = _amount(0)


def _optional(check: Check, *names: str) -> tuple[tuple[str, bool, Check], ...]:
    return tuple((name, False, check) for name in names)


_ACCOUNT = (("companyId", True, COMPANY_ID), ("cardAccountId", True, _text))
_CARD = (*_ACCOUNT, ("enKashCardId", True, _text))
_DELIVERY = (
    ("physicalDeliveryAddressFlag", False, _boolean),
    *_optional(
        _text, "deliveryAddress", "deliveryAddress2", "deliveryCity", "deliveryState", "deliveryCountry"
    ),
    ("deliveryPincode", False, PINCODE),
)
_HOLDER = (
    *_optional(
        _text, "userId", "firstName", "middleName", "lastName", "address", "address2", "city", "state"
    ),
    *_optional(_text, "country", "remarks"),
    ("email", False, EMAIL),
    ("mobile", False, MOBILE),
    ("title", False, _enum("Mr", "Mrs", "Ms")),
    ("gender", False, _enum("M", "F", "O")),
    ("pincode", False, PINCODE),
    ("specialDate", False, _special_date),
    ("documents", False, _documents),
    *_optional(_boolean, "primaryEnKashCard", "physicalCard"),
    *_DELIVERY,
)
_OTP = _optional(_text, "otpRequestId", "otp", "mfaCode")
_CONTROLS = (*_optional(_boolean, *CONTROL_SWITCHES, "adminUser"), *_optional(LIMIT, *CONTROL_LIMITS))
_SEARCH = (
    *_ACCOUNT,
    *_optional(_text, "enKashCardId", "userId", "status", "enKashTransactionId", "pgReferenceNumber"),
    *_optional(_text, "companyName", "cardHolderName"),
    *_optional(_text_list(0, 1000), "enKashTransactionIds", "pgReferenceNumbers"),
    ("cardTransactionType", False, _enum("DR", "CR")),
    *_optional(LIMIT, "amountFrom", "amountTo"),
    *_optional(_iso, "txnDateFrom", "txnDateTo"),
    ("page", False, _whole(0)),
    ("size", False, _whole(1)),
)

SCHEMAS: dict[str, tuple[tuple[str, bool, Check], ...]] = {
    "create_card_account": (
        ("companyId", True, COMPANY_ID),
        ("companyName", True, _text),
        ("userId", False, _text),
        ("planMasterId", True, _text),
        ("email", True, EMAIL),
        ("mobile", True, MOBILE),
        ("accountTitle", True, _text),
        ("accountType", True, _enum(*ACCOUNT_TYPES)),
    ),
    "create_prepaid_card": (*_ACCOUNT, *_HOLDER, ("loadAmount", False, AMOUNT)),
    "create_gift_card": (*_ACCOUNT, *_HOLDER, ("loadAmount", True, AMOUNT)),
    "set_card_pin": (
        *_CARD,
        ("pinBlock", True, _pattern(r"^\d{4,6}$", "4 to 6 digits")),
        ("otpRequired", True, _boolean),
    ),
    "load_card_balance": (
        ("companyId", False, COMPANY_ID),
        ("cardAccountId", False, _text),
        ("enKashCardId", True, _text),
        ("amount", True, AMOUNT),
        ("transactionType", True, _enum("CR", rule="must be CR (debits are not allowed on this call)")),
        ("type", False, _enum(*LOAD_TYPES)),
        ("transactionCode", False, _text),
        ("uniqueReferenceNumber", False, _text),
        ("description", False, _text),
        ("remarks", False, _text),
        ("createdBy", False, _text),
    ),
    "get_card_account_details": _ACCOUNT,
    "generate_card_otp": (
        ("companyId", False, COMPANY_ID),
        ("cardAccountId", True, _text),
        ("enKashCardId", True, _text),
        ("cardOtpAction", True, _text),  # the allowed values come from the config (card_otp_actions)
    ),
    "view_card_details": (*_CARD, *_OTP),
    "card_usage_controls": (*_ACCOUNT, ("enKashCardIds", True, _id_or_list), *_CONTROLS),
    "get_card_usage_limits": _CARD,
    "request_card_replacement": (
        ("companyId", False, COMPANY_ID),
        ("cardAccountId", False, _text),
        ("enKashCardId", True, _text),
        ("otpMedium", True, OTP_MEDIUM),
        ("otpRequired", True, _boolean),
        *_OTP,
    ),
    "block_card": (
        *_CARD,
        ("blockCode", True, _enum("L", "UL", "BL", "AP")),
        ("reason", False, _text),
        ("otpMedium", True, OTP_MEDIUM),
        ("otpRequired", False, _boolean),
        ("createdBy", False, _text),
        *_OTP,
    ),
    "order_physical_card": (*_CARD, *_DELIVERY),
    "get_card_details": (
        *_ACCOUNT,
        ("enKashCardId", False, _text),
        ("page", False, _whole(0)),
        ("size", False, _whole(1)),
    ),
    # the documented fields of Get Transaction Details (card and reference included) are required
    "get_transaction_details": tuple(
        (name, required or name in ENDPOINTS["get_transaction_details"].required, check)
        for name, required, check in _SEARCH
    ),
    "get_all_transactions": _SEARCH,
}


def validate(operation: str, body: Any, config: Any) -> None:
    """Raise :class:`RequestInvalid` for the first problem of ``body`` against ``operation``'s fields.

    :param config: the sandbox config: ``request_date_format``, ``card_otp_actions``, ``strict_fields``,
        ``details_without_card`` (Get Transaction Details checked as the search filter, card optional).
    """
    if not isinstance(body, dict):
        raise RequestInvalid(400, "request", "the decrypted body must be a JSON object")
    if config.strict_fields:
        undocumented = sorted(set(body) - set(ENDPOINTS[operation].fields))
        if undocumented:
            raise RequestInvalid(400, undocumented[0], f"is not a field of {operation}")
    for name in ("txnDateFrom", "txnDateTo"):
        if body.get(name) not in (None, "") and (problem := _iso(body[name], config.request_date_format)):
            raise RequestInvalid(422, name, problem)
    actions = [a.strip() for a in config.card_otp_actions.split(",")]
    if operation == "generate_card_otp" and body.get("cardOtpAction") not in (None, "", *actions):
        raise RequestInvalid(
            422, "cardOtpAction", f"{body['cardOtpAction']!r} is not one of {', '.join(actions)}"
        )
    lenient_details = operation == "get_transaction_details" and config.details_without_card
    for name, required, check in SCHEMAS["get_all_transactions" if lenient_details else operation]:
        value = body.get(name)
        if value is None or value == "":
            if required:
                raise RequestInvalid(400, name, "is required")
            continue
        problem = check(value)
        if problem:
            raise RequestInvalid(422, name, problem)
