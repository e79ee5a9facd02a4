"""One public method per EnKash Prepaid Card operation (mixed into ``EnKashHook``).

Each method takes keyword-only snake_case arguments, validates them before any
network call (``EnKashValidationError`` names the field) and goes through
``self.call``. ``company_id``/``card_account_id`` default from the connection.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_enkash.card_data import mask_value
from airflow_provider_enkash.card_holder import CARD_HOLDER_FIELDS, DELIVERY_FIELDS, map_fields
from airflow_provider_enkash.exceptions import (
    EnKashOutcomeUnknown,
    EnKashUnexpectedResponse,
    EnKashValidationError,
)
from airflow_provider_enkash.models import (
    PIN_RE,
    AccountType,
    BlockCode,
    CardOtpAction,
    CardTransactionType,
    OtpMedium,
    check_bool,
    check_company_id,
    check_email,
    check_id_list,
    check_mobile,
    check_secret_code,
    drop_none,
    optional_text,
    parse_amount,
    require_id,
    require_text,
)
from airflow_provider_enkash.transaction_reader import read_answer, reference_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from airflow_provider_enkash.connection import EnKashSettings

_LIMIT_FIELDS = {
    "per_txn_limit": "perTxnLimit",
    "dtd": "dtd",
    "mtd": "mtd",
    "ytd": "ytd",
    "pos_daily_limit": "posDailyLimit",
    "ecom_daily_limit": "ecomDailyLimit",
    "contact_less_daily_limit": "contactLessDailyLimit",
}
_COUNT_FIELDS = {
    "dtd_count": "dtdCount",
    "mtd_count": "mtdCount",
    "ytd_count": "ytdCount",
    "pos_daily_limit_count": "posDailyLimitCount",
    "ecom_daily_limit_count": "ecomDailyLimitCount",
    "contact_less_daily_limit_count": "contactLessDailyLimitCount",
}
_SWITCH_FIELDS = {
    "pos_allowed": "posAllowed",
    "online_allowed": "onlineAllowed",
    "contactless_allowed": "contactlessAllowed",
    "international_allowed": "internationalAllowed",
    "atm_allowed": "atmAllowed",
    "admin_user": "adminUser",
}


def format_txn_date(value: datetime | str, *, field: str, date_format: str = "millis") -> str:
    """``yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`` in UTC (``seconds``: without ``.SSS``) from an aware datetime or ISO string.

    :param date_format: ``millis`` (documented, default) or ``seconds``: the connection's ``request_date_format``.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise EnKashValidationError(field, f"{value!r} is not an ISO-8601 date-time") from None
    if not isinstance(value, datetime):
        raise EnKashValidationError(
            field, f"must be a datetime or ISO-8601 string, got {type(value).__name__}"
        )
    if value.tzinfo is None:
        raise EnKashValidationError(field, "must be timezone-aware (naive datetimes are ambiguous)")
    utc = value.astimezone(UTC)
    if date_format == "seconds":
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


_OTP_ID_RE = re.compile(r"[A-Za-z0-9_-]{4,64}")
_NOT_AN_OTP_ID = frozenset({"success", "ok", "sent", "true", "false", "null"})


def otp_request_id_of(payload: Any) -> str:
    """The OTP request id in Generate Card OTP's answer: ``{"otpRequestId": ...}`` or the bare string.

    :raises EnKashUnexpectedResponse: neither shape, or a string that is not id-shaped (4-64 ASCII
        letters, digits, ``-``, ``_``; not a status word such as ``Success``).
    """
    value = payload.get("otpRequestId") if isinstance(payload, dict) else payload
    if not isinstance(value, str) or not _OTP_ID_RE.fullmatch(value) or value.lower() in _NOT_AN_OTP_ID:
        shape = (
            type(value).__name__
            if not isinstance(value, str)
            else f"a {len(value)}-character string that is not id-shaped"
        )
        raise EnKashUnexpectedResponse(
            f"expected an OTP request id, got {shape}", operation="generate_card_otp"
        )
    return value


def records_of(payload: Any, *, operation: str, single_object_key: str | None = None) -> dict[str, Any]:
    """A list answer as ``{"recordsCount": int, "data": [dict, ...]}``.

    Accepted: ``{recordsCount, data: [...]}``, a bare list, ``null`` (no records) and, when
    ``single_object_key`` is given, one object carrying that key (Get Card Details' shape B).

    :raises EnKashUnexpectedResponse: any other shape (a string, a number, records that are not objects).
    """
    if payload is None:
        return {"recordsCount": 0, "data": []}
    if (
        isinstance(payload, dict)
        and "data" not in payload
        and single_object_key
        and single_object_key in payload
    ):
        return {"recordsCount": 1, "data": [payload]}
    data = payload.get("data") if isinstance(payload, dict) else payload
    if data is None and isinstance(payload, dict) and "recordsCount" in payload:
        data = []  # {"recordsCount": 0} without data: nothing matched
    if not isinstance(data, list) or not all(isinstance(record, dict) for record in data):
        raise EnKashUnexpectedResponse(
            f"expected a list of records or {{recordsCount, data: [...]}}, got {type(payload).__name__}"
            + (f" with data of type {type(data).__name__}" if isinstance(payload, dict) else ""),
            operation=operation,
        )
    count = payload.get("recordsCount") if isinstance(payload, dict) else None
    return {
        "recordsCount": count if isinstance(count, int) and not isinstance(count, bool) else len(data),
        "data": data,
    }


def matching_reference(
    answer: Any, payload: dict[str, Any], *, settings: EnKashSettings
) -> list[dict[str, Any]]:
    """The records of a reference search carrying the reference asked for, read as
    :func:`~airflow_provider_enkash.transaction_reader.read_answer` reads it (``reference_fields``,
    ``search_cap``).

    :raises EnKashOutcomeUnknown: the answer could hide the reference's records (truncated, filter
        ignored, rows without a reference field): an empty list would wrongly mean "not there".
    """
    result = records_of(answer, operation="get_transaction_details")
    reference = payload["pgReferenceNumber"]
    fields = settings.reference_fields
    lookup = read_answer(result, [reference], fields=fields, cap=settings.search_cap)[reference]
    if lookup.unknown:
        raise EnKashOutcomeUnknown(
            f"get_transaction_details: cannot tell whether reference {reference!r} is at EnKash: {lookup.reason}",
            reference=reference,
            operation="get_transaction_details",
        )
    return [r for r in result["data"] if reference_of(r, fields) == reference]


def _count(value: Any, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EnKashValidationError(field, f"must be a whole number >= 0, got {value!r}")
    return value


class CardApiMixin:
    """The typed API surface; the hook supplies ``call`` and ``settings``."""

    settings: EnKashSettings
    call: Callable[[str, dict[str, Any]], Any]

    # -- helpers ------------------------------------------------------------------------------

    def _account(self, company_id: str | None, card_account_id: str | None) -> dict[str, str]:
        """``companyId`` and ``cardAccountId``, from the arguments or the connection; both required."""
        company = company_id if company_id is not None else self.settings.company_id
        account = card_account_id if card_account_id is not None else self.settings.card_account_id
        if company is None:
            raise EnKashValidationError(
                "companyId", "is required: pass company_id or set the connection extra"
            )
        if account is None:
            raise EnKashValidationError(
                "cardAccountId", "is required: pass card_account_id or set the connection extra"
            )
        return {
            "companyId": check_company_id(company),
            "cardAccountId": require_id(account, field="cardAccountId"),
        }

    def _card_account(self, company_id: str | None, card_account_id: str | None) -> dict[str, str]:
        """``cardAccountId`` (argument or connection) for operations whose docs list no ``companyId``;
        ``companyId`` only when passed explicitly."""
        account = card_account_id if card_account_id is not None else self.settings.card_account_id
        if account is None:
            raise EnKashValidationError(
                "cardAccountId", "is required: pass card_account_id or set the connection extra"
            )
        fields = {"cardAccountId": require_id(account, field="cardAccountId")}
        return fields if company_id is None else {"companyId": check_company_id(company_id), **fields}

    # -- cards and accounts -------------------------------------------------------------------

    def create_card_account(
        self,
        *,
        company_name: str,
        plan_master_id: str,
        email: str,
        mobile: str,
        account_title: str,
        account_type: AccountType | str,
        user_id: str | None = None,
        company_id: str | None = None,
    ) -> Any:
        """Create a card account. ``POST /api/v0/partner/enKashCard/cardAccount/create``. Not resent on failure."""
        company = company_id if company_id is not None else self.settings.company_id
        payload = {
            "companyId": check_company_id(company),
            "companyName": require_text(company_name, field="companyName"),
            "userId": None if user_id is None else require_id(user_id, field="userId"),
            "planMasterId": require_id(plan_master_id, field="planMasterId"),
            "email": check_email(email),
            "mobile": check_mobile(mobile),
            "accountTitle": require_text(account_title, field="accountTitle"),
            "accountType": AccountType.parse(account_type, field="accountType"),
        }
        return self.call("create_card_account", drop_none(payload))

    def create_prepaid_card(
        self,
        *,
        load_amount: Decimal | str | int | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
        **card_holder: Any,
    ) -> Any:
        """Issue a reloadable prepaid card. ``POST /api/v0/partner/enKashCard``. Not resent on failure.

        :param load_amount: rupees loaded at issue (optional).
        :param card_holder: snake_case card-holder fields (``first_name``, ``mobile``, ``email``,
            ``title``, ``gender``, ``special_date`` dd-MM-yyyy, address and delivery fields, ...).
        """
        payload = {
            **self._account(company_id, card_account_id),
            **map_fields(card_holder, CARD_HOLDER_FIELDS),
        }
        if load_amount is not None:
            payload["loadAmount"] = parse_amount(load_amount, field="loadAmount")
        return self.call("create_prepaid_card", payload)

    def create_gift_card(
        self,
        *,
        load_amount: Decimal | str | int,
        company_id: str | None = None,
        card_account_id: str | None = None,
        **card_holder: Any,
    ) -> Any:
        """Issue a non-reloadable gift card (its account must be a GIFT account). ``POST /api/v0/partner/enKashCard``.

        :param load_amount: rupees on the card; required, gift cards cannot be loaded later.
        """
        payload = {
            **self._account(company_id, card_account_id),
            **map_fields(card_holder, CARD_HOLDER_FIELDS),
        }
        payload["loadAmount"] = parse_amount(load_amount, field="loadAmount")
        return self.call("create_gift_card", payload)

    def set_card_pin(
        self,
        *,
        enkash_card_id: str,
        pin: str,
        otp_required: bool = False,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Set a card's PIN (sent as ``pinBlock``). ``POST /api/v0/partner/enKashCard/setPin``.

        :param pin: 4 to 6 digits; masked in logs from the moment it arrives.
        """
        if isinstance(pin, str):
            mask_value(pin)
        if not isinstance(pin, str) or not PIN_RE.fullmatch(pin):
            raise EnKashValidationError("pinBlock", "must be a string of 4 to 6 digits")
        payload = {
            **self._account(company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
            "pinBlock": pin,
            "otpRequired": check_bool(otp_required, field="otpRequired"),
        }
        return self.call("set_card_pin", payload)

    def get_card_account_details(
        self, *, company_id: str | None = None, card_account_id: str | None = None
    ) -> Any:
        """Balances of a card account. ``POST /api/v0/partner/enKashCard/cardAccount/get``."""
        return self.call("get_card_account_details", self._account(company_id, card_account_id))

    def generate_card_otp(
        self,
        *,
        enkash_card_id: str,
        card_otp_action: CardOtpAction | str = CardOtpAction.TRANSACTION_OTP,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Send an OTP to the card holder. ``POST /api/v0/partner/enKashCard/otp``.

        :param card_otp_action: any identifier (default ``TRANSACTION_OTP``, the only value the docs show).
        :return: the answer's payload, ``{"otpRequestId": ...}`` or the id as a string; either way the
            id is checked to be id-shaped (``otp_request_id_of``).
        """
        action = card_otp_action.value if isinstance(card_otp_action, CardOtpAction) else card_otp_action
        payload = {
            **self._card_account(company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
            "cardOtpAction": require_id(action, field="cardOtpAction"),
        }
        answer = self.call("generate_card_otp", payload)
        otp_request_id_of(answer)
        return answer

    def view_card_details(
        self,
        *,
        enkash_card_id: str,
        otp_request_id: str | None = None,
        otp: str | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Full card data (PAN, CVV, expiry): never log it. Path not published; default placeholder
        ``/api/v0/partner/enKashCard/view-card-details`` (override with the ``paths`` extra)."""
        if otp is not None:
            mask_value(otp)
        payload = {
            **self._account(company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
            "otpRequestId": None
            if otp_request_id is None
            else require_id(otp_request_id, field="otpRequestId"),
            "otp": None if otp is None else check_secret_code(otp, field="otp"),
        }
        return self.call("view_card_details", drop_none(payload))

    def set_card_usage_controls(
        self,
        *,
        enkash_card_ids: list[str],
        clear: Iterable[str] = (),
        company_id: str | None = None,
        card_account_id: str | None = None,
        **controls: Any,
    ) -> Any:
        """Switches and limits for 1-100 cards. ``POST /api/v0/partner/enKashCard/velocity/rule``.

        :param controls: ``pos_allowed``, ``online_allowed``, ``contactless_allowed``,
            ``international_allowed``, ``atm_allowed``, ``admin_user`` (bool); amount limits in rupees
            ``per_txn_limit``, ``dtd``, ``mtd``, ``ytd``, ``pos_daily_limit``, ``ecom_daily_limit``,
            ``contact_less_daily_limit``; counts ``dtd_count``, ``mtd_count``, ``ytd_count``,
            ``pos_daily_limit_count``, ``ecom_daily_limit_count``, ``contact_less_daily_limit_count``.
            Limits take 0 and up; a control given as None is not sent.
        :param clear: limits and counts to send as JSON ``null`` (the API's "no limit"), e.g. ``["dtd"]``.
        """
        payload: dict[str, Any] = {
            **self._account(company_id, card_account_id),
            "enKashCardIds": check_id_list(enkash_card_ids, field="enKashCardIds"),
        }
        for name, value in controls.items():
            if value is None:
                continue
            if name in _SWITCH_FIELDS:
                payload[_SWITCH_FIELDS[name]] = check_bool(value, field=_SWITCH_FIELDS[name])
            elif name in _LIMIT_FIELDS:
                payload[_LIMIT_FIELDS[name]] = parse_amount(
                    value, field=_LIMIT_FIELDS[name], minimum=Decimal(0)
                )
            elif name in _COUNT_FIELDS:
                payload[_COUNT_FIELDS[name]] = _count(value, field=_COUNT_FIELDS[name])
            else:
                known = sorted({**_SWITCH_FIELDS, **_LIMIT_FIELDS, **_COUNT_FIELDS})
                raise EnKashValidationError(name, f"is not a usage control; known: {', '.join(known)}")
        clearable = {**_LIMIT_FIELDS, **_COUNT_FIELDS}
        for name in [clear] if isinstance(clear, str) else clear:
            if name not in clearable:
                raise EnKashValidationError(
                    "clear", f"{name!r} is not a limit; clearable: {', '.join(sorted(clearable))}"
                )
            if controls.get(name) is not None:
                raise EnKashValidationError(clearable[name], "is both given a value and listed in clear")
            payload[clearable[name]] = None
        return self.call("card_usage_controls", payload)

    def get_card_usage_limits(
        self, *, enkash_card_id: str, company_id: str | None = None, card_account_id: str | None = None
    ) -> Any:
        """A card's usage controls. ``POST /api/v0/partner/enKashCard/velocity/rule/get``."""
        payload = {
            **self._account(company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
        }
        return self.call("get_card_usage_limits", payload)

    def _otp_fields(
        self, otp_medium: Any, otp_required: Any, otp_request_id: Any, otp: Any, mfa_code: Any
    ) -> dict[str, Any]:
        if otp is not None:
            mask_value(str(otp))
        if mfa_code is not None:
            mask_value(str(mfa_code))
        fields = {
            "otpMedium": OtpMedium.parse(otp_medium, field="otpMedium"),
            "otpRequired": check_bool(otp_required, field="otpRequired"),
            "otpRequestId": None
            if otp_request_id is None
            else require_id(otp_request_id, field="otpRequestId"),
            "otp": None if otp is None else check_secret_code(otp, field="otp"),
            "mfaCode": None if mfa_code is None else check_secret_code(mfa_code, field="mfaCode"),
        }
        if fields["otpRequired"] and (fields["otpRequestId"] is None or fields["otp"] is None):
            raise EnKashValidationError(
                "otp", "otp_request_id and otp are required when otp_required is true"
            )
        return drop_none(fields)

    def request_card_replacement(
        self,
        *,
        enkash_card_id: str,
        otp_medium: OtpMedium | str = OtpMedium.MOBILE,
        otp_required: bool = False,
        otp_request_id: str | None = None,
        otp: str | None = None,
        mfa_code: str | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Replace a card. ``POST /api/v0/partner/enKashCard/replaceCard``. Not resent on failure."""
        payload = {
            **self._card_account(company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
            **self._otp_fields(otp_medium, otp_required, otp_request_id, otp, mfa_code),
        }
        return self.call("request_card_replacement", payload)

    def block_card(
        self,
        *,
        enkash_card_id: str,
        block_code: BlockCode | str,
        reason: str | None = None,
        otp_medium: OtpMedium | str = OtpMedium.MOBILE,
        otp_required: bool = False,
        otp_request_id: str | None = None,
        otp: str | None = None,
        mfa_code: str | None = None,
        created_by: str | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Lock (``L``), unlock (``UL``) or permanently block (``BL``) a card. ``POST /api/v0/partner/enKashCard/block``."""
        payload = {
            **self._account(company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
            "blockCode": BlockCode.parse(block_code, field="blockCode"),
            "reason": optional_text(reason, field="reason"),
            "createdBy": optional_text(created_by, field="createdBy"),
            **self._otp_fields(otp_medium, otp_required, otp_request_id, otp, mfa_code),
        }
        return self.call("block_card", drop_none(payload))

    def order_physical_card(
        self,
        *,
        enkash_card_id: str,
        company_id: str | None = None,
        card_account_id: str | None = None,
        **delivery: Any,
    ) -> Any:
        """Order a physical card for a virtual one. Path not published; default placeholder
        ``/api/v0/partner/enKashCard/order-physical-card`` (override with the ``paths`` extra).

        :param delivery: ``delivery_address``, ``delivery_address2``, ``delivery_city``, ``delivery_state``,
            ``delivery_country``, ``delivery_pincode`` (6 digits), ``physical_delivery_address_flag``.
        """
        payload = {
            **self._account(company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
            **map_fields(delivery, DELIVERY_FIELDS),
        }
        return self.call("order_physical_card", payload)

    def get_card_details(
        self,
        *,
        enkash_card_id: str | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> Any:
        """Cards of an account, or one card. ``POST /api/v0/partner/enKashCard/search``.

        :return: ``{"recordsCount": int, "data": [card, ...]}``, also when EnKash answers one card object.
        """
        payload = {
            **self._account(company_id, card_account_id),
            "enKashCardId": None
            if enkash_card_id is None
            else require_id(enkash_card_id, field="enKashCardId"),
        }
        answer = self.call("get_card_details", drop_none(payload))
        return records_of(answer, operation="get_card_details", single_object_key="enKashCardId")

    # -- transactions -------------------------------------------------------------------------

    def get_transaction_details(
        self,
        *,
        enkash_card_id: str,
        pg_reference_number: str,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Transactions of a card carrying a load reference. ``POST /api/v0/partner/enKashCard/transaction/all``.

        :param pg_reference_number: the ``uniqueReferenceNumber`` sent with the load.
        :return: the matching transaction records (empty when none).
        """
        payload = self.transaction_details_payload(
            enkash_card_id=enkash_card_id,
            pg_reference_number=pg_reference_number,
            company_id=company_id,
            card_account_id=card_account_id,
        )
        return matching_reference(
            self.call("get_transaction_details", payload), payload, settings=self.settings
        )

    def get_transaction_details_answer(
        self,
        *,
        enkash_card_id: str,
        pg_reference_number: str,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> dict[str, Any]:
        """The whole answer of Get Transaction Details, unfiltered: ``{"recordsCount": int, "data": [...]}``
        (what :mod:`~airflow_provider_enkash.transaction_reader` reads to tell absent from unknown)."""
        payload = self.transaction_details_payload(
            enkash_card_id=enkash_card_id,
            pg_reference_number=pg_reference_number,
            company_id=company_id,
            card_account_id=card_account_id,
        )
        return records_of(self.call("get_transaction_details", payload), operation="get_transaction_details")

    def transaction_details_payload(
        self,
        *,
        enkash_card_id: str,
        pg_reference_number: str,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> dict[str, Any]:
        """The checked request fields of :meth:`get_transaction_details` (shared with the async client)."""
        return {
            **self._account(company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
            "pgReferenceNumber": require_text(pg_reference_number, field="pgReferenceNumber"),
        }

    def get_all_transactions(self, **filters: Any) -> dict[str, Any]:
        """Search transactions. ``POST /api/v0/partner/enKashCard/transaction/all``.

        The API documents no pagination and may truncate large results: keep windows small
        (``txn_date_from``/``txn_date_to``, UTC, sent with milliseconds) or use the exporter,
        which bisects windows. ``page``/``size`` are sent only when given. The filters are the
        keyword arguments of :meth:`all_transactions_payload`.

        :return: ``{"recordsCount": int, "data": [transaction, ...]}``.
        """
        answer = self.call("get_all_transactions", self.all_transactions_payload(**filters))
        return records_of(answer, operation="get_all_transactions")

    def all_transactions_payload(
        self,
        *,
        txn_date_from: datetime | str | None = None,
        txn_date_to: datetime | str | None = None,
        enkash_card_id: str | None = None,
        user_id: str | None = None,
        status: str | None = None,
        card_transaction_type: CardTransactionType | str | None = None,
        enkash_transaction_ids: list[str] | None = None,
        pg_reference_numbers: list[str] | None = None,
        amount_from: Decimal | str | int | None = None,
        amount_to: Decimal | str | int | None = None,
        page: int | None = None,
        size: int | None = None,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> dict[str, Any]:
        """The checked request fields of :meth:`get_all_transactions` (shared with the async client)."""
        payload: dict[str, Any] = {
            **self._account(company_id, card_account_id),
            "txnDateFrom": None
            if txn_date_from is None
            else self._txn_date(txn_date_from, field="txnDateFrom"),
            "txnDateTo": None if txn_date_to is None else self._txn_date(txn_date_to, field="txnDateTo"),
            "enKashCardId": None
            if enkash_card_id is None
            else require_id(enkash_card_id, field="enKashCardId"),
            "userId": None if user_id is None else require_id(user_id, field="userId"),
            "status": None if status is None else require_id(status, field="status"),
            "cardTransactionType": None
            if card_transaction_type is None
            else CardTransactionType.parse(card_transaction_type, field="cardTransactionType"),
            "enKashTransactionIds": None
            if enkash_transaction_ids is None
            else check_id_list(enkash_transaction_ids, field="enKashTransactionIds", max_items=1000),
            "pgReferenceNumbers": None
            if pg_reference_numbers is None
            else [require_text(r, field="pgReferenceNumbers") for r in pg_reference_numbers],
            "amountFrom": None if amount_from is None else parse_amount(amount_from, field="amountFrom"),
            "amountTo": None if amount_to is None else parse_amount(amount_to, field="amountTo"),
            "page": None if page is None else _count(page, field="page"),
            "size": None if size is None else _count(size, field="size"),
        }
        return drop_none(payload)

    def _txn_date(self, value: datetime | str, *, field: str) -> str:
        return format_txn_date(value, field=field, date_format=self.settings.request_date_format)
