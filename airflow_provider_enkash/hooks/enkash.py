"""EnKashHook: the EnKash connection, its token, ``call()`` and one method per Prepaid Card operation.

The plumbing (settings, transport, retries, token cache, crypto) lives in the private
:mod:`airflow_provider_enkash._client` package; load settlement is the composed
:class:`~airflow_provider_enkash.hooks._loads.LoadSettlement`. The card and account operations
are declared in :class:`~airflow_provider_enkash.hooks.card_operations.CardOperations`, the
transaction and load operations here. Each operation method takes keyword-only snake_case
arguments, validates them through its request model before any network call
(``EnKashValidationError`` names the field) and goes through :meth:`EnKashHook.call`;
``company_id``/``card_account_id`` default from the connection."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from airflow_provider_enkash import DEFAULT_CONN_ID
from airflow_provider_enkash._client.answers import matching_reference, records_of
from airflow_provider_enkash._client.card_calls import CardCalls
from airflow_provider_enkash._client.extras import settings_from_connection
from airflow_provider_enkash._client.reader import ReferenceLookup, look_up_reference
from airflow_provider_enkash._client.settings import EnKashSettings
from airflow_provider_enkash._client.sync_http import SyncHTTP
from airflow_provider_enkash._client.transport import HTTPResponse, Secrets
from airflow_provider_enkash.exceptions import EnKashError
from airflow_provider_enkash.hooks._loads import DEFAULT_LOAD_ATTEMPTS, LoadSettlement
from airflow_provider_enkash.hooks.card_operations import CardOperations
from airflow_provider_enkash.models import LoadResult
from airflow_provider_enkash.request_models import transactions
from airflow_provider_enkash.request_models.fields import RequestModel
from airflow_provider_enkash.request_models.validators import positive_int

DEFAULT_POOL_SIZE = 32


class EnKashHook(CardOperations, BaseHook):
    """Talks to the EnKash Prepaid Card API: token, AES envelope, retries by kind of call.

    Thread-safe: one hook (one pool of HTTP connections, one cached token) may serve
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
        self._http: SyncHTTP | None = None
        self._lock = threading.Lock()
        self._calls = CardCalls(self)
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

    def get_conn(self) -> SyncHTTP:
        """The hook's HTTP client (``urllib3`` pools sized for ``pool_size`` concurrent calls; no I/O here).

        Its proxy, TLS verification and timeouts come from the connection and the environment, once.
        """
        if self._http is None:
            with self._lock:
                if self._http is None:
                    s = self.settings
                    self._http = SyncHTTP(
                        base_url=s.base_url,
                        pool_size=self.pool_size,
                        verify=s.verify,
                        timeout=(s.connect_timeout_s, s.read_timeout_s),
                    )
        return self._http

    # -- token and calls (the call path is the composed ``_client.card_calls.CardCalls``) -------

    def get_token(self) -> str:
        """A valid bearer token from the process-wide cache (fetched once across threads)."""
        return self._calls.get_token()

    def _with_account_defaults(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` with ``companyId``/``cardAccountId`` from the connection, where the operation documents them."""
        return self._calls.with_account_defaults(operation, payload)

    def prepare_call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The request fields of ``operation``: its name checked, account defaults filled in; no I/O."""
        return self._calls.prepare(operation, payload)

    def exchange_secrets(self, body: dict[str, Any], token: str) -> Secrets:
        """The secret values of one exchange, for redacting error texts (shared with the async client)."""
        return self._calls.secrets(body, token)

    def open_response(self, response: HTTPResponse, operation: str, secrets: Secrets) -> Any:
        """The payload of a card call's answer: envelope opened, amounts as Decimal (shared with the async client)."""
        return self._calls.open_response(response, operation, secrets)

    def call(self, operation: str, payload: dict[str, Any]) -> Any:
        """Send ``payload`` to ``operation`` and return the response envelope's ``payload``.

        :param operation: an EnKash operation name, e.g. ``"load_card_balance"`` (see ``OPERATIONS``).
        :param payload: the plaintext request fields; ``companyId`` and ``cardAccountId`` default
            from the connection. Reads are retried on transport errors, 429 and 5xx; writes never.
        """
        return self._calls.call(operation, payload)

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

    # -- card operations (declared in ``hooks.card_operations.CardOperations``) ----------------

    def _request(self, model: type[RequestModel], **arguments: Any) -> Any:
        """Check the method's ``arguments`` through ``model`` (nothing sent when one is bad), then send."""
        return self.call(model.operation, model.build(self.settings, **arguments).payload())

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
        payload = transactions.GetTransactionDetails.build(
            self.settings,
            enkash_card_id=enkash_card_id,
            pg_reference_number=pg_reference_number,
            company_id=company_id,
            card_account_id=card_account_id,
        ).payload()
        answer = self.call("get_transaction_details", payload)
        return matching_reference(answer, payload, settings=self.settings)

    def get_all_transactions(self, **filters: Any) -> dict[str, Any]:
        """Search transactions. ``POST /api/v0/partner/enKashCard/transaction/all``.

        The API documents no pagination and may truncate large results: keep windows small
        (``txn_date_from``/``txn_date_to``, UTC, sent with milliseconds) or use the exporter,
        which bisects windows. ``page``/``size`` are sent only when given. The filters are the
        aliases of :class:`~airflow_provider_enkash.request_models.transactions.GetAllTransactions`.

        :return: ``{"recordsCount": int, "data": [transaction, ...]}``.
        """
        return records_of(
            self._request(transactions.GetAllTransactions, **filters), operation="get_all_transactions"
        )

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
        payload = transactions.LoadCardBalance.build(
            self.settings,
            enkash_card_id=enkash_card_id,
            amount=amount,
            unique_reference_number=unique_reference_number,
            type=type,
            transaction_code=transaction_code,
            description=description,
            remarks=remarks,
            created_by=created_by,
            company_id=company_id,
            card_account_id=card_account_id,
        ).payload()
        positive_int(max_attempts, field="max_attempts")
        return self._loads.send(
            payload,
            lookup_first=lookup_first,
            resend_after_unknown=resend_after_unknown,
            max_attempts=max_attempts,
        )
