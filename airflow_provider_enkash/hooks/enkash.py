"""EnKashHook: the EnKash connection, its token, ``call()`` and one method per Prepaid Card operation.

The plumbing (settings, transport, retries, token cache, crypto) lives in the private
:mod:`airflow_provider_enkash._client` package; load settlement is the composed
:class:`~airflow_provider_enkash.hooks._loads.LoadSettlement`. Each operation method takes
keyword-only snake_case arguments, validates them before any network call
(``EnKashValidationError`` names the field) and goes through :meth:`EnKashHook.call`;
``company_id``/``card_account_id`` default from the connection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import requests
from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from airflow_provider_enkash._client.answers import matching_reference, otp_request_id_of, records_of
from airflow_provider_enkash._client.extras import settings_from_connection
from airflow_provider_enkash._client.operations import OPERATIONS, OperationKind
from airflow_provider_enkash._client.reader import ReferenceLookup, look_up_reference
from airflow_provider_enkash._client.request_fields import (
    account_fields,
    card_account_fields,
    otp_fields,
    usage_control_fields,
)
from airflow_provider_enkash._client.retry import ReadRetries
from airflow_provider_enkash._client.settings import DEFAULT_CONN_ID, EnKashSettings
from airflow_provider_enkash._client.timestamps import format_txn_date
from airflow_provider_enkash._client.token_cache import TOKEN_CACHE, TokenKey
from airflow_provider_enkash._client.token_grant import fetch_token, token_key
from airflow_provider_enkash._client.transport import (
    HTTPResponse,
    Secrets,
    TokenRejected,
    card_request,
    new_session,
    post,
    read_envelope,
)
from airflow_provider_enkash.card_data import mask_value, sensitive_values
from airflow_provider_enkash.card_holder import CARD_HOLDER_FIELDS, DELIVERY_FIELDS, map_fields
from airflow_provider_enkash.exceptions import EnKashAuthError, EnKashError, EnKashValidationError
from airflow_provider_enkash.hooks._loads import DEFAULT_LOAD_ATTEMPTS, LoadSettlement
from airflow_provider_enkash.models import (
    PIN_RE,
    AccountType,
    BlockCode,
    CardOtpAction,
    CardTransactionType,
    LoadResult,
    OtpMedium,
    amounts_as_decimal,
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
from airflow_provider_enkash.request_models.validators import positive_int, whole_count

DEFAULT_POOL_SIZE = 32


class EnKashHook(BaseHook):
    """Talks to the EnKash Prepaid Card API: token, AES envelope, retries by kind of call.

    Thread-safe: one hook (one ``requests.Session``, one cached token) may serve
    many threads. Nothing is read or fetched until the first call.

    :param enkash_conn_id: Airflow connection of type ``enkash`` (default ``enkash_default``).
    :param pool_size: HTTP connections kept open for concurrent calls (default 32).
    """

    conn_name_attr = "enkash_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "enkash"
    hook_name = "EnKash"

    def __init__(
        self, enkash_conn_id: str = default_conn_name, *, pool_size: int = DEFAULT_POOL_SIZE
    ) -> None:
        super().__init__()
        self.enkash_conn_id = enkash_conn_id
        self.pool_size = pool_size
        self._settings: EnKashSettings | None = None
        self._session: requests.Session | None = None
        self._read_retries: ReadRetries | None = None
        self._cache_key: TokenKey | None = None
        self._lock = threading.Lock()
        self._loads = LoadSettlement(self)

    @classmethod
    def from_connection(cls, conn: Any, *, pool_size: int = DEFAULT_POOL_SIZE) -> EnKashHook:
        """A hook over an already-resolved connection, its secrets masked."""
        return cls.from_settings(
            cls._masked(settings_from_connection(conn)), conn.conn_id, pool_size=pool_size
        )

    @classmethod
    def from_settings(
        cls, settings: EnKashSettings, conn_id: str | None, *, pool_size: int = DEFAULT_POOL_SIZE
    ) -> EnKashHook:
        """A hook over parsed settings whose secrets the caller has masked (the async client awaits that)."""
        hook = cls(enkash_conn_id=conn_id or cls.default_conn_name, pool_size=pool_size)
        hook._settings = settings
        return hook

    @staticmethod
    def _masked(settings: EnKashSettings) -> EnKashSettings:
        mask_secret(settings.password)
        mask_secret(settings.client_secret)
        return settings

    @property
    def settings(self) -> EnKashSettings:
        """The parsed connection, read on first use and cached."""
        if self._settings is None:
            with self._lock:
                if self._settings is None:
                    self._settings = self._masked(
                        settings_from_connection(self.get_connection(self.enkash_conn_id))
                    )
        return self._settings

    def get_conn(self) -> requests.Session:
        """The hook's ``requests.Session``, its pool sized for ``pool_size`` concurrent calls."""
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = new_session(base_url=self.settings.base_url, pool_size=self.pool_size)
        return self._session

    # -- token --------------------------------------------------------------------------------

    def _token_key(self) -> TokenKey:
        """The token cache key; computed once per hook (the settings do not change)."""
        if self._cache_key is None:
            self._cache_key = token_key(self.settings)
        return self._cache_key

    def _fetch_token(self) -> tuple[str, float]:
        access_token, expires_in = fetch_token(self.get_conn(), self.settings)
        mask_secret(access_token)
        return access_token, expires_in

    def get_token(self) -> str:
        """A valid bearer token from the process-wide cache (fetched once across threads)."""
        return TOKEN_CACHE.get(self._token_key(), self._fetch_token, leeway_s=self.settings.token_leeway_s)

    # -- calls --------------------------------------------------------------------------------

    def _with_account_defaults(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` with ``companyId``/``cardAccountId`` from the connection, where the operation documents them."""
        s = self.settings
        body = dict(payload)
        defaults = {"companyId": s.company_id, "cardAccountId": s.card_account_id}
        for field in OPERATIONS[operation].account_fields:
            default = defaults[field]
            if body.get(field) is None and default is not None:
                body[field] = default
        return body

    def prepare_call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The request fields of ``operation``: its name checked, account defaults filled in; no I/O."""
        if operation not in OPERATIONS:
            raise EnKashValidationError(
                "operation", f"{operation!r} is not one of {', '.join(sorted(OPERATIONS))}"
            )
        return self._with_account_defaults(operation, payload)

    def exchange_secrets(self, body: dict[str, Any], token: str) -> Secrets:
        """The secret values of one exchange, built only when an error text needs redacting (shared with the async client)."""
        s = self.settings

        def secrets() -> tuple[str | None, ...]:
            return (s.password, s.client_secret, token, *sensitive_values(body))

        return secrets

    def _exchange(self, operation: str, body: dict[str, Any], token: str) -> Any:
        s = self.settings
        secrets = self.exchange_secrets(body, token)
        url, content, headers = card_request(s, operation, body, token)
        response = post(
            self.get_conn(),
            url,
            body=content,
            headers=headers,
            timeout=(s.connect_timeout_s, s.read_timeout_s),
            verify=s.verify,
            operation=operation,
            secrets=secrets,
        )
        return self.open_response(response, operation, secrets)

    def open_response(self, response: HTTPResponse, operation: str, secrets: Secrets) -> Any:
        """The payload of a card call's answer: envelope opened, amounts as Decimal (shared with the async client)."""
        s = self.settings
        payload = read_envelope(
            response,
            secret=s.client_secret,
            key_derivation=s.key_derivation,
            operation=operation,
            secrets=secrets,
        )
        return amounts_as_decimal(payload)

    def _call_once(self, operation: str, body: dict[str, Any]) -> Any:
        """One exchange; a 401 drops the token, fetches a new one and retries exactly once (401 = not processed)."""
        token = self.get_token()
        try:
            return self._exchange(operation, body, token)
        except TokenRejected:
            TOKEN_CACHE.invalidate(self._token_key(), token)
            self.log.info(
                "EnKash rejected the access token on %s; fetching a new one and retrying once", operation
            )
        try:
            return self._exchange(operation, body, self.get_token())
        except TokenRejected as exc:
            raise EnKashAuthError(
                f"{operation}: a freshly issued token was rejected ({exc})", status=401
            ) from None

    def call(self, operation: str, payload: dict[str, Any]) -> Any:
        """Send ``payload`` to ``operation`` and return the response envelope's ``payload``.

        :param operation: an EnKash operation name, e.g. ``"load_card_balance"`` (see ``OPERATIONS``).
        :param payload: the plaintext request fields; ``companyId`` and ``cardAccountId`` default
            from the connection. Reads are retried on transport errors, 429 and 5xx; writes never.
        """
        body = self.prepare_call(operation, payload)
        if OPERATIONS[operation].kind is not OperationKind.READ:
            return self._call_once(operation, body)
        if self._read_retries is None:
            s = self.settings
            self._read_retries = ReadRetries(max_retries=s.max_retries, max_wait_s=s.max_retry_wait_s)
        return self._read_retries.run(lambda: self._call_once(operation, body))

    def test_connection(self) -> tuple[bool, str]:
        """The first two steps of ``enkash-probe``: one token call, then read the card account.

        :return: ``(ok, message)``; the message names what was found or what to check, never a secret.
        """
        from airflow_provider_enkash.probe import Probe

        try:
            report = Probe(self).run(full=False)
        except EnKashError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        prefix = "Connected to EnKash: " if report.works else "EnKash connection failed: "
        return report.works, prefix + "; ".join(report.lines)

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
            **account_fields(self.settings, company_id, card_account_id),
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
            **account_fields(self.settings, company_id, card_account_id),
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
            **account_fields(self.settings, company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
            "pinBlock": pin,
            "otpRequired": check_bool(otp_required, field="otpRequired"),
        }
        return self.call("set_card_pin", payload)

    def get_card_account_details(
        self, *, company_id: str | None = None, card_account_id: str | None = None
    ) -> Any:
        """Balances of a card account. ``POST /api/v0/partner/enKashCard/cardAccount/get``."""
        return self.call(
            "get_card_account_details", account_fields(self.settings, company_id, card_account_id)
        )

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
            **card_account_fields(self.settings, company_id, card_account_id),
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
            **account_fields(self.settings, company_id, card_account_id),
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
            **account_fields(self.settings, company_id, card_account_id),
            "enKashCardIds": check_id_list(enkash_card_ids, field="enKashCardIds"),
            **usage_control_fields(controls, clear),
        }
        return self.call("card_usage_controls", payload)

    def get_card_usage_limits(
        self, *, enkash_card_id: str, company_id: str | None = None, card_account_id: str | None = None
    ) -> Any:
        """A card's usage controls. ``POST /api/v0/partner/enKashCard/velocity/rule/get``."""
        payload = {
            **account_fields(self.settings, company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
        }
        return self.call("get_card_usage_limits", payload)

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
            **card_account_fields(self.settings, company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
            **otp_fields(
                otp_medium=otp_medium,
                otp_required=otp_required,
                otp_request_id=otp_request_id,
                otp=otp,
                mfa_code=mfa_code,
            ),
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
            **account_fields(self.settings, company_id, card_account_id),
            "enKashCardId": require_id(enkash_card_id, field="enKashCardId"),
            "blockCode": BlockCode.parse(block_code, field="blockCode"),
            "reason": optional_text(reason, field="reason"),
            "createdBy": optional_text(created_by, field="createdBy"),
            **otp_fields(
                otp_medium=otp_medium,
                otp_required=otp_required,
                otp_request_id=otp_request_id,
                otp=otp,
                mfa_code=mfa_code,
            ),
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
            **account_fields(self.settings, company_id, card_account_id),
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
            **account_fields(self.settings, company_id, card_account_id),
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
            **account_fields(self.settings, company_id, card_account_id),
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
        date_format = self.settings.request_date_format
        payload: dict[str, Any] = {
            **account_fields(self.settings, company_id, card_account_id),
            "txnDateFrom": None
            if txn_date_from is None
            else format_txn_date(txn_date_from, field="txnDateFrom", date_format=date_format),
            "txnDateTo": None
            if txn_date_to is None
            else format_txn_date(txn_date_to, field="txnDateTo", date_format=date_format),
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
            "page": None if page is None else whole_count(page, field="page"),
            "size": None if size is None else whole_count(size, field="size"),
        }
        return drop_none(payload)

    # -- loads --------------------------------------------------------------------------------

    def look_up_load(
        self,
        *,
        enkash_card_id: str,
        unique_reference_number: str,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> ReferenceLookup:
        """Found, absent or unknown: what EnKash's search proves about the load ``unique_reference_number``."""
        lookup = look_up_reference(
            self,
            reference=unique_reference_number,
            enkash_card_id=enkash_card_id,
            company_id=company_id,
            card_account_id=card_account_id,
        )
        if len(lookup.credits) > 1:
            self.log.warning(
                "Reference %s was applied %d times at EnKash (card %s)",
                unique_reference_number,
                len(lookup.credits),
                enkash_card_id,
            )
        return lookup

    def settle_found_load(self, lookup: ReferenceLookup, *, card_id: str, amount: Decimal) -> LoadResult:
        """The found credit as ``already_loaded``; raises when it is not a settled load of ``amount``."""
        return self._loads.settle_found(lookup, card_id=card_id, amount=amount)

    def load_card_balance(
        self,
        *,
        enkash_card_id: str,
        amount: Decimal | str | int,
        unique_reference_number: str,
        type: str = "LOAD_MONEY",  # noqa: A002 - the API's field name
        transaction_code: str | None = None,
        description: str | None = None,
        remarks: str | None = None,
        created_by: str | None = None,
        lookup_first: bool = False,
        resend_after_unknown: bool = False,
        max_attempts: int = DEFAULT_LOAD_ATTEMPTS,
        company_id: str | None = None,
        card_account_id: str | None = None,
    ) -> LoadResult:
        """Move ``amount`` rupees from the card account onto a card. ``POST /api/v0/partner/enKashCard/balance``.

        :param unique_reference_number: your reference for this business item (at most 64 characters);
            reuse it on every retry, it is how an unclear outcome is settled.
        :param type: the load ``type`` (default ``LOAD_MONEY``; EnKash's examples also use ``ALLOCATE_FUND``).
        :param lookup_first: look the reference up before sending; send only when the look-up proves
            it absent (an unknown look-up raises ``EnKashOutcomeUnknown``, nothing is sent).
        :param resend_after_unknown: this send repeats one whose outcome was unclear (after the quiet
            period): report it as ``resent_after_unknown``, never plain ``loaded``.
        :param max_attempts: sends at most (default 3); a resend happens only after attempts that never
            reached EnKash (429, connection refused, failed token call).
        :raises EnKashBusinessError: EnKash refused the load (nothing moved).
        :raises EnKashOutcomeUnknown: the load may or may not have happened; look up ``exc.reference``.
        :raises EnKashAmountMismatch: the reference exists at EnKash with another amount.
        :raises EnKashTransactionFailed: the reference exists at EnKash in a failure status.
        """
        account = account_fields(self.settings, company_id, card_account_id)
        card_id = require_id(enkash_card_id, field="enKashCardId")
        reference = require_text(
            unique_reference_number,
            field="uniqueReferenceNumber",
            max_length=self.settings.reference_max_length,
        )
        value = parse_amount(amount, field="amount", maximum=self.settings.max_load_amount)
        positive_int(max_attempts, field="max_attempts")
        payload = drop_none(
            {
                **account,
                "enKashCardId": card_id,
                "amount": value,
                "transactionType": CardTransactionType.CREDIT.value,
                "type": require_id(type, field="type"),
                "transactionCode": None
                if transaction_code is None
                else require_id(transaction_code, field="transactionCode"),
                "uniqueReferenceNumber": reference,
                "description": optional_text(description, field="description"),
                "remarks": optional_text(remarks, field="remarks"),
                "createdBy": optional_text(created_by, field="createdBy"),
            }
        )
        return self._loads.send(
            payload,
            lookup_first=lookup_first,
            resend_after_unknown=resend_after_unknown,
            max_attempts=max_attempts,
        )
