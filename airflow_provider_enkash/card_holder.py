"""Card-holder and delivery-address fields of Create Prepaid/Gift Card and Order Physical Card.

Callers pass snake_case keyword arguments; each maps to its API field and is
validated here, so an unknown or malformed field fails before any call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.request_models.validators import (
    PINCODE_RE,
    check_bool,
    check_email,
    check_mobile,
    check_pattern,
    check_special_date,
    require_id,
    require_text,
)
from airflow_provider_enkash.request_models.vocabularies import Gender, Title


def _text(api: str) -> Callable[[Any], Any]:
    return lambda value: require_text(value, field=api)


def _pincode(api: str) -> Callable[[Any], Any]:
    return lambda value: check_pattern(value, PINCODE_RE, field=api, rule="exactly 6 digits")


def _flag(api: str) -> Callable[[Any], Any]:
    return lambda value: check_bool(value, field=api)


def _documents(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise EnKashValidationError("documents", "must be a list of {docType, docNo} objects")
    docs = []
    for i, doc in enumerate(value):
        if not isinstance(doc, dict) or set(doc) != {"docType", "docNo"}:
            raise EnKashValidationError(f"documents[{i}]", "must be an object with exactly docType and docNo")
        docs.append(
            {
                "docType": require_id(doc["docType"], field=f"documents[{i}].docType"),
                "docNo": require_id(doc["docNo"], field=f"documents[{i}].docNo"),
            }
        )
    return docs


DELIVERY_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "physical_delivery_address_flag": ("physicalDeliveryAddressFlag", _flag("physicalDeliveryAddressFlag")),
    "delivery_address": ("deliveryAddress", _text("deliveryAddress")),
    "delivery_address2": ("deliveryAddress2", _text("deliveryAddress2")),
    "delivery_city": ("deliveryCity", _text("deliveryCity")),
    "delivery_state": ("deliveryState", _text("deliveryState")),
    "delivery_country": ("deliveryCountry", _text("deliveryCountry")),
    "delivery_pincode": ("deliveryPincode", _pincode("deliveryPincode")),
}

CARD_HOLDER_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "user_id": ("userId", lambda v: require_id(v, field="userId")),
    "email": ("email", check_email),
    "mobile": ("mobile", check_mobile),
    "title": ("title", lambda v: Title.parse(v, field="title")),
    "first_name": ("firstName", _text("firstName")),
    "middle_name": ("middleName", _text("middleName")),
    "last_name": ("lastName", _text("lastName")),
    "gender": ("gender", lambda v: Gender.parse(v, field="gender")),
    "address": ("address", _text("address")),
    "address2": ("address2", _text("address2")),
    "city": ("city", _text("city")),
    "state": ("state", _text("state")),
    "country": ("country", _text("country")),
    "pincode": ("pincode", _pincode("pincode")),
    "primary_enkash_card": ("primaryEnKashCard", _flag("primaryEnKashCard")),
    "physical_card": ("physicalCard", _flag("physicalCard")),
    "remarks": ("remarks", _text("remarks")),
    "documents": ("documents", _documents),
    "special_date": ("specialDate", check_special_date),
    **DELIVERY_FIELDS,
}


def map_fields(values: dict[str, Any], table: dict[str, tuple[str, Callable[[Any], Any]]]) -> dict[str, Any]:
    """Validate snake_case ``values`` against ``table`` and return them under their API names (None skipped)."""
    payload: dict[str, Any] = {}
    for name, value in values.items():
        if name not in table:
            raise EnKashValidationError(name, f"is not a known field; known: {', '.join(sorted(table))}")
        if value is None:
            continue
        api_name, validate = table[name]
        payload[api_name] = validate(value)
    return payload
